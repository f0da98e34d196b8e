"""Query expressions the ORM does not spell the way our planners need."""

from __future__ import annotations

from django.db.models import Lookup


class InSubquery(Lookup):
    """`field IN (subquery)`, written `field = ANY(ARRAY(subquery))` on PostgreSQL.

    OR-ed with other conditions (a scope: "my customers, or those shared with me"), a plain
    `IN (subquery)` makes PostgreSQL test the subquery as a filter on every row of the table, so
    a sales rep's list reads the whole customer table. As an array the subquery runs once
    before the scan and the planner can combine index lookups (BitmapOr) for each side.
    SQLite already turns the plain form into index lookups ("MULTI-INDEX OR").

    Alone, an array also keeps the table's order: PostgreSQL hashes `IN (a UNION ALL b)` into
    a set and reads every row it names before sorting them, but walks the primary key over
    `id = ANY(array)` in order and stops after a page (crm.search_index._union).
    """

    lookup_name = "in_subquery"
    prepare_rhs = False

    def get_prep_lookup(self):
        query = getattr(self.rhs, "query", self.rhs)
        if hasattr(query, "clear_ordering"):  # a QuerySet's; RawSQL is taken as written
            query.clear_ordering(clear_default=True)
        return super().get_prep_lookup()

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if not rhs.startswith("("):
            rhs = f"({rhs})"
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)
