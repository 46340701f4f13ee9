"""Post permalinks written without reverse() (posts/permalinks.py) are exactly reverse()'s."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import timezone

from posts.models import Post

SLUGS = ["hand-pumps", "agua-y-saneamiento-ñandú", "eau-potable-été", "already%20quoted", "x", "a" * 200]


def reversed_url(post: Post) -> str:
    when = timezone.localtime(post.published_at)
    kwargs = {"year": f"{when.year:04d}", "month": f"{when.month:02d}", "day": f"{when.day:02d}"}
    return reverse("posts:detail", kwargs={**kwargs, "slug": post.slug})


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("prefix", ["/", "/blog/"])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Lima"])
def test_post_links_equal_reverse(slug, prefix, zone):
    """Across script prefixes, slugs reverse() quotes, and time zones where the local day is not
    UTC's (23:30 UTC is the next day in Kiritimati, the same day in Lima)."""
    post = Post(slug=slug, published_at=dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC))
    set_script_prefix(prefix)
    try:
        with timezone.override(zone):
            assert post.get_absolute_url() == reversed_url(post)
            assert post.get_absolute_url().startswith(prefix)
    finally:
        set_script_prefix("/")


def test_a_slug_the_pattern_refuses_still_fails_as_reverse_does():
    post = Post(slug="not/a/slug", published_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    with pytest.raises(NoReverseMatch):
        post.get_absolute_url()
    post.slug = "b" * 201  # longer than the converter takes
    with pytest.raises(NoReverseMatch):
        post.get_absolute_url()


def test_links_follow_a_changed_urlconf(settings):
    """The reversed shape is kept per URLconf: a site mounted under another path gets its own."""
    post = Post(slug="hand-pumps", published_at=dt.datetime(2026, 3, 14, 10, tzinfo=dt.UTC))
    assert post.get_absolute_url() == "/2026/03/14/hand-pumps/"
    settings.ROOT_URLCONF = "tests.urls_mounted"
    assert post.get_absolute_url() == "/journal/2026/03/14/hand-pumps/" == reversed_url(post)


def test_taxonomy_links_follow_the_script_prefix_and_urlconf(settings):
    """posts/chrome.py value_url keeps each pattern's reversed shape per URLconf and prefix."""
    from posts.chrome import slug_url

    assert slug_url("posts:tag")("agua-ñ") == reverse("posts:tag", kwargs={"slug": "agua-ñ"})
    set_script_prefix("/blog/")
    try:
        assert slug_url("posts:tag")("wells") == "/blog/tag/wells/"
    finally:
        set_script_prefix("/")
    settings.ROOT_URLCONF = "tests.urls_mounted"
    assert slug_url("posts:category")("pumps") == "/journal/category/pumps/"
