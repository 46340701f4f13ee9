"""core/prepared.py: querysets compiled once per process give the rows the ORM gives, with new
values on every call, and a builder that would run with a stale value is refused or caught."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Max, Q
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from core.prepared import Many, Shape, prepared, totals
from posts.models import Post
from tests.factories import CategoryFactory, PostFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def site():
    ana = UserFactory(username="ana", first_name="Ana")
    water = CategoryFactory(name="Water", slug="water")
    pumps = TagFactory(name="pumps", slug="pumps")
    posts = []
    for days, title in [(3, "Old"), (2, "Middle"), (1, "New"), (-1, "Scheduled")]:
        post = PostFactory(title=title, published_at=NOW - dt.timedelta(days=days), authors=[ana])
        post.categories.add(water)
        if title != "Middle":
            post.tags.add(pumps)
        posts.append(post)
    return posts


@prepared(now=dt.datetime, tag=str)
def _tagged(now, tag):
    return Post.objects.published(now).filter(tags__slug=tag).prefetch_related("categories").order_by("title")


@prepared(now=dt.datetime)
def _counted(now):
    return (
        Post.objects.published(now)
        .annotate(tagged=Count("tags"))
        .values_list("title", "tagged")
        .order_by("-published_at")
    )


def test_rows_are_the_orms_rows_with_each_calls_values(site):
    with CaptureQueriesContext(connection_for_posts()) as queries:
        rows = _tagged(now=NOW, tag="pumps")
    assert [p.title for p in rows] == ["New", "Old"]  # "Scheduled" is not due, "Middle" untagged
    assert [c.name for c in rows[0].categories.all()] == ["Water"]  # prefetched with them
    assert len(queries) == 2
    later = NOW + dt.timedelta(days=2)
    assert [p.title for p in _tagged(now=later, tag="pumps")] == ["New", "Old", "Scheduled"]
    assert _tagged(now=NOW, tag="nothing") == []
    assert _counted(now=NOW) == [("New", 1), ("Middle", 0), ("Old", 1)]
    assert _counted(now=later)[0] == ("Scheduled", 1)


def connection_for_posts():
    from django.db import connections, router

    return connections[router.db_for_read(Post)]


def test_one_compilation_serves_every_call(site, monkeypatch):
    _tagged(now=NOW, tag="pumps")
    compiled = dict(_tagged._compiled)
    assert compiled  # compiled for this database at first use
    with override_settings(PREPARED_QUERY_CHECK=False):
        calls = []
        monkeypatch.setattr(_tagged, "build", lambda **values: calls.append(values))
        assert [p.title for p in _tagged(now=NOW, tag="pumps")] == ["New", "Old"]
    assert calls == [] and _tagged._compiled == compiled


def test_a_value_read_from_outside_the_parameters_is_caught_by_the_check(site):
    outside = {"title": "Old"}

    @prepared(now=dt.datetime)
    def by_outside_title(now):
        return Post.objects.published(now).filter(title=outside["title"])

    assert [p.title for p in by_outside_title(now=NOW)] == ["Old"]
    outside["title"] = "New"
    with pytest.raises(AssertionError, match="a value its builder reads from outside"):
        by_outside_title(now=NOW)


def test_the_present_read_inside_the_builder_is_caught_by_the_check(site):
    @prepared(tag=str)
    def tagged_now(tag):
        return Post.objects.published().filter(tags__slug=tag)

    # Refused at compilation (the two builds compile two different times), or else caught by the check.
    with pytest.raises((ImproperlyConfigured, AssertionError)):
        tagged_now(tag="pumps")


@pytest.mark.parametrize(
    "build, why",
    [
        (lambda now, text: Post.objects.filter(title__icontains=text), "is not one of"),
        (lambda now, text: Post.objects.filter(published_at__year=now.year), "is not one of"),
        (
            lambda now, text: Post.objects.filter(Q(title=text) if now.year > 1901 else Q()),
            "depends on the values",
        ),
        (lambda now, text: Post.objects.filter(title=text), "never reach its SQL"),
    ],
    ids=["transformed", "year", "shape", "unused"],
)
def test_a_value_the_sql_does_not_carry_as_given_is_refused(site, build, why):
    query = prepared(now=dt.datetime, text=str)(build)
    with pytest.raises(ImproperlyConfigured, match=why):
        query(now=NOW, text="Old")


def test_calls_must_name_every_parameter_and_kinds_must_be_known():
    with pytest.raises(TypeError, match="takes"):
        _tagged(now=NOW)
    with pytest.raises(ImproperlyConfigured, match="no sample kind"):
        prepared(when=float)(lambda when: Post.objects.all())


def test_uuid_parameters(site):
    @prepared(group=uuid.UUID)
    def in_group(group):
        return Post.objects.filter(translation_group=group).values_list("title", flat=True)

    assert in_group(group=site[0].translation_group) == ["Old"]
    assert in_group(group=uuid.uuid4()) == []


@prepared(now=dt.datetime, start=Shape, stop=Shape)
def _page(now, start, stop):
    return Post.objects.published(now).order_by("-published_at")[start:stop]


@prepared(ids=Many(int))
def _titles(ids):
    return Post.objects.filter(pk__in=ids).order_by("pk").values_list("title", flat=True)


def test_a_shape_has_its_own_sql_and_a_sequence_its_own_length(site):
    old, middle, new, _scheduled = site
    assert [p.title for p in _page(now=NOW, start=0, stop=2)] == ["New", "Middle"]
    assert [p.title for p in _page(now=NOW, start=2, stop=4)] == ["Old"]
    assert _titles(ids=[old.pk, new.pk]) == ["Old", "New"]
    assert _titles(ids=[middle.pk, new.pk]) == ["Middle", "New"]
    assert _titles(ids=[middle.pk]) == ["Middle"]
    assert _titles(ids=[]) == []  # matches nothing: no query at all


def test_totals_are_one_row_even_over_no_rows(site):
    @prepared(now=dt.datetime)
    def counted(now):
        return totals(Post.objects.published(now), n=Count("pk"), newest=Max("published_at"))

    assert counted(now=NOW) == [(3, site[2].published_at)]
    assert counted(now=NOW - dt.timedelta(days=10)) == [(0, None)]
