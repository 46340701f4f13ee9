"""{% url %} (core/templatetags/urls.py, a template builtin) gives reverse()'s answer, with the
argument-less names reversed once per URLconf, script prefix, current app and language."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_argumentless_names_follow_the_script_prefix_and_urlconf(settings):
    assert render("{% url 'posts:search' %}") == reverse("posts:search") == "/search/"
    set_script_prefix("/blog/")
    try:
        assert render("{% url 'posts:search' %}") == "/blog/search/"
    finally:
        set_script_prefix("/")
    assert render("{% url 'posts:search' %}") == "/search/"
    settings.ROOT_URLCONF = "tests.urls_mounted"
    assert render("{% url 'posts:search' %}") == "/journal/search/"


def test_arguments_and_as_var_behave_as_djangos_tag():
    assert render("{% url 'posts:tag' slug=s %}", s="wells") == "/tag/wells/"
    assert render("{% url 'posts:tag' slug=s %}", s="pumps") == "/tag/pumps/"
    assert render("{% url 'posts:search' as where %}[{{ where }}]") == "[/search/]"
    assert render("{% url 'no-such-name' as where %}[{{ where }}]") == "[]"
    with pytest.raises(NoReverseMatch):
        render("{% url 'no-such-name' %}")
    with pytest.raises(NoReverseMatch):  # still refused after the failure above: nothing kept
        render("{% url 'no-such-name' %}")


def test_the_name_may_come_from_a_variable():
    assert render("{% url name %}", name="posts:home") == "/"
    assert render("{% url name %}", name="posts:search") == "/search/"
