"""The post list's status filter: a scheduled post is not yet published, and the filter says so by
the same publication rule as the site (posts.models.published_filter)."""

from __future__ import annotations

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from posts.models import Post
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def posts():
    now = timezone.now()
    PostFactory(title="A draft in progress", status=Post.Status.DRAFT, published_at=None)
    PostFactory(title="Waiting for review", status=Post.Status.REVIEW, published_at=None)
    PostFactory(title="Out next week", published_at=now + dt.timedelta(days=7))
    PostFactory(title="Out since Monday", published_at=now - dt.timedelta(days=2))


def listed(admin_client, state: str) -> set[str]:
    response = admin_client.get(f"/admin/posts/post/?state={state}")
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    return {
        link.get_text(strip=True) for link in page.select("#result_list tbody a") if link.get_text(strip=True)
    }


@pytest.mark.parametrize(
    "state, titles",
    [
        ("draft", {"A draft in progress"}),
        ("review", {"Waiting for review"}),
        ("scheduled", {"Out next week"}),
        ("published", {"Out since Monday"}),
    ],
)
def test_each_status_lists_only_its_posts(admin_client, posts, state, titles):
    assert listed(admin_client, state) == titles
