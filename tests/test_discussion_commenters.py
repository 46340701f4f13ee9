"""Less friction for commenters: "Remember me" (an opt-in cookie the form reads), an address
confirmed once is trusted in that browser (a signed cookie bound to the address), follow-ups for
replies only or the whole discussion, and the confirmed comment marked on the page with where it
stands (also with the page and fragment caches on)."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.test import Client
from django.utils import timezone

from comments import commenter
from comments.models import Comment
from posts.models import AuthorProfile

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


@pytest.fixture(autouse=True)
def _quiet(settings, post):
    settings.COMMENTS_FLOOD_SECONDS = 0
    settings.COMMENTS_CLOSE_AFTER_DAYS = 0  # the "expired" case travels a year ahead
    # Only the commenters' emails here; the author's have tests/test_notifications_authors.py.
    AuthorProfile.objects.filter(user__authorships__post=post).update(comment_notifications="none")


@pytest.fixture
def send(comment_form_data, django_capture_on_commit_callbacks, immediate_tasks):
    def post_as(client, post, **fields):
        data = comment_form_data(client, post, **fields)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/comments/post/", data)

    return post_as


def confirmation_links(address: str) -> list[str]:
    found = []
    for message in mail.outbox:
        if message.to == [address]:
            match = re.search(r"https?://\S+(/comments/confirm/\S+/)", message.body)
            if match:
                found.append(match.group(1))
    return found


def confirm(client, address, capture):
    [link] = confirmation_links(address)[-1:]
    with capture(execute=True):
        return client.get(link)


# --- Remember me -------------------------------------------------------------------------------------


def test_remember_me_keeps_name_email_and_website_in_a_cookie_only_when_asked(client, post, send):
    first = send(client, post, name="Ama", email="ama@example.net", url="https://ama.example/", remember="on")
    cookie = first.cookies[commenter.REMEMBER_COOKIE]
    assert json.loads(unquote(cookie.value)) == {
        "name": "Ama",
        "email": "ama@example.net",
        "url": "https://ama.example/",
    }
    assert not cookie["httponly"]  # the form's script reads it
    assert cookie["max-age"] == 365 * 24 * 3600 and cookie["samesite"] == "Lax"

    # The reply page (no JavaScript needed) fills the form from it.
    parent = Comment.objects.create(
        content_type=Comment.objects.get().content_type,
        object_pk=str(post.pk),
        site_id=1,
        user_name="Bo",
        user_email="bo@example.net",
        comment="Hi",
        is_public=True,
    )
    reply = soup(client.get(f"/comments/reply/{parent.pk}/"))
    assert reply.select_one("#id_name")["value"] == "Ama"
    assert reply.select_one("#id_email")["value"] == "ama@example.net"
    assert reply.select_one("#id_remember").has_attr("checked")

    # Not ticked next time: forgotten.
    second = send(client, post, name="Ama", email="ama@example.net", comment="Another thought.")
    assert second.cookies[commenter.REMEMBER_COOKIE].value == ""
    assert second.cookies[commenter.REMEMBER_COOKIE]["max-age"] == 0
    fresh = Client()
    assert soup(fresh.get(f"/comments/reply/{parent.pk}/")).select_one("#id_name").get("value") is None


def test_nothing_is_remembered_without_the_box(client, post, send):
    response = send(client, post, name="Ama", email="ama@example.net")
    assert commenter.REMEMBER_COOKIE not in response.cookies


# --- Trusted addresses ---------------------------------------------------------------------------------


def test_an_address_confirmed_in_this_browser_skips_confirmation_next_time(
    client, post, send, django_capture_on_commit_callbacks
):
    send(client, post, email="ama@example.net", comment="First, confirmed by email.")
    landed = confirm(client, "ama@example.net", django_capture_on_commit_callbacks)
    trust = landed.cookies[commenter.TRUST_COOKIE]
    assert trust["httponly"] and "ama@example.net" not in trust.value  # a keyed digest, not the address
    mail.outbox.clear()

    second = send(client, post, email="Ama@Example.net", comment="Second, straight to moderation.")
    comment = Comment.objects.get(comment="Second, straight to moderation.")
    assert comment.is_public and not comment.awaiting_confirmation
    assert second["Location"].endswith(f"#c{comment.pk}")
    assert confirmation_links("Ama@Example.net") == [] and mail.outbox == []

    # Moderation still applies: two links are held, without a confirmation email.
    held = send(client, post, email="ama@example.net", comment="See https://a.example and https://b.example")
    assert "/comments/posted/held/" in held["Location"]
    assert mail.outbox == []


@pytest.mark.parametrize(
    "case", ["another browser", "another address", "forged cookie", "expired", "spammer"]
)
def test_trust_needs_the_cookie_and_the_address(
    client, post, send, django_capture_on_commit_callbacks, time_machine, case
):
    send(client, post, email="ama@example.net", comment="Confirmed once.")
    confirm(client, "ama@example.net", django_capture_on_commit_callbacks)
    mail.outbox.clear()
    address = "ama@example.net"
    if case == "another browser":
        client = Client()
    elif case == "another address":
        address = "victim@example.net"
    elif case == "forged cookie":
        value = client.cookies[commenter.TRUST_COOKIE].value
        client.cookies[commenter.TRUST_COOKIE] = value[:-4] + "abcd"
    elif case == "expired":
        time_machine.move_to(timezone.now() + timezone.timedelta(days=366))
    elif case == "spammer":
        Comment.objects.filter(user_email="ama@example.net").update(is_spam=True, is_public=False)
    send(client, post, email=address, comment=f"Again ({case}).")
    comment = Comment.objects.get(comment=f"Again ({case}).")
    assert comment.awaiting_confirmation and not comment.is_public
    assert confirmation_links(address), [m.to for m in mail.outbox]


# --- Follow-up choice ------------------------------------------------------------------------------------


def test_follow_replies_to_my_comment_or_the_whole_discussion(client, post, send, make_comment):
    mine = make_comment(
        post,
        user_name="Ada",
        user_email="ada@example.net",
        followup=True,
        followup_scope="replies",
        comment="Ada's point",
    )
    make_comment(
        post,
        user_name="Bo",
        user_email="bo@example.net",
        followup=True,
        followup_scope="all",
        comment="Bo follows all",
    )
    other = make_comment(post, user_name="Cy", user_email="cy@example.net", comment="Cy's point")
    deep = make_comment(
        post, parent=mine, user_name="Di", user_email="di@example.net", comment="Di answers Ada"
    )
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("eve", "eve@example.org", first_name="Eve"))

    send(client, post, comment="About Cy's point", reply_to=str(other.pk))
    assert sorted(m.to[0] for m in mail.outbox) == ["bo@example.net"]
    mail.outbox.clear()
    send(client, post, comment="Deeper under Ada", reply_to=str(deep.pk))
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.net", "bo@example.net"]


def test_follow_up_choice_is_stored_from_the_form(client, post, send, django_capture_on_commit_callbacks):
    page = soup(client.get(post.get_absolute_url()))
    values = [i["value"] for i in page.select("#comment-form input[name=followup]")]
    assert values == ["", "replies", "all"]
    assert page.select_one("#comment-form fieldset.field-followup legend").get_text() == "Follow-up emails"
    send(client, post, email="ama@example.net", followup="replies", comment="Tell me about replies.")
    send(client, post, email="bo@example.net", followup="on", comment="The old checkbox.")
    assert list(Comment.objects.order_by("pk").values_list("followup", "followup_scope")) == [
        (True, "replies"),
        (True, "all"),
    ]
    assert send(client, post, email="cy@example.net", followup="sometimes").status_code == 400


# --- After confirming: the comment, marked, and where it stands --------------------------------------------


@pytest.mark.parametrize("caches", [False, True], ids=["no-cache", "page-and-fragment-cache"])
def test_after_confirming_the_reader_lands_on_their_comment(
    client, post, send, django_capture_on_commit_callbacks, settings, caches
):
    settings.PAGE_CACHE = settings.FRAGMENT_CACHE = caches
    client.get(post.get_absolute_url())  # a cached copy of the page exists before the comment
    send(client, post, email="ama@example.net", comment="Published after confirming.")
    landed = confirm(client, "ama@example.net", django_capture_on_commit_callbacks)
    comment = Comment.objects.get()
    assert urlsplit(landed["Location"]).fragment == f"c{comment.pk}"
    page = soup(client.get(landed["Location"]))
    note = page.select_one("#just-posted")
    assert note["data-state"] == "published" and "Your comment is published." in note.get_text()
    assert note.select_one("a")["href"] == f"#c{comment.pk}"
    assert page.select_one(f"li#c{comment.pk}")
    # Once only: the next visit is the plain page.
    assert soup(client.get(post.get_absolute_url())).select_one("#just-posted") is None


def test_a_held_comment_is_shown_to_its_author_alone_after_confirming(
    client, post, send, django_capture_on_commit_callbacks
):
    send(client, post, email="ama@example.net", comment="Links: https://a.example https://b.example")
    landed = confirm(client, "ama@example.net", django_capture_on_commit_callbacks)
    comment = Comment.objects.get()
    assert not comment.is_public
    assert landed["Location"] == f"{post.get_absolute_url()}#c{comment.pk}"
    page = soup(client.get(landed["Location"]))
    note = page.select_one("#just-posted")
    assert note["data-state"] == "held" and "awaiting moderation" in note.get_text()
    assert "https://a.example" in note.select_one(f"#c{comment.pk} .comment-body").get_text()
    assert soup(Client().get(post.get_absolute_url())).select_one(f"#c{comment.pk}") is None
