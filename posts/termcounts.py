"""Term counts kept in the database: how many visible posts each category (with its descendants)
and each tag has, stored and maintained on writes, as WordPress keeps wp_term_taxonomy.count, so
that a cold page's header and sidebar need not count every visible post again.

Three parts:
- Marking. Database triggers (installed by migration 0016 and checked after every migrate) bump
  TermCountState.generation in the same transaction as every write to the tables the counts come
  from: posts (the columns the publication rule and the counts read), their category and tag
  links, categories and tags. Triggers, not signals or the write watcher, because they see every
  writer: the ORM, QuerySet.update(), bulk_create(), a backup restore, raw SQL, psql. They make
  all writers of those tables take the state row's lock until they commit: a blog has few.
- Refreshing. After such a transaction commits, `refresh()` counts again in a new transaction
  on the primary: it locks the state row, reads the generation, counts with the live statement
  (a later statement: under READ COMMITTED it sees every commit up to the lock), replaces the
  stored counts and records the generation and the time it counted for. The lock makes
  concurrent refreshes run one after the other, the last with complete data. Scheduled posts
  go live without a write, so the counts also say until when they hold (`valid_until`, the next
  publication), and the worker refreshes them then (posts.tasks.term_counts_refresh).
- Reading. `chrome_rows()` reads the stored counts (`stored_sql()`, a statement cheap to plan
  and to run) when the state row says they are current for this `now`; otherwise that
  statement gives one STALE row and the counts are counted live (`live_sql()`), a second
  statement. A reader therefore never sees a count the live statement would not give; it pays
  one round trip while the counts are current, which is nearly always, and two otherwise.

The visible posts are the publication rule, `Post.objects.published()`, compiled once per process
and database (core.prepared) and inlined: the rule is never written again here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading

from django.db import DatabaseError, connections, router, transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from core.prepared import prepared
from core.routers import PRIMARY, read_target
from posts.models import Category, Post, Tag, TermCount, TermCountState

# The tables the counts come from and, for posts, the columns that decide whether a post counts
# (the publication rule reads status and published_at; pages are left out). A write to one of
# them marks the counts stale in its own transaction; None: any write. A post's other columns
# (its body, excerpt, image variants) change no count.
WATCHED: dict[str, tuple[str, ...] | None] = {
    Post._meta.db_table: ("id", "status", "published_at", "is_page"),
    Post.categories.through._meta.db_table: None,
    Post.tags.through._meta.db_table: None,
    Category._meta.db_table: None,
    Tag._meta.db_table: None,
}
logger = logging.getLogger(__name__)
# A far future for the publication rule: the posts that it will show some day.
_END_OF_TIME = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


@prepared(now=dt.datetime)
def _visible_posts(now) -> QuerySet[Post]:
    """The posts the chrome counts: the publication rule's, but pages."""
    return Post.objects.published(now).filter(is_page=False).values("pk").order_by()


# --- Marking ------------------------------------------------------------------------------


def _bump_sql() -> str:
    """Bump the generation; create the state row, stale, if it is missing (a flushed database)."""
    state = TermCountState._meta.db_table
    return (
        f"INSERT INTO {state} (id, generation, computed_generation) VALUES (1, 1, 0) "
        f"ON CONFLICT (id) DO UPDATE SET generation = {state}.generation + 1"
    )


def _trigger_statements(vendor: str) -> list[str]:
    function = "posts_termcounts_stale"
    statements = []
    if vendor == "postgresql":
        statements.append(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_bump_sql()}; RETURN NULL; END $$"
        )
    for table, columns in WATCHED.items():
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        if vendor == "postgresql":  # once per statement, however many rows (a bulk import)
            statements.append(
                f"CREATE OR REPLACE TRIGGER {table}_termcounts AFTER INSERT OR DELETE OR TRUNCATE OR "
                f"{update} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
        else:  # SQLite: per row
            statements += [
                f"CREATE TRIGGER IF NOT EXISTS {table}_termcounts_{event.split()[0].lower()} "
                f"AFTER {event} ON {table} BEGIN {_bump_sql()}; END"
                for event in ("INSERT", "DELETE", update)
            ]
    return statements


def _installed_triggers(connection) -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE %s", ["%\\_termcounts"])
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s ESCAPE '\\'",
                ["%\\_termcounts\\_%"],
            )
        return cursor.fetchone()[0]


def install_triggers(connection) -> bool:
    """Create the marking triggers where any is missing (SQLite drops a table's triggers when a
    migration rebuilds the table); True if it created them. Other databases get none, and their
    counts are never current: readers count live."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    expected = len(WATCHED) * (1 if connection.vendor == "postgresql" else 3)
    if _installed_triggers(connection) == expected:
        return False
    with connection.cursor() as cursor:
        for sql in _trigger_statements(connection.vendor):
            cursor.execute(sql)
    return True


def after_migrate(*, using: str = PRIMARY, **_signal_kwargs) -> None:
    """post_migrate (posts): make sure the triggers exist, then count, so a deploy starts with
    current counts. Nothing to do before migration 0016 (migrated backwards)."""
    connection = connections[using]
    if not router.allow_migrate_model(using, TermCountState):
        return  # a replica: it has the primary's
    if TermCountState._meta.db_table not in connection.introspection.table_names():
        return
    install_triggers(connection)
    refresh(using=using)


# --- Refreshing ---------------------------------------------------------------------------


class _Owed(threading.local):
    aliases: frozenset[str] = frozenset()  # connections whose autocommit writes await a refresh


_owed = _Owed()


def refresh_after_commit(*, using: str) -> None:
    """A write named a table the counts come from (core.cache.watcher): refresh them once it has
    committed, once however many statements its transaction runs.

    In a transaction, that is on commit. An autocommit write is refreshed before the next
    statement on its connection or when the request ends (`refresh_owed`), not at once: the
    watcher sees the statement before its caller has read it (SQLite commits an INSERT …
    RETURNING only once its rows are read, and cannot commit another transaction before)."""
    connection = connections[using]
    if not connection.in_atomic_block:
        _owed.aliases |= {using}
    elif not any(entry[1] is _refresh_on_commit for entry in getattr(connection, "run_on_commit", [])):
        transaction.on_commit(_refresh_on_commit, using=using)


def refresh_owed(connection=None, **_signal_kwargs) -> None:
    """Refresh after this thread's autocommit writes, before `connection` runs its next statement
    (core.cache.watcher) or when the request ends (request_finished). Inside a transaction
    the refresh waits for its commit."""
    if not _owed.aliases:
        return
    if connection is not None and connection.alias not in _owed.aliases:
        return
    waiting = [using for using in _owed.aliases if connections[using].in_atomic_block]
    _owed.aliases = frozenset()
    for using in waiting:
        refresh_after_commit(using=using)
    if not waiting:
        _refresh_on_commit()


def _refresh_on_commit() -> None:
    _owed.aliases = frozenset()  # this refresh covers them, and must not recurse into itself
    try:
        refresh()
    except DatabaseError:
        # As on_commit(robust=True): the write has committed; stale counts are only slower.
        logger.exception("term counts: refresh failed; readers count live until the next one")


@contextlib.contextmanager
def _reading(alias: str):
    """The prepared visible-posts query compiled for `alias`, not a request's replica."""
    token = read_target.set(None)  # None: the router's primary
    try:
        yield
    finally:
        read_target.reset(token)


def refresh(*, using: str = PRIMARY) -> bool:
    """Count again and store the counts, unless they are current; True if it stored them.

    Runs in its own transaction on `using` (the primary): the state row's lock serializes
    concurrent refreshes and waits for any open transaction that marked the counts stale. When a
    scheduled post will change them, the worker is asked to refresh at its publication time."""
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    states = TermCountState.objects.using(using)
    with _reading(using), transaction.atomic(using=using):
        states.bulk_create([TermCountState(pk=1)], ignore_conflicts=True)
        state = states.select_for_update().get(pk=1)
        now = timezone.now()
        if _current(state, now):
            return False
        sql, params = counts_sql(now)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        valid_until = next_change(now, using=using)
        TermCount.objects.using(using).all().delete()
        TermCount.objects.using(using).bulk_create(
            TermCount(taxonomy=taxonomy, term_id=term_id, posts=posts) for taxonomy, term_id, posts in rows
        )
        states.filter(pk=1).update(
            computed_generation=state.generation, computed_at=now, valid_until=valid_until
        )
    if valid_until is not None and valid_until != state.valid_until:
        _refresh_at(valid_until)
    return True


def _current(state: TermCountState, now: dt.datetime) -> bool:
    """The stored counts are the live ones at `now` (stored_sql's test, in Python)."""
    return (
        state.generation == state.computed_generation
        and state.computed_at is not None
        and state.computed_at <= now
        and (state.valid_until is None or now < state.valid_until)
    )


def next_change(now: dt.datetime, *, using: str = PRIMARY) -> dt.datetime | None:
    """When the next post that the counts leave out at `now` becomes visible with no write: the
    earliest publication time after `now` among the posts the publication rule will show."""
    return (
        Post.objects.using(using)
        .published(_END_OF_TIME)
        .filter(is_page=False, published_at__gt=now)
        .aggregate(first=Min("published_at"))["first"]
    )


def _refresh_at(when: dt.datetime) -> None:
    from core.queue import enqueue_later  # app-loading order: tasks import the models
    from posts.tasks import term_counts_refresh

    with contextlib.suppress(DatabaseError):  # no task table: readers count live until a write
        enqueue_later(term_counts_refresh, when)


# --- The statements -----------------------------------------------------------------------


def _parts(alias: str) -> dict[str, str]:
    """The live statement's pieces, quoted for `alias`: the category subtrees, and the number of
    distinct visible posts per category subtree (root_id, n) and per tag (tag_id, n)."""
    quote = connections[alias].ops.quote_name
    category, filed, tagged = (
        quote(Category._meta.db_table),
        quote(Post.categories.through._meta.db_table),
        quote(Post.tags.through._meta.db_table),
    )
    return {
        "category": category,
        "tag": quote(Tag._meta.db_table),
        "stored": quote(TermCount._meta.db_table),
        "state": quote(TermCountState._meta.db_table),
        "subtree": f"""subtree (root_id, category_id) AS (
            SELECT id, id FROM {category}
            UNION
            SELECT subtree.root_id, child.id FROM {category} child
            JOIN subtree ON child.parent_id = subtree.category_id
        )""",
        "category_counts": f"""SELECT pairs.root_id, COUNT(*) AS n FROM (
                SELECT DISTINCT subtree.root_id, filed.post_id FROM subtree
                JOIN {filed} filed ON filed.category_id = subtree.category_id
                JOIN visible ON visible.id = filed.post_id
            ) pairs""",
        "tag_counts": f"""SELECT tagged.tag_id, COUNT(*) AS n FROM {tagged} tagged
                JOIN visible ON visible.id = tagged.post_id""",
    }


def counts_sql(now: dt.datetime) -> tuple[str, list]:
    """Every category's and tag's live count at `now`, (taxonomy, term id, n), for the database
    the router reads from: what refresh() stores. Terms without a visible post are left out:
    both counts join the m2m rows to the visible posts, so PostgreSQL reads post ids from the
    public lists' partial index (an index-only scan) and never sees them."""
    visible_sql, visible_params, alias = _visible_posts.sql(now=now)
    part = _parts(alias)
    sql = f"""
        WITH RECURSIVE {part["subtree"]}, visible (id) AS NOT MATERIALIZED ({visible_sql})
        SELECT '{TermCount.Taxonomy.CATEGORY}', counts.root_id, counts.n FROM (
            {part["category_counts"]} GROUP BY pairs.root_id
        ) counts
        UNION ALL
        SELECT '{TermCount.Taxonomy.TAG}', counted.tag_id, counted.n FROM (
            {part["tag_counts"]} GROUP BY tagged.tag_id
        ) counted
    """
    return sql, [*visible_params]


# The kind of the one row stored_sql() gives when the stored counts are not current.
STALE = "-"


def stored_sql(now: dt.datetime, tags: int) -> tuple[str, list, str]:
    """The header's and sidebar's statement from the stored counts, and the alias to run it on:
    every category with visible posts in its subtree, (c, id, parent_id, name, slug, n), and the
    `tags` most used tags, (t, id, None, name, slug, n), ordered by kind, name and id; or, when
    the state row does not say they are current at `now`, one row (STALE, None, …) alone, and the
    reader counts live (live_sql).

    Two statements rather than one whose stored and live branches are gated by the state row:
    PostgreSQL plans such a statement afresh at every run (its plan cache kept choosing custom
    plans), and planning the live branch's recursive count took about four times as long as
    reading the stored counts. This one has no recursion and few relations to plan; the live
    count is planned only when it runs. Names, slugs and parents are read live from their
    tables; the cloud's choice of tags (most posts first, then by name) is made here as in
    live_sql, so the rows are the same either way."""
    alias = router.db_for_read(TermCount)
    quote = connections[alias].ops.quote_name
    state, stored = quote(TermCountState._meta.db_table), quote(TermCount._meta.db_table)
    category, tag = quote(Category._meta.db_table), quote(Tag._meta.db_table)
    when = connections[alias].ops.adapt_datetimefield_value(now)
    cat_kind, tag_kind = TermCount.Taxonomy.CATEGORY, TermCount.Taxonomy.TAG
    sql = f"""
        WITH fresh (yes) AS (
            SELECT 1 FROM {state} WHERE id = 1 AND generation = computed_generation
            AND computed_at <= %s AND (valid_until IS NULL OR valid_until > %s)
        )
        SELECT '{STALE}', NULL, NULL, NULL, NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM fresh)
        UNION ALL
        SELECT '{cat_kind}', cat.id, cat.parent_id, cat.name, cat.slug, counts.posts FROM {category} cat
        JOIN {stored} counts ON counts.term_id = cat.id AND counts.taxonomy = '{cat_kind}'
        WHERE EXISTS (SELECT 1 FROM fresh)
        UNION ALL
        SELECT '{tag_kind}', pk, NULL, name, slug, n FROM (
            SELECT tag.id AS pk, tag.name, tag.slug, counted.posts AS n FROM {tag} tag
            JOIN {stored} counted ON counted.term_id = tag.id AND counted.taxonomy = '{tag_kind}'
            WHERE EXISTS (SELECT 1 FROM fresh)
            ORDER BY counted.posts DESC, tag.name
            LIMIT %s
        ) cloud
        ORDER BY 1, 4, 2
    """
    return sql, [when, when, tags], alias


def live_sql(now: dt.datetime, tags: int) -> tuple[str, list, str]:
    """The same rows as stored_sql's, counted live at `now` (for the database the router reads
    from), and the alias to run it on:
    - per category, the (category, visible post) pairs are paired with every ancestor through a
      recursive common table expression that pairs each category with itself and its
      descendants (UNION, not UNION ALL, so a broken cyclic parent link ends), made distinct per
      ancestor (a post filed under a category and its child counts once) and counted;
    - per tag, the tagged visible posts are counted before the tags' names are joined.
    The visible posts are inlined in both (NOT MATERIALIZED, so each part is planned as a plain
    join). PostgreSQL and SQLite."""
    visible_sql, visible_params, alias = _visible_posts.sql(now=now)
    part = _parts(alias)
    category, tag = part["category"], part["tag"]
    cat_kind, tag_kind = TermCount.Taxonomy.CATEGORY, TermCount.Taxonomy.TAG
    sql = f"""
        WITH RECURSIVE {part["subtree"]}, visible (id) AS NOT MATERIALIZED ({visible_sql})
        SELECT '{cat_kind}', cat.id, cat.parent_id, cat.name, cat.slug, counts.n FROM {category} cat
        JOIN ({part["category_counts"]} GROUP BY pairs.root_id) counts ON counts.root_id = cat.id
        UNION ALL
        SELECT '{tag_kind}', pk, NULL, name, slug, n FROM (
            SELECT tag.id AS pk, tag.name, tag.slug, counted.n FROM {tag} tag
            JOIN ({part["tag_counts"]} GROUP BY tagged.tag_id) counted ON counted.tag_id = tag.id
            ORDER BY counted.n DESC, tag.name
            LIMIT %s
        ) cloud
        ORDER BY 1, 4, 2
    """
    return sql, [*visible_params, tags], alias


def chrome_rows(now: dt.datetime, tags: int) -> list[tuple]:
    """The chrome's rows (stored_sql's shape): from the stored counts when they are current,
    else counted live, a second statement."""
    rows = _fetch(*stored_sql(now, tags))
    if rows and rows[0][0] == STALE:
        rows = _fetch(*live_sql(now, tags))
    return rows


def _fetch(sql: str, params: list, alias: str) -> list[tuple]:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
