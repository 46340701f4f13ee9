"""Term counts kept in the database (posts/termcounts.py): the header's and sidebar's category and
tag counts come from stored rows that every write marks stale in its own transaction and that a
refresh after its commit counts again; a reader never sees a stored count that differs from
the live one.

Most tests commit for real (transactional_db), so the refresh that follows a commit runs."""

from __future__ import annotations

import datetime as dt
import difflib
import io
import threading
from pathlib import Path

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.cache import watcher
from posts import termcounts
from posts.models import Category, Post, Tag, TermCount, TermCountState
from posts.tasks import term_counts_refresh
from posts.templatetags import blog
from tests.factories import CategoryFactory, PostFactory, TagFactory, UserFactory
from tests.test_backup_archive import wipe

UTC = dt.UTC
WXR = Path(__file__).parent / "data" / "wxr"


def live() -> set[tuple[str, int, int]]:
    """What the live statement counts now."""
    sql, params = termcounts.counts_sql(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(kind, pk, n) for kind, pk, n in cursor.fetchall()}


def stored() -> set[tuple[str, int, int]]:
    return set(TermCount.objects.values_list("taxonomy", "term_id", "posts"))


def current() -> bool:
    state = TermCountState.objects.filter(pk=1).first()
    return state is not None and termcounts._current(state, timezone.now())


def assert_stored_counts_are_live():
    assert current(), "the stored counts are not marked current"
    assert stored() == live()


POSTGRESQL_ONLY = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="PostgreSQL only: its plans, row locks and concurrent connections",
)


def chrome_rows() -> list[tuple]:
    return termcounts.chrome_rows(timezone.now(), blog.TAG_CLOUD_SIZE)


def shown(client) -> tuple[list[str], list[str]]:
    """The sidebar's categories and tag cloud as a reader sees them on the home page."""
    page = BeautifulSoup(client.get("/").content, "html.parser")
    return (
        [
            f"{li.a.get_text()} {li.select_one(':scope > .count').get_text()}"
            for li in page.select(".widget-categories li")
        ],
        [a.get_text(" ", strip=True) for a in page.select(".tag-cloud a[rel=tag]")],
    )


class unrefreshed:
    """Writes made inside do not reach the watcher, as migrations' (and psql's) do not: the
    triggers still mark the counts stale, but nothing refreshes them."""

    def __enter__(self):
        watcher.watcher.paused = True

    def __exit__(self, *exc):
        watcher.watcher.paused = False


@pytest.fixture
def site(transactional_db):
    author = UserFactory(username="amara")
    water = CategoryFactory(name="Water", slug="water")
    rural = CategoryFactory(name="Rural", slug="rural", parent=water)
    hygiene = CategoryFactory(name="Hygiene", slug="hygiene")
    pumps, kiosks = TagFactory(name="pumps", slug="pumps"), TagFactory(name="Kiosks", slug="kiosks")
    posts = [
        PostFactory(categories=[rural], tags=[pumps], authors=[author]),
        PostFactory(categories=[water, rural], tags=[pumps, kiosks], authors=[author]),
        PostFactory(categories=[hygiene], tags=[kiosks], authors=[author]),
    ]
    return {"author": author, "water": water, "rural": rural, "hygiene": hygiene, "pumps": pumps,
            "kiosks": kiosks, "posts": posts}  # fmt: skip


def test_every_kind_of_write_leaves_stored_counts_equal_to_the_live_ones(site):
    water, rural, hygiene, pumps, kiosks = (site[k] for k in ("water", "rural", "hygiene", "pumps", "kiosks"))
    first, second, third = site["posts"]
    assert_stored_counts_are_live()
    assert ("c", water.pk, 2) in stored() and ("t", pumps.pk, 2) in stored()

    draft = PostFactory(status=Post.Status.DRAFT, categories=[hygiene], tags=[pumps])
    assert_stored_counts_are_live()
    draft.status = Post.Status.PUBLISHED  # publishing
    draft.save()
    assert_stored_counts_are_live()
    assert ("c", hygiene.pk, 2) in stored()
    Post.objects.filter(pk=draft.pk).update(status=Post.Status.DRAFT)  # unpublishing, in bulk
    assert_stored_counts_are_live()
    assert ("c", hygiene.pk, 1) in stored()

    first.categories.set([hygiene])  # re-filing
    assert_stored_counts_are_live()
    assert ("c", rural.pk, 1) in stored() and ("c", hygiene.pk, 2) in stored()
    third.tags.add(pumps)  # re-tagging
    second.tags.remove(kiosks)
    assert_stored_counts_are_live()
    assert ("t", pumps.pk, 3) in stored() and ("t", kiosks.pk, 1) in stored()

    hygiene.parent = water  # re-parenting: water's subtree now holds all three posts
    hygiene.save()
    assert_stored_counts_are_live()
    assert ("c", water.pk, 3) in stored()
    rural.delete()  # deleting a category
    assert_stored_counts_are_live()
    third.delete()  # deleting a post
    assert_stored_counts_are_live()
    kiosks.delete()
    assert_stored_counts_are_live()
    assert stored() == {("c", water.pk, 2), ("c", hygiene.pk, 1), ("t", pumps.pk, 2)}

    with connection.cursor() as cursor:  # raw SQL through Django
        cursor.execute(f"UPDATE {Post._meta.db_table} SET is_page = %s WHERE id = %s", [True, first.pk])
    assert_stored_counts_are_live()
    assert stored() == {("c", water.pk, 1), ("t", pumps.pk, 1)}


def test_a_bulk_import_leaves_stored_counts_equal_to_the_live_ones(transactional_db):
    assert_stored_counts_are_live()
    call_command("import_wxr", str(WXR / "blog.xml"), "--no-media", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Post.objects.published().exists() and stored()
    assert_stored_counts_are_live()


def test_a_backup_restore_leaves_stored_counts_equal_to_the_live_ones(site, tmp_path):
    """The counts are not archived (derived data): the restore's own writes mark them stale and
    the refresh after its commit counts the restored posts."""
    path = tmp_path / "site.tar.gz"
    call_command("export_site", str(path), stdout=io.StringIO())
    before = stored()
    wipe()
    assert_stored_counts_are_live()
    assert stored() == set()
    call_command("import_site", str(path), stdout=io.StringIO())
    assert_stored_counts_are_live()
    assert stored() == before


def test_a_write_marks_the_counts_stale_in_its_own_transaction(site):
    assert current()
    with transaction.atomic():
        PostFactory(categories=[site["water"]])
        assert not current()  # the trigger, before the commit
    assert_stored_counts_are_live()  # refreshed after the commit


def test_writes_that_change_no_count_keep_the_counts_current(site):
    state = TermCountState.objects.get()
    Post.objects.filter(pk=site["posts"][0].pk).update(body="Edited.", title="Edited")
    assert TermCountState.objects.get().generation == state.generation


def test_between_a_commit_and_its_refresh_pages_show_live_counts(site, client, uncached_render):
    # Caches off: with the watcher paused nothing renews their content version either.
    assert shown(client) == (["Hygiene (1)", "Water (2)", "Rural (2)"], ["Kiosks", "pumps"])
    with unrefreshed():
        PostFactory(categories=[site["hygiene"]], tags=[site["pumps"]])
        site["kiosks"].delete()
    assert not current()
    assert shown(client) == (["Hygiene (2)", "Water (2)", "Rural (2)"], ["pumps"])
    assert termcounts.refresh()
    assert_stored_counts_are_live()
    assert shown(client) == (["Hygiene (2)", "Water (2)", "Rural (2)"], ["pumps"])


def test_a_scheduled_post_counts_once_it_is_due_with_no_write(site, client, uncached_render):
    when = timezone.now() + dt.timedelta(days=2)
    scheduled = PostFactory(published_at=when, categories=[site["hygiene"]], tags=[site["pumps"]])
    assert_stored_counts_are_live()
    assert TermCountState.objects.get().valid_until == when
    # The refresh asked the worker to count again at the publication time.
    task = DBTaskResult.objects.get(task_path__endswith="term_counts_refresh")
    assert task.run_after == when
    assert ("c", site["hygiene"].pk, 1) in stored()

    with time_machine.travel(when + dt.timedelta(minutes=1)):
        assert not current()  # no write, but the counts no longer hold
        assert shown(client)[0][0] == "Hygiene (2)"  # live
        term_counts_refresh.call()  # what the worker runs at that time
        assert_stored_counts_are_live()
        assert ("c", site["hygiene"].pk, 2) in stored() and ("t", site["pumps"].pk, 3) in stored()
        assert shown(client)[0][0] == "Hygiene (2)"  # stored
    assert scheduled.pk in Post.objects.values_list("pk", flat=True)


def test_counts_computed_later_are_not_used_for_an_earlier_time(site):
    """A reader whose clock is behind the refresh's (another server, a request that began just
    before it) counts live: a post may have gone live between the two."""
    state = TermCountState.objects.get()
    with time_machine.travel(state.computed_at - dt.timedelta(seconds=1)):
        assert not current()


@pytest.mark.parametrize(("language", "signed_in"), [("en", False), ("es", True)])
@pytest.mark.parametrize("stale", ["written", "scheduled post due"])
def test_the_chrome_is_byte_equal_from_stored_and_live_counts(
    site, client, settings, language, signed_in, stale
):
    settings.PAGE_CACHE = False
    settings.FRAGMENT_CACHE = False
    if stale == "scheduled post due":
        PostFactory(published_at=timezone.now() + dt.timedelta(hours=1), categories=[site["water"]])
    # Enough tags that the cloud has to choose, with ties on counts.
    extra = [TagFactory(name=f"extra {n:02d}", slug=f"extra-{n:02d}") for n in range(45)]
    site["posts"][0].tags.add(*extra[:30])
    site["posts"][1].tags.add(*extra[20:])
    post = site["posts"][1]
    if signed_in:
        client.force_login(site["author"])
    pages = ["/", post.get_absolute_url()]

    def chrome() -> list[str]:
        parts = []
        for url in pages:
            page = BeautifulSoup(client.get(url, HTTP_ACCEPT_LANGUAGE=language).content, "html.parser")
            for token in page.select("input[name=csrfmiddlewaretoken]"):  # masked anew per response
                token.decompose()
            parts += [str(page.select_one(".main-nav")), str(page.select_one("footer .widgets"))]
        return parts

    assert current()
    from_stored = chrome()
    if stale == "written":
        TermCountState.objects.update(generation=F("generation") + 1)  # as a trigger does
        assert not current()
        from_live = chrome()
    else:
        with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
            assert not current()
            from_live = chrome()
            # The due post is counted live: Water has one more.
            assert from_live != from_stored
            assert termcounts.refresh()
            from_stored = chrome()
    live_lines, stored_lines = "\n".join(from_live).splitlines(), "\n".join(from_stored).splitlines()
    assert from_live == from_stored, "\n".join(difflib.unified_diff(live_lines, stored_lines, lineterm=""))


def test_the_chrome_reads_one_statement_while_current_and_counts_live_in_a_second(site):
    """Current counts: one statement, without the live count in it (PostgreSQL would plan that
    count at every run). Stale: that statement says so, and the live count gives the same rows."""
    with CaptureQueriesContext(connections["default"]) as current_queries:
        fresh_rows = chrome_rows()
    (query,) = current_queries
    assert "RECURSIVE" not in query["sql"] and "posts_post_tags" not in query["sql"]
    assert fresh_rows and all(kind in ("c", "t") for kind, *_rest in fresh_rows)
    TermCountState.objects.update(generation=F("generation") + 1)
    with CaptureQueriesContext(connections["default"]) as stale_queries:
        assert chrome_rows() == fresh_rows
    assert len(stale_queries) == 2 and "RECURSIVE" in stale_queries[1]["sql"]


@POSTGRESQL_ONLY
def test_postgresql_reads_only_the_stored_counts_when_they_are_current(site):
    def scanned(sql, params) -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0][0]["Plan"]
        loops: dict[str, int] = {}

        def walk(node):
            if "Relation Name" in node:
                name = node["Relation Name"]
                loops[name] = loops.get(name, 0) + node["Actual Loops"]
            for child in node.get("Plans", []):
                walk(child)

        walk(plan)
        return loops

    sql, params, _alias = termcounts.stored_sql(timezone.now(), blog.TAG_CLOUD_SIZE)
    when_current = scanned(sql, params)
    assert not {"posts_post", "posts_post_categories", "posts_post_tags"} & set(when_current)
    assert when_current["posts_termcount"] > 0
    TermCountState.objects.update(generation=F("generation") + 1)
    assert scanned(sql, params).get("posts_termcount", 0) == 0  # stale: the stored rows are not read


@POSTGRESQL_ONLY
def test_a_refresh_waits_for_an_open_writer_and_counts_its_rows(site):
    """Two connections: a writer's transaction holds the state row (its trigger) until it
    commits; a refresh started meanwhile waits, then counts with the writer's rows."""
    hygiene = site["hygiene"]
    written, release, refreshed = threading.Event(), threading.Event(), []

    def writer():
        try:
            with transaction.atomic():
                Post.objects.get(pk=site["posts"][0].pk).categories.add(hygiene)
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    def refresher():
        try:
            refreshed.append(termcounts.refresh())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer)]
    threads[0].start()
    assert written.wait(10)
    threads.append(threading.Thread(target=refresher))
    threads[1].start()
    threads[1].join(0.5)
    assert threads[1].is_alive(), "the refresh did not wait for the writer's lock"
    release.set()
    for thread in threads:
        thread.join(10)
    assert refreshed == [True]
    assert_stored_counts_are_live()
    assert ("c", hygiene.pk, 2) in stored()


@POSTGRESQL_ONLY
def test_concurrent_writers_and_their_refreshes_end_with_the_live_counts(site):
    categories = [site["water"], site["hygiene"]]
    tags = [site["pumps"], site["kiosks"]]
    start = threading.Barrier(2)
    errors = []

    def writer(n: int):
        try:
            start.wait(10)
            for i in range(6):
                with transaction.atomic():
                    post = PostFactory(
                        authors=[site["author"]],
                        categories=[categories[(n + i) % 2]],
                        tags=[tags[i % 2]],
                        status=Post.Status.PUBLISHED if i % 3 else Post.Status.DRAFT,
                    )
                if i == 4:
                    post.delete()
        except Exception as error:  # noqa: BLE001 (reported by the test below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert_stored_counts_are_live()
    assert Post.objects.count() == 3 + 2 * 5


def test_counts_are_current_after_migrating_and_the_triggers_come_back(transactional_db):
    assert current()  # post_migrate counted (the test database's flush sends it too)
    if connection.vendor == "sqlite":
        # SQLite drops a table's triggers when a migration rebuilds the table; after migrating
        # they are put back.
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER posts_post_termcounts_insert")
        assert termcounts.install_triggers(connection)
    assert not termcounts.install_triggers(connection)  # all there: nothing to do
    PostFactory(categories=[CategoryFactory()])
    assert_stored_counts_are_live()
    assert ("c", Category.objects.get().pk, 1) in stored()
    assert Tag.objects.count() == 0


def test_without_a_state_row_readers_count_live_and_a_write_recreates_it(site):
    TermCountState.objects.all().delete()
    assert not current()
    assert chrome_rows()  # live
    with unrefreshed():
        PostFactory(categories=[site["water"]])
    assert TermCountState.objects.get().computed_generation == 0  # stale
    termcounts.refresh()
    assert_stored_counts_are_live()
