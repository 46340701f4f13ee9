"""A blank comment form drawn from its layout (comments/formhtml.py `comment_form_html`) is, byte
for byte, what drawing a CommentForm through its BoundFields gives (`form_fields_html`, the way
pages drew it before; tests/test_comment_form_render.py holds that one to the readable template).

The layout is built once per kind of form and reused, so each comparison draws a second form of
the same kind with every per-request value changed (post, clock, user, reply target, prefilled
values): a value frozen into the layout would show the first form's."""

from __future__ import annotations

import types

import django_comments.forms
import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import set_script_prefix
from django.utils import translation

from comments import formhtml
from comments.formhtml import BlankForm, comment_form_html, form_fields_html
from comments.forms import CommentForm
from tests.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]
NASTY = "<b>\"Ana\" & 'co'</b>"


@pytest.fixture
def clock(monkeypatch):
    """Set the clock the security timestamp and hash are made from."""

    def set_to(seconds: float) -> None:
        monkeypatch.setattr(django_comments.forms, "time", types.SimpleNamespace(time=lambda: seconds))

    set_to(1_765_000_000.0)
    return set_to


def the_old_way(post, *, user=None, initial=None, reply_to=None) -> str:
    """What pages drew until now: a CommentForm and its BoundFields."""
    return str(form_fields_html(CommentForm(post, user=user, initial=dict(initial or {})), reply_to))


def laid_out(post, *, user=None, initial=None, reply_to=None) -> str:
    """What post pages draw now: no form built."""
    return str(comment_form_html(BlankForm(post, user=user, initial=dict(initial or {})), reply_to))


def template_drawn(post, *, user=None, initial=None, reply_to=None) -> str:
    """The readable template, through Django's own widget templates, layout whitespace dropped."""
    form = CommentForm(post, user=user, initial=dict(initial or {}))
    html = render_to_string(
        "comments/_form_fields.html", {"form": form, "reply_to": reply_to}, RequestFactory().get("/")
    )
    return normalised(html)


def normalised(html: str) -> str:
    return "\n".join(line.strip() for line in str(html).splitlines() if line.strip())


def assert_same_twice(first: dict, second: dict, clock) -> tuple[str, str]:
    """Draw two forms of one kind, every value changed between them; each as the old way draws it.
    The second must come from the first's layout (else this would not test the reuse)."""
    formhtml._layouts.clear()
    clock(1_765_000_000.0)
    one = laid_out(**first)
    assert one == the_old_way(**first)
    assert normalised(one) == template_drawn(**first)
    kinds = len(formhtml._layouts)
    clock(1_765_003_333.0)
    two = laid_out(**second)
    assert two == the_old_way(**second)
    assert len(formhtml._layouts) == kinds, "the second form was laid out anew"
    assert one != two
    return one, two


def values(html: str) -> dict:
    page = BeautifulSoup(html, "html.parser")
    return {i["name"]: i.get("value") for i in page.select("input[type=hidden]")}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_readers_blank_form(post, clock, lang):
    other = PostFactory()
    with translation.override(lang):
        one, two = assert_same_twice({"post": post}, {"post": other}, clock)
    assert values(one)["object_pk"] == str(post.pk) and values(two)["object_pk"] == str(other.pk)
    assert values(one)["timestamp"] == "1765000000" and values(two)["timestamp"] == "1765003333"
    assert values(one)["security_hash"] != values(two)["security_hash"]
    assert 'name="remember"' in one and 'aria-describedby="id_comment_helptext"' in one


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_signed_in_users_blank_form(post, clock, lang):
    ana = UserFactory(first_name="Zoë", last_name=NASTY)
    bea = UserFactory(first_name="Bea", last_name="Ortiz")
    with translation.override(lang):
        one, two = assert_same_twice({"post": post, "user": ana}, {"post": post, "user": bea}, clock)
    assert "Zoë &lt;b&gt;&quot;Ana&quot;" in one and "Bea Ortiz" in two and "Zoë" not in two
    assert 'type="hidden" name="email"' in one and 'name="remember"' not in one


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_reply_form_filled_from_a_remembered_commenter(post, make_comment, clock, lang):
    """The reply page's form: the answered comment, and name, email and website from the cookie."""
    first = make_comment(post, user_name=NASTY)
    second = make_comment(post, user_name="Bo", comment="Another view.")
    remembered = {"name": NASTY, "email": "ana@example.net", "url": "https://ana.example/?a=1&b=2"}
    with translation.override(lang):
        one, two = assert_same_twice(
            {
                "post": post,
                "reply_to": first,
                "initial": {"reply_to": first.pk, **remembered, "remember": True},
            },
            {
                "post": post,
                "reply_to": second,
                "initial": {"reply_to": second.pk, "name": "Bo", "email": "bo@example.net", "remember": True},
            },
            clock,
        )
    assert values(one)["reply_to"] == str(first.pk) and values(two)["reply_to"] == str(second.pk)
    page = BeautifulSoup(one, "html.parser")
    assert page.select_one("#id_name")["value"] == NASTY
    assert page.select_one("#id_remember").has_attr("checked")
    assert page.select_one("#id_url")["value"] == "https://ana.example/?a=1&b=2"
    assert "&lt;b&gt;" in page.select_one("#reply-note").decode() and "Bo" in two
    assert BeautifulSoup(two, "html.parser").select_one("#id_url").get("value") is None


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("followup", [None, "", "replies", "all", "on", False])
def test_the_text_and_follow_up_choice_kept_after_an_expired_form(post, clock, lang, followup):
    """The fresh form a reader gets when theirs expired keeps what they typed (comments/views.py)."""
    typed = {"comment": "A <script>x</script> & a\nsecond line", "followup": followup, "reply_to": 0}
    retyped = {"comment": "Shorter.", "followup": followup, "name": "Cy", "reply_to": 0}
    with translation.override(lang):
        one, two = assert_same_twice(
            {"post": post, "initial": typed}, {"post": post, "initial": retyped}, clock
        )
    assert "A &lt;script&gt;x&lt;/script&gt; &amp; a\nsecond line</textarea>" in one
    assert ">\nShorter.</textarea>" in two
    checked = BeautifulSoup(one, "html.parser").select("input[name=followup][checked]")
    expected = {None: [""], "": [""], "replies": ["replies"], "all": ["all"]}.get(followup, [])
    assert [i["value"] for i in checked] == expected


def test_the_reply_pages_own_form_is_drawn_from_the_layout_too(post, make_comment, clock):
    """A view's blank CommentForm keeps its own security values and prefilled ones."""
    answered = make_comment(post, user_name="Bo")
    for user in (None, UserFactory(first_name="Ana")):
        initial = {"reply_to": answered.pk, "name": "Ana", "remember": True}
        form = CommentForm(post, user=user, initial=initial)
        clock(1_765_009_999.0)  # drawn later than it was made: the form's own timestamp is shown
        drawn = str(comment_form_html(form, answered))
        assert drawn == str(form_fields_html(form, answered))
        assert values(drawn)["timestamp"] == "1765000000"
        clock(1_765_000_000.0)


def test_a_form_with_errors_is_drawn_through_its_fields(post, clock):
    data = {**CommentForm(post).generate_security_data(), "name": NASTY, "email": "nope", "comment": " "}
    form = CommentForm(post, data=data)
    assert not form.is_valid()
    drawn = str(comment_form_html(form))
    render = render_to_string("comments/_form_fields.html", {"form": form}, RequestFactory().get("/"))
    assert normalised(drawn) == normalised(render)
    assert "has-error" in drawn and "&lt;b&gt;&quot;Ana&quot;" in drawn


def test_values_the_layout_cannot_take_are_drawn_through_the_form(post, clock):
    def called():
        return "Called"

    for unusual in (
        {"name": called},
        {"remember": "on"},
        {"remember": 0},
        {"remember": 1},
        {"honeypot": "x"},
    ):
        assert laid_out(post, initial=unusual) == the_old_way(post, initial=unusual)
    assert 'value="Called"' in laid_out(post, initial={"name": called})
    assert "checked" in laid_out(post, initial={"remember": 0}).split('name="remember"')[1][:40]


def test_follow_up_values_typed_by_anyone_share_one_layout(post, clock):
    """An expired form keeps the follow-up value that was posted, whatever it was: the layouts
    stay one per choice and one for none of them."""
    formhtml._layouts.clear()
    for typed in ("on", "x" * 30, "<b>", "ALL", "all ", "no"):
        assert laid_out(post, initial={"followup": typed}) == the_old_way(post, initial={"followup": typed})
    assert len(formhtml._layouts) == 1


def test_a_settings_change_lays_the_form_out_anew(post, clock, settings):
    assert "Up to 10,000 characters." in laid_out(post)
    settings.COMMENTS_MAX_CHARS = 2500
    html = laid_out(post)
    assert "Up to 2,500 characters." in html and html == the_old_way(post)


def test_post_pages_draw_the_form_only_while_comments_are_open(client, post, clock):
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    form = page.select_one("form#comment-form")
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    assert data["object_pk"] == str(post.pk) and form.select_one("input[name=csrfmiddlewaretoken]")
    posted = CommentForm(post, data={**data, "name": "Ana", "email": "ana@example.net", "comment": "Hi."})
    assert posted.is_valid(), posted.errors  # the page's security values check out

    post.allow_comments = False
    post.save()
    closed = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    assert closed.select_one("form#comment-form") is None and closed.select_one("p.closed")


OLD_OPENING = (
    "{% load i18n %}"
    '<form class="comment-form" id="comment-form" method="post" '
    "action=\"{% url 'comments:post' %}\" novalidate "
    "data-replying=\"{% blocktranslate with name='{name}' %}Replying to {{ name }}.{% endblocktranslate %}\">"
)


def test_the_forms_opening_tag_is_the_templates_in_every_language(settings):
    """templates/comments/_form.html drew it with {% url %} and {% blocktranslate %}."""
    drawn = {}
    for lang in LANGUAGES:
        with translation.override(lang):
            drawn[lang] = str(formhtml.form_opening_html())
            assert drawn[lang] == Template(OLD_OPENING).render(Context())
    assert len(set(drawn.values())) == len(LANGUAGES)  # each in its own language
    settings.FORCE_SCRIPT_NAME = "/blog/"
    set_script_prefix("/blog/")
    try:
        assert 'action="/blog/comments/post/"' in formhtml.form_opening_html()
    finally:
        set_script_prefix("/")
