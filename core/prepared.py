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
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import QuerySet

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


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet
    compiler: object
    sql: str
    params: tuple
    slots: tuple[tuple[int, str, Callable], ...]  # (position, parameter name, adapter)


class PreparedQuery:
    """One prepared queryset: call it with every parameter by name for the list of its rows."""

    def __init__(self, build: Callable[..., QuerySet], kinds: dict[str, type]):
        unknown = [name for name, kind in kinds.items() if kind not in _SAMPLES]
        if unknown:
            raise ImproperlyConfigured(f"prepared query {build.__qualname__}: no sample kind for {unknown}")
        self.build, self.kinds = build, kinds
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()
        functools.update_wrapper(self, build)

    def __call__(self, **values) -> list:
        if values.keys() != self.kinds.keys():
            raise TypeError(f"{self.build.__qualname__}() takes {sorted(self.kinds)}, got {sorted(values)}")
        compiled = self._for(self._alias())
        params = list(compiled.params)
        for position, name, adapt in compiled.slots:
            params[position] = adapt(values[name])
        params = tuple(params)
        if getattr(settings, "PREPARED_QUERY_CHECK", False):
            self._check(compiled, params, values)
        return list(_queryset_running(compiled, params))

    def _alias(self) -> str:
        return router.db_for_read(self._model())

    def _model(self):
        model = getattr(self, "_model_class", None)
        if model is None:
            model = self._model_class = self.build(**self._samples(0)).model
        return model

    def _samples(self, which: int) -> dict:
        return {name: _SAMPLES[kind](index)[which] for index, (name, kind) in enumerate(self.kinds.items())}

    def _for(self, alias: str) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = compiled
        return compiled

    def _compile(self, alias: str) -> _Compiled:
        name = self.build.__qualname__
        connection = connections[alias]
        first, second = self._samples(0), self._samples(1)
        queryset = self.build(**first).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        other_sql, other_params = self.build(**second).using(alias).query.get_compiler(using=alias).as_sql()
        if sql != other_sql or len(params) != len(other_params):
            raise ImproperlyConfigured(f"prepared query {name}: its SQL depends on the values given")
        adapters = {key: _adapter(kind, connection) for key, kind in self.kinds.items()}
        slots = []
        for position, (a, b) in enumerate(zip(params, other_params, strict=True)):
            if a == b:
                continue
            owners = [
                key for key, adapt in adapters.items() if adapt(first[key]) == a and adapt(second[key]) == b
            ]
            if len(owners) != 1:
                raise ImproperlyConfigured(
                    f"prepared query {name}: parameter {position} ({a!r}) is not one of "
                    f"{sorted(self.kinds)} as the database takes it (a transformed value, or a list?)"
                )
            slots.append((position, owners[0], adapters[owners[0]]))
        unused = set(self.kinds) - {owner for _position, owner, _adapt in slots}
        if unused:
            raise ImproperlyConfigured(f"prepared query {name}: {sorted(unused)} never reach its SQL")
        return _Compiled(queryset, compiler, sql, tuple(params), tuple(slots))

    def _check(self, compiled: _Compiled, params: tuple, values: dict) -> None:
        """PREPARED_QUERY_CHECK: the ordinary build of the same call compiles to the same query."""
        alias = compiled.queryset.db
        expected = self.build(**values).using(alias).query.get_compiler(using=alias).as_sql()
        if expected != (compiled.sql, params):
            raise AssertionError(
                f"prepared query {self.build.__qualname__} ran\n  {compiled.sql!r} {params!r}\n"
                f"where the ORM builds\n  {expected[0]!r} {expected[1]!r}\n"
                "(a value its builder reads from outside its parameters?)"
            )


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


def prepared(**kinds: type) -> Callable[[Callable[..., QuerySet]], PreparedQuery]:
    """Decorate a queryset builder whose parameters have these kinds (datetime, date, int, str, UUID)."""
    return lambda build: PreparedQuery(build, kinds)
