"""Integer ids too large for any column (issue "what real peers and real people hit", item 20).

`reply_to=99999999999999999999999`, `/comments/c/<huge>/` and `?c=<huge>` raised OverflowError
on SQLite (a 500). They name no comment, so they answer like any unknown id, on both databases:
404 for a page, 400 for a form. The fix is core/lookups.py (lookups through a relation keep
Django's integer range check); these tests go through the views a reader or a moderator reaches.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from comments.models import Comment

HUGE = "99999999999999999999999"  # beyond 64 bits
BIGINT_PLUS_ONE = str(2**63)


@pytest.fixture
def browser(db):
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("value", [HUGE, BIGINT_PLUS_ONE])
@pytest.mark.parametrize("url", ["/comments/c/{}/", "/comments/reply/{}/"])
def test_a_huge_comment_id_in_a_url_is_not_found(browser, post, make_comment, url, value):
    make_comment(post)
    assert browser.get(url.format(value)).status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/comments/sent/?c={}", "/comments/posted/?c={}", "/comments/flagged/?c={}", "/comments/deleted/?c={}"],
)
def test_a_huge_comment_id_in_a_query_answers_like_an_unknown_one(browser, post, make_comment, url):
    """xtd's and django_comments' confirmation pages: whatever they answer for an unknown id."""
    make_comment(post)
    unknown = browser.get(url.format(10**6))
    huge = browser.get(url.format(HUGE))
    assert huge.status_code == unknown.status_code < 500


def test_a_huge_reply_to_is_refused_with_400_and_nothing_stored(browser, post, comment_form_data):
    before = Comment.objects.count()
    data = comment_form_data(browser, post, reply_to=HUGE)
    response = browser.post("/comments/post/", data)
    assert response.status_code == 400
    assert "not part of this discussion" in response.content.decode()
    assert Comment.objects.count() == before


def test_a_huge_object_pk_is_refused_with_400(browser, post, comment_form_data):
    data = comment_form_data(browser, post)
    data["object_pk"] = HUGE
    assert browser.post("/comments/post/", data).status_code == 400


def test_a_moderator_action_on_a_huge_id_is_not_found(browser, post, make_comment):
    moderator = get_user_model().objects.create_user("mod", "mod@example.org", "pw-mod-12345")
    moderator.user_permissions.add(
        Permission.objects.get(codename="can_moderate", content_type__app_label="comments")
    )
    browser.force_login(moderator)
    make_comment(post)
    for url in (f"/comments/approve/{HUGE}/", f"/comments/delete/{HUGE}/"):
        assert browser.post(url).status_code == 404, url
