"""Which writes change what readers see: the tables apps register as content, and the watcher that
renews the content version (core.cache.version) after each write to one of them.

Apps declare their own tables in AppConfig.ready(), so this module names none of them:

    from core.cache import watcher
    watcher.register_content(self.label, quiet_models=("comments.LinkbackAttempt",))
    watcher.register_content("django_comments_xtd")  # a third-party app this one builds on
    watcher.register_content_model(settings.AUTH_USER_MODEL, quiet_columns=("last_login",))

Every table of a registered app counts, so a table the app adds later is watched without a word;
`quiet_models` are its tables that readers never see and that strangers or the task worker write
often; `quiet_columns` are columns readers never see (an UPDATE setting only those is no change).
`scoped_models` are tables whose writes the app attributes to posts' discussions
(core.cache.deps.changing): inside such a block they renew those tags, not the version.
`schedule=True` marks a table whose rows carry publication times: a write to it also looks up the
next scheduled publication (core.cache.version.register_schedule).

Apps that keep something derived from content tables can ask to hear of writes to some of them:

    watcher.on_write(termcounts.WATCHED, termcounts.refresh_after_commit)  # called with using=
    watcher.before_statement(termcounts.refresh_owed)  # called with the connection
"""

from __future__ import annotations

import re

from django.apps import apps
from django.db import DatabaseError, connections
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate

from core.cache import deps, version

_apps: dict[str, tuple[str, ...]] = {}  # app label -> quiet model labels
_scoped: set[str] = set()  # model labels whose writes core.cache.deps.changing() can attribute
_models: set[str] = set()
_quiet_columns: set[str] = set()
_schedule_labels: set[str] = set()  # app or model labels whose tables hold publication times
_listeners: list[tuple[frozenset[str], object]] = []  # (table names, callback(using=alias))
_before: list = []  # callback(connection), before every statement

# The statement's first word, after any leading comments (query-tagging tools add them).
_FIRST_WORD = re.compile(r"(?:\s|/\*.*?\*/|--[^\n]*\n)*(\w+)", re.DOTALL)
_WRITE_VERBS = {"INSERT", "UPDATE", "DELETE", "REPLACE", "TRUNCATE", "MERGE"}
_WRITE_INSIDE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)  # WITH … UPDATE …
_UPDATE_SET = re.compile(r"\s*UPDATE\s+\S+\s+SET\s+(.*?)\s+WHERE\s", re.IGNORECASE | re.DOTALL)
# Any name followed by "=" in the SET list counts as assigned (an expression's own comparisons
# too): when in doubt, the UPDATE is a change.
_ASSIGNED = re.compile(r'"?(\w+)"?\s*=')


def register_content(app_label: str, *, quiet_models=(), scoped_models=(), schedule: bool = False) -> None:
    """Every table of app `app_label` feeds pages, feeds or sidebars (but `quiet_models`).

    A write to one of `scoped_models` (model labels, of any app) made inside a
    core.cache.deps.changing() block renews that block's dependency tags instead of the content
    version; outside such a block it renews the version, like any content write."""
    _apps[app_label] = tuple(quiet_models)
    _scoped.update(scoped_models)
    if schedule:
        _schedule_labels.add(app_label)
    watcher.forget()


def register_content_model(model_label: str, *, quiet_columns=()) -> None:
    """One model's table feeds pages (the user table: bylines fall back to the user's name)."""
    _models.add(model_label)
    _quiet_columns.update(quiet_columns)
    watcher.forget()


def on_write(tables, callback) -> None:
    """Call `callback(using=alias)` after each write naming one of these content tables (the
    watcher's own test: a write that merely mentions one counts too; not while migrating)."""
    entry = (frozenset(tables), callback)
    if entry not in _listeners:
        _listeners.append(entry)


def before_statement(callback) -> None:
    """Call `callback(connection)` before every statement (not while migrating): work a write
    left for later, once its statement is done. It must cost next to nothing when idle."""
    if callback not in _before:
        _before.append(callback)


def content_tables() -> frozenset[str]:
    """The database tables whose rows readers see."""
    quiet = {apps.get_model(label)._meta.db_table for labels in _apps.values() for label in labels}
    tables = {
        model._meta.db_table
        for label in _apps
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }
    tables.update(apps.get_model(label)._meta.db_table for label in _models)
    return frozenset(tables - quiet)


def _scoped_tables() -> frozenset[str]:
    return frozenset(apps.get_model(label)._meta.db_table for label in _scoped)


def _schedule_tables() -> frozenset[str]:
    return frozenset(
        model._meta.db_table
        for label in _schedule_labels
        for model in apps.get_app_config(label).get_models()
    )


class ContentWriteWatcher:
    """Calls content_changed() after each SQL write that names a content table.

    A Django execute wrapper, installed on every database connection as it opens (core.apps),
    so it sees what the ORM, third-party apps and raw cursors send alike: a model's save() or
    delete(), a QuerySet.update() or bulk_create(), a third-party app's own update. It errs on
    the side of a change: a write that merely mentions a content table (in a subquery, say)
    renews the version too, which costs a cache miss, never a stale page. Migrations pause it
    (they renew once, when they are done).
    """

    paused = False

    def __init__(self) -> None:
        self._names: re.Pattern | None = None
        self._schedule: frozenset[str] = frozenset()
        self._scoped: frozenset[str] = frozenset()

    def forget(self) -> None:
        """Read the registered tables again on the next write."""
        self._names = None

    def _tables(self) -> re.Pattern:
        if self._names is None:
            names = sorted(content_tables(), key=len, reverse=True)
            self._schedule = _schedule_tables()
            self._scoped = _scoped_tables()
            self._names = re.compile(r"(?<![\w$])(" + "|".join(map(re.escape, names)) + r")(?![\w$])")
        return self._names

    def __call__(self, execute, sql, params, many, context):
        if _before and not self.paused:
            for callback in _before:
                callback(context["connection"])
        result = execute(sql, params, many, context)
        if not self.paused and isinstance(sql, str) and _is_write(sql):
            named = set(self._tables().findall(sql))
            if named and not _only_quiet_columns(sql):
                tags = deps.changing_tags() if named <= self._scoped else None
                version.content_changed(
                    using=context["connection"].alias,
                    schedule_changed=bool(named & self._schedule),
                    tags=tags,
                )
                for tables, callback in _listeners:
                    if named & tables:
                        callback(using=context["connection"].alias)
        return result


def _is_write(sql: str) -> bool:
    first = _FIRST_WORD.match(sql)
    verb = first.group(1).upper() if first else ""
    return verb in _WRITE_VERBS or (verb == "WITH" and _WRITE_INSIDE.search(sql) is not None)


def _only_quiet_columns(sql: str) -> bool:
    """Whether `sql` is an UPDATE that sets nothing but the registered quiet columns."""
    match = _UPDATE_SET.match(sql)
    if match is None:
        return False
    assigned = set(_ASSIGNED.findall(match.group(1)))
    return bool(assigned) and assigned <= _quiet_columns


watcher = ContentWriteWatcher()


def watch_connection(*, connection, **_signal_kwargs) -> None:
    """connection_created receiver: put the watcher on the connection, once (first, so that a
    `with connection.execute_wrapper(...)` block popping its own wrapper leaves it in place)."""
    if watcher not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, watcher)


def pause_for_migrations(**_signal_kwargs) -> None:
    # Data migrations write with historical models, possibly before the tables the version's
    # lookup reads exist; the version is renewed once when migrating is done.
    watcher.paused = True


def resume_after_migrations(**_signal_kwargs) -> None:
    if watcher.paused:  # the first app's post_migrate: every migration has run
        watcher.paused = False
        try:
            version.content_changed()
        except DatabaseError:  # no posts table (migrated backwards): the first reader renews it
            version.expire()


def install() -> None:
    """Watch every connection, now and as each opens; pause around migrations (core.apps)."""
    connection_created.connect(watch_connection, dispatch_uid="content-write-watcher")
    for connection in connections.all(initialized_only=True):  # made before apps were ready
        watch_connection(connection=connection)
    # Sent for every app with models, before the first migration and after the last.
    pre_migrate.connect(pause_for_migrations, dispatch_uid="content-pause")
    post_migrate.connect(resume_after_migrations, dispatch_uid="content-resume")
