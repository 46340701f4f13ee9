"""Querysets built and compiled once per process, then run with new values on every request.

A cold page spends more of its time in the ORM building and compiling its querysets (filters,
lookups, joins, expressions: about a third of a cold post page) than in the database. The same
page asks the same questions every time; only a few values change (the time now, the post, the
slug). `prepared` builds such a queryset once per database alias, compiles it to SQL, and finds
where in the SQL's parameters each value went; a call then runs that SQL with the new values and
reads its rows through the ORM's own iterables (model instances, `values()`, `values_list()`,
`select_related`, converters and `prefetch_related` behave as usual).

    @prepared(now=datetime, post_id=int)
    def _reactions(now, post_id):
        return Reaction.objects.filter(post_id=post_id, created_at__lte=now).order_by("pk")

    rows = _reactions(now=timezone.now(), post_id=post.pk)   # a list

How values are found: the builder is compiled twice, with two different sample values for every
parameter. The SQL text must be the same both times (otherwise the query's shape depends on a
value, and it is refused), and each parameter position that differs must hold one parameter's
sample, as the database backend adapts it (`datetime` through `adapt_datetimefield_value`, `date`
through `adapt_datefield_value`, a `UUID` as UUIDField writes it, `int` and `str` as they are). A
value used in any other way (`__icontains`, `__year`, a list for `__in`) fails that check, and the
query is refused with an error at its first call, never run with a stale value.

What the two compilations cannot see is a value the builder reads from elsewhere (the current
language, `timezone.now()` inside a helper, a setting): it would be frozen at first use. So with
`PREPARED_QUERY_CHECK` on (the test settings turn it on), every call also builds and compiles the
queryset the ordinary way and fails loudly if its SQL or parameters differ from the prepared
ones: the whole test suite runs that comparison on every prepared query it reaches.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connections, router
from django.db.models import QuerySet, Value

# Two samples per kind and parameter index: different in every component, so that a value the ORM
# transforms (a year, a date, a lower-cased string) does not compile to the same parameter twice.
_SAMPLES = {
    dt.datetime: lambda i: (
        dt.datetime(1901, 2, 3, 4, 5, 6, 7 + i, tzinfo=dt.UTC),
        dt.datetime(1902, 3, 4, 5, 6, 7, 8 + i, tzinfo=dt.UTC),
    ),
    dt.date: lambda i: (dt.date(1901, 2, 3 + i), dt.date(1902, 3, 4 + i)),
    int: lambda i: (1_000_003 + 2 * i, 2_000_017 + 2 * i),
    str: lambda i: (f"Prepared-A-{i}", f"prepared-b-{i}"),
    uuid.UUID: lambda i: (uuid.UUID(int=(1 << 100) + i), uuid.UUID(int=(2 << 100) + i)),
}


def _adapter(kind: type, connection) -> Callable:
    """How the backend writes a value of this kind as a query parameter."""
    if kind is dt.datetime:
        return connection.ops.adapt_datetimefield_value
    if kind is dt.date:
        return connection.ops.adapt_datefield_value
    if kind is uuid.UUID and not connection.features.has_native_uuid_field:
        return lambda value: value.hex  # as UUIDField stores it
    return lambda value: value


class Shape:
    """The kind of a parameter that changes the SQL itself, such as a page's LIMIT and OFFSET: the
    builder is given the value as it is, and each value has its own compilation (up to MAX_SHAPES
    per query and database; beyond them a call compiles without keeping it)."""


@dataclass(frozen=True)
class Many:
    """The kind of a sequence of values (`pk__in=ids`): its length is part of the shape."""

    kind: type


MAX_SHAPES = 64


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet | None  # None: the query can match nothing (`pk__in=[]`)
    compiler: object = None
    sql: str = ""
    params: tuple = ()
    # (position in params, parameter name, index in a Many parameter or None, adapter)
    slots: tuple[tuple[int, str, int | None, Callable], ...] = ()


class PreparedQuery:
    """One prepared queryset: call it with every parameter by name for the list of its rows."""

    def __init__(self, build: Callable[..., QuerySet], kinds: dict[str, object]):
        unknown = [name for name, kind in kinds.items() if not _known(kind)]
        if unknown:
            raise ImproperlyConfigured(f"prepared query {build.__qualname__}: no sample kind for {unknown}")
        self.build, self.kinds = build, kinds
        self._compiled: dict[tuple, _Compiled] = {}
        self._model = None
        self._lock = threading.Lock()
        functools.update_wrapper(self, build)

    def __call__(self, **values) -> list:
        compiled, params = self._bound(values)
        return [] if compiled.queryset is None else list(_queryset_running(compiled, params))

    def sql(self, **values) -> tuple[str, tuple, str]:
        """The SQL and parameters of this call, and the database alias, to embed in a statement
        of one's own (the query must be able to match something)."""
        compiled, params = self._bound(values)
        if compiled.queryset is None:
            raise ValueError(f"{self.build.__qualname__} matches nothing: there is no SQL to embed")
        return compiled.sql, params, compiled.queryset.db

    def _bound(self, values: dict) -> tuple[_Compiled, tuple | None]:
        if values.keys() != self.kinds.keys():
            raise TypeError(f"{self.build.__qualname__}() takes {sorted(self.kinds)}, got {sorted(values)}")
        compiled = self._for(self._alias(values), self._shape(values), values)
        params = None
        if compiled.queryset is not None:
            params = list(compiled.params)
            for position, name, index, adapt in compiled.slots:
                params[position] = adapt(values[name] if index is None else values[name][index])
            params = tuple(params)
        if getattr(settings, "PREPARED_QUERY_CHECK", False):
            self._check(compiled, params, values)
        return compiled, params

    def _shape(self, values: dict) -> tuple:
        return tuple(
            values[name] if kind is Shape else len(values[name]) if isinstance(kind, Many) else None
            for name, kind in self.kinds.items()
        )

    def _alias(self, values: dict) -> str:
        if self._model is None:
            self._model = self.build(**self._samples(0, values)).model
        return router.db_for_read(self._model)

    def _samples(self, which: int, values: dict) -> dict:
        """The builder's arguments with sample values (shapes as given, sequences as long)."""
        samples, index = {}, 0
        for name, kind in self.kinds.items():
            if kind is Shape:
                samples[name] = values[name]
            elif isinstance(kind, Many):
                samples[name] = [_SAMPLES[kind.kind](index + i)[which] for i in range(len(values[name]))]
                index += len(values[name])
            else:
                samples[name] = _SAMPLES[kind](index)[which]
                index += 1
        return samples

    def _for(self, alias: str, shape: tuple, values: dict) -> _Compiled:
        key = (alias, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(alias, values)
                if len(self._compiled) < MAX_SHAPES:
                    self._compiled[key] = compiled
        return compiled

    def _compile(self, alias: str, values: dict) -> _Compiled:
        name = self.build.__qualname__
        connection = connections[alias]
        first, second = self._samples(0, values), self._samples(1, values)
        queryset = self.build(**first).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _Compiled(None)
        other_sql, other_params = self.build(**second).using(alias).query.get_compiler(using=alias).as_sql()
        if sql != other_sql or len(params) != len(other_params):
            raise ImproperlyConfigured(f"prepared query {name}: its SQL depends on the values given")
        candidates = []  # (name, index, adapter, first sample, second sample)
        for key, kind in self.kinds.items():
            if kind is Shape:
                continue
            if isinstance(kind, Many):
                adapt = _adapter(kind.kind, connection)
                candidates += [
                    (key, i, adapt, a, b)
                    for i, (a, b) in enumerate(zip(first[key], second[key], strict=True))
                ]
            else:
                candidates.append((key, None, _adapter(kind, connection), first[key], second[key]))
        slots = []
        for position, (a, b) in enumerate(zip(params, other_params, strict=True)):
            if a == b:
                continue
            owners = [
                (key, i, adapt) for key, i, adapt, x, y in candidates if adapt(x) == a and adapt(y) == b
            ]
            if len(owners) != 1:
                raise ImproperlyConfigured(
                    f"prepared query {name}: parameter {position} ({a!r}) is not one of "
                    f"{sorted(self.kinds)} as the database takes it (a transformed value?)"
                )
            slots.append((position, *owners[0]))
        unused = {(key, i) for key, i, *_rest in candidates} - {(key, i) for _p, key, i, _a in slots}
        if unused:
            raise ImproperlyConfigured(f"prepared query {name}: {sorted(unused)} never reach its SQL")
        return _Compiled(queryset, compiler, sql, tuple(params), tuple(slots))

    def _check(self, compiled: _Compiled, params: tuple | None, values: dict) -> None:
        """PREPARED_QUERY_CHECK: the ordinary build of the same call compiles to the same query."""
        alias = self._alias(values)
        try:
            expected = self.build(**values).using(alias).query.get_compiler(using=alias).as_sql()
        except EmptyResultSet:
            expected = None
        ran = None if compiled.queryset is None else (compiled.sql, params)
        if expected != ran:
            raise AssertionError(
                f"prepared query {self.build.__qualname__} ran\n  {ran!r}\n"
                f"where the ORM builds\n  {expected!r}\n"
                "(a value its builder reads from outside its parameters?)"
            )


def _known(kind) -> bool:
    return kind is Shape or kind in _SAMPLES or (isinstance(kind, Many) and kind.kind in _SAMPLES)


def _queryset_running(compiled: _Compiled, params: tuple) -> QuerySet:
    """A fresh, unevaluated copy of the prepared queryset whose compiler is the prepared one with
    these parameters: the ORM's iterables then read the rows as they would their own."""
    alias = compiled.queryset.db
    compiler = copy.copy(compiled.compiler)
    compiler.connection = connections[alias]  # this thread's connection
    compiler.as_sql = lambda *args, **kwargs: (compiled.sql, params)
    query = _shallow(compiled.queryset.query)
    query.get_compiler = lambda *args, **kwargs: compiler
    queryset = _shallow(compiled.queryset)
    queryset._query = query
    queryset._result_cache = None
    queryset._prefetch_done = False
    return queryset


def _shallow(obj):
    """A copy sharing obj's attribute values (copy.copy would evaluate a QuerySet to pickle it)."""
    clone = object.__new__(type(obj))
    clone.__dict__.update(obj.__dict__)
    return clone


def prepared(**kinds) -> Callable[[Callable[..., QuerySet]], PreparedQuery]:
    """Decorate a queryset builder whose parameters have these kinds: datetime, date, int, str,
    UUID, Many(one of those), or Shape."""
    return lambda build: PreparedQuery(build, kinds)


def totals(queryset: QuerySet, **aggregates) -> QuerySet:
    """One row of `aggregates` over all of `queryset`'s rows, as values_list (a count of 0 and
    None for a maximum when there are none): `.aggregate()` and `.count()` run at once, this can
    be prepared. Grouping by a constant is grouping by nothing."""
    return queryset.order_by().values(_all=Value(1)).annotate(**aggregates).values_list(*aggregates)
