"""The comment form's two renderers agree: comments/formhtml.py (what pages use, for speed) and
templates/comments/_form_fields.html drawn through Django's own form templates (where the markup
can be read) give the same HTML, apart from indentation and blank lines: blank, after a failed
post (errors shown, values kept, escaped), replying, signed in; in English, Spanish and French."""

from __future__ import annotations

import types

import django_comments.forms
import pytest
from django.forms.renderers import DjangoTemplates
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from comments.formhtml import FormRenderer, form_fields_html
from comments.forms import CommentForm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "es", "fr"]
NASTY = "<b>\"Ana\" & 'co'</b>"


def normalised(html: str) -> str:
    """Each line without its indentation, blank lines dropped: the template's layout whitespace."""
    return "\n".join(line.strip() for line in str(html).splitlines() if line.strip())


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    """Both forms of a comparison carry the same security timestamp and hash."""
    monkeypatch.setattr(django_comments.forms, "time", types.SimpleNamespace(time=lambda: 1_765_000_000.0))


def both(make_form, *, reply_to=None, lang="en") -> tuple[str, str]:
    """(Python, templates): the same form built twice, drawn by each renderer."""
    with translation.override(lang):
        python = form_fields_html(make_form(FormRenderer()), reply_to)
        form = make_form(DjangoTemplates())
        request = RequestFactory().get("/")
        templates = render_to_string(
            "comments/_form_fields.html", {"form": form, "reply_to": reply_to}, request
        )
    return python, templates


def assert_same(make_form, **kwargs) -> str:
    python, templates = both(make_form, **kwargs)
    assert normalised(python) == normalised(templates)
    return python


@pytest.mark.parametrize("lang", LANGUAGES)
def test_blank_form_for_a_reader(post, lang):
    html = assert_same(lambda renderer: CommentForm(post, renderer=renderer), lang=lang)
    assert 'name="security_hash"' in html and 'type="radio"' in html and 'name="remember"' in html
    assert 'aria-describedby="id_comment_helptext"' in html and "&gt; " in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_failed_post_keeps_values_and_shows_errors(post, lang):
    data = {
        **CommentForm(post).generate_security_data(),
        "name": NASTY,
        "email": "not an email <x>",
        "url": "javascript:alert('x')",
        "comment": "   ",
        "followup": "replies",
        "remember": "on",
        "honeypot": "",
        "reply_to": "0",
    }

    def make(renderer):
        form = CommentForm(post, data=data, renderer=renderer)
        assert not form.is_valid()
        form.add_error(None, f"Something {NASTY} went wrong")
        return form

    html = assert_same(make, lang=lang)
    assert "has-error" in html and 'aria-invalid="true"' in html and "id_email_error" in html
    assert 'class="errorlist nonfield"' in html and "&lt;b&gt;&quot;Ana&quot;" in html
    assert 'value="replies"' in html and "checked" in html
    assert NASTY not in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_failed_post_with_text_kept(post, lang):
    text = "A comment with <script>alert(1)</script> & a\nsecond line"
    data = {**CommentForm(post).generate_security_data(), "name": "", "email": "", "comment": text}

    def make(renderer):
        form = CommentForm(post, data=data, renderer=renderer)
        assert not form.is_valid()
        return form

    html = assert_same(make, lang=lang)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a" in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_reply_form(post, make_comment, lang):
    answered = make_comment(post, user_name=NASTY)
    initial = {"reply_to": answered.pk, "name": "Bea", "followup": "all"}
    html = assert_same(
        lambda renderer: CommentForm(post, initial=initial, renderer=renderer), reply_to=answered, lang=lang
    )
    assert f'name="reply_to" value="{answered.pk}"' in html and "&lt;b&gt;" in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_signed_in_form(post, lang):
    user = UserFactory(username="reader", first_name="Zoë", last_name=NASTY, is_staff=False)
    html = assert_same(lambda renderer: CommentForm(post, user=user, renderer=renderer), lang=lang)
    assert 'class="signed-in"' in html and 'type="hidden" name="email"' in html
    assert 'name="remember"' not in html

    data = {**CommentForm(post).generate_security_data(), "comment": ""}

    def failed(renderer):
        form = CommentForm(post, data=data, user=user, renderer=renderer)
        assert not form.is_valid()
        return form

    assert "has-error" in assert_same(failed, lang=lang)


def test_the_renderer_draws_what_djangos_draws_field_by_field(post):
    """Each widget, label and error list, not only the page: byte for byte."""
    data = {**CommentForm(post).generate_security_data(), "name": NASTY, "email": "x", "followup": "zzz"}
    python, django = (CommentForm(post, data=data, renderer=r) for r in (FormRenderer(), DjangoTemplates()))
    python.is_valid(), django.is_valid()
    for name in python.fields:
        assert str(python[name]) == str(django[name]), name
        assert str(python[name].label_tag()) == str(django[name].label_tag()), name
        assert str(python[name].errors) == str(django[name].errors), name
    assert str(python.errors) == str(django.errors)  # a dict of lists: the default renderer's


def test_pages_use_the_python_renderer(client, post):
    assert isinstance(CommentForm(post).renderer, FormRenderer)
    html = client.get(post.get_absolute_url()).content.decode()
    assert 'id="comment-form"' in html and 'name="security_hash"' in html and 'class="privacy-note"' in html
