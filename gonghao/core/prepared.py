"""Queries compiled once per database connection and run again with new values.

Django compiles a QuerySet to SQL each time it is evaluated. For the queries every request runs
(the session's or the token's employee, the role grants in force, a page of the customer list
and its count) building and compiling the QuerySet costs several times what the database
spends answering: a select_related over four tables compiles in about 0.6 ms and runs in
0.05 ms.

A `PreparedQuery` builds its QuerySet once per connection and *shape*, with `Bound`
placeholders where the values go; it keeps the SQL and the compiler (which knows how to turn
rows into model instances, select_related included), and each run only puts the values into
the kept parameters. Everything that shapes the SQL (which filters, joins, ordering, LIMIT)
must come from the build function's arguments, which are the cache key: a run can never get
another shape's SQL. Values reach the SQL only through `Bound` and `BoundList`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Expression, Field, IntegerField, Lookup, Model, QuerySet, sql

_CACHE_ATTR = "_gonghao_prepared_queries"
# Shapes kept per connection; past this the cache starts again (a list paged deep keeps making
# new shapes: its OFFSET is part of the SQL).
MAX_SHAPES = 512


class _Slot:
    """Where a bound value goes in the compiled parameters."""

    __slots__ = ("adapt", "name")

    def __init__(self, name: str, adapt: Callable[[Any, Any], Any]) -> None:
        self.name = name
        self.adapt = adapt


class Bound(Expression):
    """A value given at each run: `filter(token_hash=Bound("hash", CharField()))`.

    `field` adapts the value for the database as the ORM would (a datetime becomes SQLite's
    text form, for instance).
    """

    def __init__(self, name: str, field: Field) -> None:
        super().__init__(output_field=field)
        self.name = name

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        field = self.output_field
        return "%s", [_Slot(self.name, lambda value, conn: field.get_db_prep_value(value, conn))]


class BoundList(Expression):
    """`length` integers given at each run as a list: `(%s, %s, …)`. Use it with `InList`
    (`filter(InList(F("owner_id"), BoundList("owners", 3)))`); the length is part of the
    query's shape (a literal list lets both databases plan one index lookup per id, which a
    list of unknown length in one parameter did not)."""

    def __init__(self, name: str, length: int) -> None:
        if length < 1:
            raise ValueError("a bound list has at least one item")
        super().__init__(output_field=IntegerField())
        self.name = name
        self.length = length

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        slots = [_Slot(self.name, _item(index)) for index in range(self.length)]
        return "(" + ", ".join(["%s"] * self.length) + ")", slots


def _item(index: int) -> Callable[[Any, Any], int]:
    def adapt(value: Any, connection: Any) -> int:
        return int(value[index])

    return adapt


class InList(Lookup):
    """`field IN (%s, …)` with a `BoundList`."""

    lookup_name = "in_list"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)


class _Compiled:
    __slots__ = ("compiler", "model", "params", "query", "sql")

    def __init__(self, queryset: QuerySet, alias: str) -> None:
        query = queryset.query.clone()
        compiler = query.get_compiler(using=alias)
        self.sql, params = compiler.as_sql()
        self.params = tuple(params)
        self.compiler = compiler
        self.model = queryset.model
        # The iterable that builds model instances asks the query for a compiler: it gets this
        # one, already set up, whose as_sql() answers the kept SQL (see PreparedQuery.all).
        query.get_compiler = lambda *args, **kwargs: compiler
        self.query = query
        # Working out each column's converters costs about as much as converting a page of
        # rows; the columns are the shape's, so they are worked out once.
        converters_of = compiler.get_converters
        found: dict[tuple[int, ...], tuple[list[Any], Any]] = {}

        def get_converters(expressions: Any) -> Any:
            key = tuple(map(id, expressions))
            if key not in found:
                # The expressions are kept with their converters: their ids stay theirs.
                found[key] = (list(expressions), converters_of(expressions))
            return found[key][1]

        compiler.get_converters = get_converters


class _CountSQL:
    """`SELECT COUNT(*)` over the query's ids, unordered, without its joins for display."""

    __slots__ = ("params", "sql")

    def __init__(self, queryset: QuerySet, alias: str) -> None:
        ids = queryset.order_by().values_list("pk")
        sql, params = ids.query.get_compiler(using=alias).as_sql()
        self.sql = f"SELECT COUNT(*) FROM ({sql}) counted"  # noqa: S608 (compiled SQL only)
        self.params = tuple(params)


class _DeleteSQL:
    """`DELETE` of the query's rows in one statement, as QuerySet._raw_delete compiles it."""

    __slots__ = ("params", "sql")

    def __init__(self, queryset: QuerySet, alias: str) -> None:
        query = queryset.query.clone()
        query.__class__ = sql.DeleteQuery
        self.sql, params = query.get_compiler(using=alias).as_sql()
        self.params = tuple(params)


def _bind(params: tuple[Any, ...], values: dict[str, Any], connection: Any) -> list[Any]:
    bound = []
    for param in params:
        if isinstance(param, _Slot):
            param = param.adapt(values[param.name], connection)
        bound.append(param)
    return bound


class PreparedQuery:
    """`build(*shape)` returns the QuerySet, with `Bound` values; `all(*shape, name=value, …)`
    runs it. `shape` (hashable) is whatever changes the SQL; most queries have none."""

    def __init__(self, build: Callable[..., QuerySet], *, using: str = DEFAULT_DB_ALIAS) -> None:
        self._build = build
        self._using = using

    def _cached(self, kind: str, shape: tuple[Hashable, ...], make: Callable[[], Any]) -> Any:
        # A DatabaseWrapper belongs to one thread, so its cache and compilers are never shared.
        connection = connections[self._using]
        cache = connection.__dict__.setdefault(_CACHE_ATTR, {})
        key = (self, kind, shape)
        found = cache.get(key)
        if found is None:
            if len(cache) >= MAX_SHAPES:
                cache.clear()
            found = cache[key] = make()
        return found

    def all(self, *shape: Hashable, **values: Any) -> list[Model]:
        compiled = self._cached("rows", shape, lambda: _Compiled(self._build(*shape), self._using))
        sql = compiled.sql
        params = _bind(compiled.params, values, connections[self._using])
        compiled.compiler.as_sql = lambda *args, **kwargs: (sql, params)
        return list(QuerySet(model=compiled.model, query=compiled.query, using=self._using))

    def first(self, *shape: Hashable, **values: Any) -> Model | None:
        """The first row; build() should slice to one row ([:1])."""
        found = self.all(*shape, **values)
        return found[0] if found else None

    def count(self, *shape: Hashable, **values: Any) -> int:
        counted = self._cached("count", shape, lambda: _CountSQL(self._build(*shape), self._using))
        connection = connections[self._using]
        with connection.cursor() as cursor:
            cursor.execute(counted.sql, _bind(counted.params, values, connection))
            return cursor.fetchone()[0]

    def delete(self, *shape: Hashable, **values: Any) -> int:
        """Delete the rows in one statement, without signals or cascades (as QuerySet's fast
        delete path does when nothing refers to the model). Returns how many went."""
        compiled = self._cached(
            "delete", shape, lambda: _DeleteSQL(self._build(*shape), self._using)
        )
        connection = connections[self._using]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, _bind(compiled.params, values, connection))
            return cursor.rowcount
