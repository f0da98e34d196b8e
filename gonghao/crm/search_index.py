"""An n-gram inverted index over customer names and phone digits.

`LIKE '%x%'` reads every row, and a two-character Chinese name ("张伟") is too short for
PostgreSQL's pg_trgm or SQLite's FTS5 trigram tokenizer. So each customer is indexed under
every pair of consecutive characters of its folded name ("张伟" → "张伟"; "acme" → "ac", "cm",
"me"), every three consecutive characters where all three are ASCII ("acme" → "acm", "cme"),
and every four consecutive digits of its phone, prefixed with "#" ("#1381", "#3812", …):
three digits have only a thousand values, too few to narrow a million phones.

Latin text draws on few letters, so its bigrams are common ("ar", "r ", " p" each hold tens of
thousands of customers in a million); its trigrams cut much finer ("r p" holds the "Star
Pharma"s only). Both are kept: a two-letter query needs the bigrams.

A query of two or more characters is a substring of a name only if all its bigrams and ASCII
trigrams are among the name's, so the index narrows the candidates and the folded columns
confirm them exactly: results are the same as the plain `LIKE` search. One-character queries
have no gram and fall back to `LIKE`, and so do three-digit phone fragments.

The index is written in the same transaction as the customer: `Customer.save()` calls
`reindex_customer`; code that inserts customers in bulk (bulk_create, imports) must call
`index_customers(customers)` with the saved rows, in its transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, models
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from gonghao.core.lookups import InSubquery

NAME_GRAM = 2
LATIN_GRAM = 3
PHONE_GRAM = 4
PHONE_MARK = "#"
_ASCII_RUN = re.compile(rf"[\x00-\x7f]{{{LATIN_GRAM},}}")
# How many postings the selectivity probe reads per gram before it stops counting.
PROBE_LIMIT = 1024
# Grams checked in the index before confirming on the customer row; more add little.
MAX_GRAMS = 3
# How many customers of a narrow scope (a sales rep's own and shared ones) the probe counts:
# a scope this large is left to the index walk (see narrowing).
SCOPE_PROBE_LIMIT = 8 * PROBE_LIMIT
# The probe's row for the scope's count (no gram is empty).
_SCOPE = ""


class CustomerGram(models.Model):
    """One posting: the customer's name or phone contains `gram`."""

    pk = models.CompositePrimaryKey("gram", "customer_id")
    gram = models.CharField(_("gram"), max_length=5)
    customer = models.ForeignKey(
        "crm.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        verbose_name = _("customer search gram")
        verbose_name_plural = _("customer search grams")

    def __str__(self) -> str:
        return self.gram


def name_grams(folded: str) -> set[str]:
    grams = {folded[i : i + NAME_GRAM] for i in range(len(folded) - NAME_GRAM + 1)}
    # The all-ASCII windows are those inside the runs of three or more ASCII characters.
    runs = [folded] if folded.isascii() else _ASCII_RUN.findall(folded)
    for run in runs:
        grams.update(run[i : i + LATIN_GRAM] for i in range(len(run) - LATIN_GRAM + 1))
    return grams


def phone_grams(digits: str) -> set[str]:
    return {PHONE_MARK + digits[i : i + PHONE_GRAM] for i in range(len(digits) - PHONE_GRAM + 1)}


def grams_of(name_folded: str, phone_digits: str) -> set[str]:
    return name_grams(name_folded) | phone_grams(phone_digits)


def reindex_customer(customer: Any) -> None:
    """Bring one saved customer's postings in line with its search columns."""
    wanted = grams_of(customer.name_folded, customer.phone_digits)
    postings = CustomerGram.objects.filter(customer_id=customer.pk)
    present = set(postings.values_list("gram", flat=True))
    stale = present - wanted
    if stale:
        postings.filter(gram__in=stale).delete()
    missing = wanted - present
    if missing:
        CustomerGram.objects.bulk_create(
            [CustomerGram(gram=gram, customer_id=customer.pk) for gram in sorted(missing)]
        )


def index_customers(customers: Iterable[Any]) -> int:
    """Index customers inserted in bulk (their search columns filled, their pk known).

    Call it in the transaction that inserted them. Returns the number of postings written.
    """
    rows = []
    for customer in customers:
        if customer.pk is None:
            raise ValueError("index_customers needs saved customers (with a primary key)")
        rows.append((customer.pk, customer.name_folded, customer.phone_digits))
    return index_rows(rows)


def index_rows(rows: Iterable[tuple[int, str, str]]) -> int:
    """Postings for (pk, name_folded, phone_digits) rows: the bulk path (an import of 100,000
    customers writes well over a million postings). PostgreSQL takes them by COPY, SQLite by
    executemany, in the rows' order (sorting them by gram first cost more CPU than it saved in
    the index's page writes on the import benchmark)."""
    table = connection.ops.quote_name(CustomerGram._meta.db_table)
    gram_column = connection.ops.quote_name(CustomerGram._meta.get_field("gram").column)
    customer_column = connection.ops.quote_name(CustomerGram._meta.get_field("customer").column)
    columns = f"{table} ({gram_column}, {customer_column})"
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Identifiers from the model's metadata; the postings go as COPY data.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {columns} FROM STDIN") as copy,
            ):
                for pk, name_folded, phone_digits in rows:
                    for gram in grams_of(name_folded, phone_digits):
                        copy.write_row((gram, pk))
                        written += 1
            return written

        def postings() -> Iterator[tuple[str, int]]:
            nonlocal written
            for pk, name_folded, phone_digits in rows:
                for gram in grams_of(name_folded, phone_digits):
                    written += 1
                    yield gram, pk

        # One prepared statement stepped per posting: about a fifth faster on SQLite than
        # multi-row INSERTs, which must be parsed (and their placeholders rewritten) each time.
        # Fed by a generator: 100,000 customers make 1.6 million postings.
        cursor.executemany(f"INSERT INTO {columns} VALUES (%s, %s)", postings())  # noqa: S608
    return written


def _worth_probing(grams: set[str]) -> set[str]:
    """The grams whose counts can tell: a bigram inside one of the query's trigrams holds at
    least the trigram's customers, so it never drives and is not counted."""
    trigrams = [gram for gram in grams if len(gram) == LATIN_GRAM]
    return {
        gram
        for gram in grams
        if len(gram) != NAME_GRAM or not any(gram in trigram for trigram in trigrams)
    }


def _counts(grams: list[str], limit: int, scope: list[QuerySet] | None = None) -> dict[str, int]:
    """Postings per gram, each counted up to `limit`, in one statement; with a `scope` (the
    querysets whose rows make up the caller's scope: its owners' customers, its departments',
    its shares) also its size, each part counted up to SCOPE_PROBE_LIMIT, under `_SCOPE`."""
    table = connection.ops.quote_name(CustomerGram._meta.db_table)
    # Only the quoted table name and constants are formatted in; the grams are parameters.
    one = f"SELECT %s, (SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE gram = %s LIMIT {int(limit)}) AS p{{i}})"  # noqa: E501, S608
    selects = [one.format(i=i) for i in range(len(grams))]
    params = [v for gram in grams for v in (gram, gram)]
    if scope is not None:
        sizes = []
        for i, part in enumerate(scope):
            part_sql, part_params = part.query.get_compiler(connection=connection).as_sql()
            limit_sql = f"LIMIT {int(SCOPE_PROBE_LIMIT)}"
            # The part's own compiled SQL and constants; its values stay parameters.
            sizes.append(f"(SELECT COUNT(*) FROM ({part_sql} {limit_sql}) AS s{i})")  # noqa: S608
            params += part_params
        params.insert(2 * len(grams), _SCOPE)
        selects.append(f"SELECT %s, {' + '.join(sizes) or '0'}")
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        return dict(cursor.fetchall())


def _place(gram: str, text: str) -> tuple[set[int], set[int]]:
    """Where `gram` lies in `text` (a name query, or a phone query's digits): the positions it
    covers and the words (numbered by the spaces before them) it lies wholly inside."""
    if len(gram) == PHONE_GRAM + 1 and gram.startswith(PHONE_MARK):
        gram = gram[1:]
    width = len(gram)
    starts = [i for i in range(len(text) - width + 1) if text[i : i + width] == gram]
    positions = {i + k for i in starts for k in range(width)}
    words = {text.count(" ", 0, i) for i in starts if " " not in gram}
    return positions, words


def _chosen(grams: set[str], counts: dict[str, int], text: str) -> list[str]:
    """The grams worth checking, the one to drive first, then up to MAX_GRAMS - 1 others.

    The driver is the gram with the fewest postings. Grams that reach PROBE_LIMIT are told
    apart by their shape instead of a longer count (counting tens of thousands of postings per
    gram costs more than the search): a gram that spans two words ("r p" in "star pharma")
    pairs a word's end with the next word's start, far rarer than a piece of one common word
    ("sta", "ar "). The others, at equal counts, go to the query's words no gram chosen lies
    in yet, then to the characters not covered yet: in "nova pharma", "a p" drives, and "nov"
    rules out far more of its customers than " ph" or "pha", which they all hold.
    """
    ordered = sorted(_worth_probing(grams))

    def rarity(gram: str) -> tuple[int, int, str]:
        return (counts.get(gram, 0), 0 if " " in gram[1:-1] else 1, gram)

    driver = min(ordered, key=rarity)
    chosen = [driver]
    covered, served = _place(driver, text)
    rest = {gram: _place(gram, text) for gram in ordered if gram != driver}

    def gain(gram: str) -> tuple[int, int, int]:
        positions, words = rest[gram]
        return (counts.get(gram, 0), 0 if words - served else 1, -len(positions - covered))

    while rest and len(chosen) < MAX_GRAMS:
        best = min(sorted(rest), key=gain)
        positions, words = rest.pop(best)
        chosen.append(best)
        covered |= positions
        served |= words
    return chosen


def _postings(gram: str) -> RawSQL:
    table = connection.ops.quote_name(CustomerGram._meta.db_table)
    # Only the quoted table name is formatted in; the gram is a parameter.
    return RawSQL(f"SELECT customer_id FROM {table} WHERE gram = %s", [gram])  # noqa: S608, S611


def _union(parts: list[list[str]]) -> RawSQL:
    """Candidate ids when the query is both a name and a phone fragment: per part, the
    driver's postings with the others checked by primary-key probes, in one UNION ALL.

    Written as SQL rather than ORM expressions: compiling nested Exists() per search cost
    more than running the query.
    """
    table = connection.ops.quote_name(CustomerGram._meta.db_table)
    # Only the quoted table name is formatted in; grams are parameters.
    probe = f"EXISTS (SELECT 1 FROM {table} o WHERE o.gram = %s AND o.customer_id = d.customer_id)"  # noqa: S608
    driving = f"SELECT d.customer_id FROM {table} d WHERE d.gram = %s"  # noqa: S608
    sql = " UNION ALL ".join(" AND ".join([driving, *[probe] * (len(part) - 1)]) for part in parts)
    return RawSQL(sql, [gram for part in parts for gram in part])  # noqa: S611


def narrowing(name_query: str, phone_query: str, scope: list[QuerySet] | None = None) -> Q:
    """The customers that may contain `name_query` in their folded name or `phone_query` in
    their phone digits (either may be empty: not searched): a superset of the matches, read
    from the index; the caller confirms them on the customer's columns.

    One statement counts the postings of the query's grams (up to PROBE_LIMIT each) to pick
    the rarest; a part with a gram that no customer holds matches nobody and is left out.

    For a name or a phone fragment (the usual query) the condition is
    `id IN (the rarest gram's postings) AND EXISTS (posting of gram 2) AND ...`. Both databases
    then read the rarest gram's postings in customer-id order from the (gram, customer_id)
    primary key, one customer at a time: PostgreSQL turns the IN and the EXISTS into joins
    on a unique key, SQLite walks the IN list in order. So a list ordered by id (the
    searched list's default) stops after its page; the others sort every match. A query that
    is a fragment of both a name and a phone falls back to a UNION ALL of the two parts.

    `scope`, the parts of the scope the caller will narrow the list to (a sales rep's own
    customers, those shared with them), is counted by the same probe. When it holds fewer
    customers than the rarest gram has postings, the scope drives instead: `EXISTS (posting
    of each gram)` only, which both databases test on the scope's customers, read from the
    owner index and the shares. A rep searching for a four-digit phone fragment otherwise
    walks all its thousands of postings and reads each customer's row to find the few dozen
    of their own.
    """
    wanted = [
        (grams, text)
        for grams, text in (
            (name_grams(name_query), name_query),
            (phone_grams(phone_query), phone_query),
        )
        if grams
    ]
    probed = sorted(set().union(*(_worth_probing(grams) for grams, _ in wanted)))
    counts = _counts(probed, PROBE_LIMIT, scope) if len(probed) > 1 or scope is not None else {}
    reached = counts.pop(_SCOPE, None)
    parts = [
        _chosen(grams, counts, text)
        for grams, text in wanted
        if not counts or all(counts[gram] for gram in _worth_probing(grams))
    ]
    if not parts:
        return Q(pk__in=[])
    if scope is not None and reached is not None and reached < _walked(parts, counts):
        return _within_scope(parts, scope)
    if len(parts) > 1:
        return Q(InSubquery(F("pk"), _union(parts)))
    driver, *others = parts[0]
    condition = Q(pk__in=_postings(driver))
    if others:
        condition &= Q(_Holding(others))
    return condition


def _walked(parts: list[list[str]], counts: dict[str, int]) -> int:
    """How many postings the index walk would read: the drivers' counts, a count that reached
    PROBE_LIMIT taken as beyond any scope the probe counts (common grams hold tens of
    thousands; an index probe per scope customer costs less than a row read per posting)."""
    return sum(
        counts[driver] if counts[driver] < PROBE_LIMIT else SCOPE_PROBE_LIMIT
        for driver, *_ in parts
    )


def _within_scope(parts: list[list[str]], scope: list[QuerySet]) -> Q:
    """The candidates of a scope that drives: its customers holding every gram of a part.

    PostgreSQL reads the scope's customers (the owner index and the shares, combined) and
    probes the index for each. SQLite would seek every one of their rows before probing: there
    the candidates are listed first, from the owner (or department) index alone, so only the
    customers holding the grams are read.
    """
    holding = Q(_Holding(parts[0], probes_only=True))
    for part in parts[1:]:
        holding |= Q(_Holding(part, probes_only=True))
    if connection.vendor != "sqlite":
        return holding
    customers = CustomerGram._meta.get_field("customer").related_model
    condition = Q(pk__in=[])
    for part in scope:
        if part.model is customers:
            condition |= Q(pk__in=part.filter(holding).values("pk"))
        else:
            condition |= Q(pk__in=part) & holding
    return condition


class _Holding(Func):
    """True for a customer holding a posting of each gram: `EXISTS (...) AND EXISTS (...)` on
    the customer's id. Compiles in a fraction of the time of Exists() over a queryset, and
    unlike raw SQL it follows the customer table's alias (a queryset used as a subquery).

    `probes_only`: each EXISTS stays a probe of the customer at hand. PostgreSQL otherwise
    turns them into joins and, its estimate of a gram's postings being far below the real
    count for common grams, drives from the postings again instead of from the scope;
    `OFFSET 0` keeps a subquery from being pulled up (SQLite never pulls them up)."""

    output_field = BooleanField()

    def __init__(self, grams: list[str], *, probes_only: bool = False) -> None:
        super().__init__(F("pk"))
        self.grams = grams
        self.probes_only = probes_only

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        customer_id, id_params = compiler.compile(self.get_source_expressions()[0])
        table = connection.ops.quote_name(CustomerGram._meta.db_table)
        # Only the quoted table name and the compiled column are formatted in; grams are
        # parameters.
        fence = " OFFSET 0" if self.probes_only and connection.vendor == "postgresql" else ""
        one = f"EXISTS (SELECT 1 FROM {table} o WHERE o.gram = %s AND o.customer_id = {customer_id}{fence})"  # noqa: E501, S608
        sql = "(" + " AND ".join([one] * len(self.grams)) + ")"
        return sql, [param for gram in self.grams for param in (gram, *id_params)]
