"""Realistic test data at volume: departments, 200 employees with roles, customers (Chinese and
English names, mainland phone numbers) with their search index, interactions, and a valid audit
hash chain. Rows are loaded raw (executemany on SQLite, COPY on PostgreSQL): this is set-up,
not the behaviour being measured, and one million rows must load in minutes.

`ensure(url, sizes)` reuses a bench database already generated with the same sizes and the same
DATA_SHAPE (a manifest file under var/bench/ records them) and regenerates it otherwise.

Besides the random data, a few fixed-size markers whose results do not grow with the data set
(the growth benchmark's fixed rows; see `plan_fixed` and bench/README.md): a sales rep with
exactly FIXED_BOOK customers in a department of their own, an employee with FIXED_AUDIT_EVENTS
audit events spread over the year, and FIXED_TERMS, each matching FIXED_MATCHES customers.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁龙林欣怡佳琪晨雨"
CITIES = "上海 北京 深圳 杭州 广州 成都 南京 武汉 苏州 西安 天津 重庆".split()
TRADES = "科技 贸易 制造 物流 餐饮 医疗 教育 建材 电子 化工 服饰 汽配".split()
EN_WORDS = "Global Pacific Sino Bright Golden Dragon Star Unity Apex Nova".split()
EN_TRADES = ["Trading", "Logistics", "Electronics", "Foods", "Textiles", "Robotics", "Pharma"]
EN_FORMS = ["Co.", "Ltd.", "Inc.", "Group", "Holdings", "Partners"]
PREFIXES = ["138", "139", "136", "137", "150", "151", "158", "186", "187", "188", "135", "159"]
PASSWORD = "Bench-Password-2024!"
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 24 * 3600
# Bumped whenever what build() generates for the same sizes changes: a manifest of another
# shape is regenerated (2: the fixed-size markers below).
DATA_SHAPE = 2

# Fixed-size markers: the same result at every size (the growth benchmark's fixed rows).
FIXED_DEPARTMENT = "FX"  # the fixed actors' own department: nobody else is in it
FIXED_BOOK = 50  # customers of the fixed sales rep (one full list page)
FIXED_AUDIT_EVENTS = 1200  # audit events of the fixed employee over the year: ~99 in 30 days
FIXED_MATCHES = 20  # customers matched by each planted search term
# Planted search terms, chosen to match nothing in the random data: characters that none of
# the name lists above use, an English word none of their words contains, and a phone
# fragment whose first three digits are no prefix of PREFIXES (a random phone holds it only
# if its eight random digits do, or "151" + "993057"... : ~0.3 expected in 1,000,000; checked
# by the growth benchmark, which records every term's match count).
FIXED_TERMS = {
    "name": "闵琛",  # a two-character person name
    "company": "翡翠湾",  # a fragment of company names
    "latin": "Zephyr",  # an English word
    "phone": "1993057",  # a phone fragment (the planted numbers are 1993057xxxx)
}


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 1, 2))))


def customer_name(rng: random.Random, n: int) -> tuple[str, str]:
    """(kind, name): a third are people (2-3 character names), the rest companies."""
    roll = rng.random()
    if roll < 0.33:
        return "person", person_name(rng)
    if roll < 0.45:
        return "company", f"{rng.choice(EN_WORDS)} {rng.choice(EN_TRADES)} {rng.choice(EN_FORMS)}"
    return "company", f"{rng.choice(CITIES)}{person_name(rng)}{rng.choice(TRADES)}有限公司"


def phone(rng: random.Random) -> str:
    return rng.choice(PREFIXES) + f"{rng.randrange(10**8):08d}"


def moment(rng: random.Random) -> datetime:
    return EPOCH + timedelta(seconds=rng.randrange(YEAR_SECONDS), microseconds=rng.randrange(10**6))


class Loader:
    """Fast inserts of plain tuples: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"

    def value(self, v: Any) -> Any:
        if isinstance(v, datetime):
            if self.postgres:
                return v
            return self.connection.ops.adapt_datetimefield_value(v)
        if isinstance(v, dict):
            return json.dumps(v, ensure_ascii=False, sort_keys=True)
        return v

    def load(self, table: str, columns: list[str], rows) -> int:
        quoted = ", ".join(columns)
        count = 0
        with self.connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([self.value(v) for v in row])
                        count += 1
                return count
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"
            batch = []
            for row in rows:
                batch.append([self.value(v) for v in row])
                if len(batch) == 20000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            cursor.executemany(sql, batch)
            return count + len(batch)


def build(sizes: dict[str, int], seed: int = 7, log=print) -> dict[str, Any]:
    """Fill an empty, migrated database."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from gonghao.access.builtin import ensure_builtin_roles
    from gonghao.access.models import Role, RoleGrant
    from gonghao.accounts.models import Employee
    from gonghao.accounts.services import allocate_employee_id
    from gonghao.audit.chain import GENESIS_HASH, compute_hash
    from gonghao.audit.guards import HEAD_TRIGGERS
    from gonghao.audit.models import AuditChainHead
    from gonghao.audit.services import chain_heads
    from gonghao.core import clock
    from gonghao.crm.builtin import ensure_default_stages
    from gonghao.crm.models import fold
    from gonghao.crm.search_index import grams_of
    from gonghao.org.models import Department

    rng = random.Random(seed)
    loader = Loader(connection)
    started = time.perf_counter()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-400000")  # 400 MB: the index pages stay hot
    with transaction.atomic():
        ensure_builtin_roles()
        ensure_default_stages()  # a migration makes them, a flushed test database lacks them
        root = Department.objects.create(code="HQ", name="总部")
        departments = [
            Department.objects.create(code=f"D{i:02d}", name=f"销售{i}部", parent=root)
            for i in range(10)
        ]
        password = make_password(PASSWORD)
        staff: list[Employee] = []
        for i in range(sizes["employees"]):
            entry = allocate_employee_id(actor=None, purpose="bench")
            staff.append(
                Employee.objects.create(
                    employee_id=entry.employee_id,
                    name=person_name(rng),
                    status="active",
                    department=departments[i % len(departments)],
                    password=password,
                    password_changed_at=clock.now(),
                )
            )
        departments[0].head = staff[2]
        departments[0].save()
        # The fixed actors: after the random staff, in a department of their own, drawing
        # nothing from `rng` (the random data stays what it was) and owning only what
        # plan_fixed gives them.
        fixed_department = Department.objects.create(
            code=FIXED_DEPARTMENT, name="固定组", parent=root
        )
        fixed: dict[str, Employee] = {}
        for key, name in FIXED_ACTORS.items():
            entry = allocate_employee_id(actor=None, purpose="bench")
            fixed[key] = Employee.objects.create(
                employee_id=entry.employee_id,
                name=name,
                status="active",
                department=fixed_department,
                password=password,
                password_changed_at=clock.now(),
            )
        roles = {r.code: r for r in Role.objects.all()}
        now = clock.now()
        RoleGrant.objects.bulk_create(
            [RoleGrant(employee=e, role=roles["sales"], granted_at=now) for e in staff[3:]]
            + [
                RoleGrant(employee=staff[0], role=roles["customer_service"], granted_at=now),
                RoleGrant(employee=staff[1], role=roles["auditor"], granted_at=now),
                RoleGrant(employee=staff[2], role=roles["department_head"], granted_at=now),
            ]
            + [RoleGrant(employee=e, role=roles["sales"], granted_at=now) for e in fixed.values()]
        )
        sellers = staff[3:]
        plan = plan_fixed(sizes["customers"])

        customer_columns = [
            "id", "kind", "name", "industry", "level", "source", "status", "owner_id",
            "owner_department_id", "phone", "phone_digits", "name_folded", "email", "id_number",
            "address", "tags", "notes", "created_by_id", "created_at", "updated_by_id",
            "updated_at",
        ]  # fmt: skip
        search_rows: list[tuple[int, str, str]] = []

        def customers():
            for n in range(1, sizes["customers"] + 1):
                owner = sellers[n % len(sellers)]
                kind, name = customer_name(rng, n)
                digits = phone(rng)
                # A planted customer still draws its random values (the stream stays the same).
                planted = plan.get(n)
                if planted == "rep_fixed":
                    owner = fixed["rep_fixed"]
                elif planted is not None:
                    kind, name, digits = planted_customer(planted, n, kind, name, digits)
                folded = fold(name)
                search_rows.append((n, folded, digits))
                at = created_at(now, n)
                yield (
                    n, kind, name, "", rng.choice("ABCD"), SOURCES[n % 7], STATUSES[n % 5],
                    owner.pk,
                    owner.department_id, "+86" + digits, digits, folded, "", "", "", "", "",
                    owner.pk, at, owner.pk, at,
                )  # fmt: skip

        loader.load("crm_customer", customer_columns, customers())
        log(f"  customers: {sizes['customers']} in {time.perf_counter() - started:.0f}s")

        def postings():
            for pk, folded, digits in search_rows:
                for gram in grams_of(folded, digits):
                    yield (gram, pk)

        grams = loader.load("crm_customergram", ["gram", "customer_id"], postings())
        search_rows.clear()
        log(f"  search postings: {grams} in {time.perf_counter() - started:.0f}s")

        build_activity(loader, sizes, rng)
        log(
            f"  interactions: {sizes['interactions']}, opportunities:"
            f" {sizes.get('opportunities', 0)} in {time.perf_counter() - started:.0f}s"
        )

        audit_columns = [
            "seq", "occurred_at", "actor_kind", "actor_employee_id", "actor_id", "action",
            "target_type", "target_id", "target_label", "params", "changes", "request_id",
            "client_ip", "user_agent", "channel", "prev_hash", "hash", "chain",
        ]  # fmt: skip
        if connection.vendor == "postgresql":
            # The events the set-up recorded in this transaction have their head moves queued
            # for the commit (gonghao.audit.guards): made now, they leave no trigger event
            # pending, which ALTER TABLE below refuses to run with.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # The chain as this transaction sees it, its own events included.
        first, first_hash = chain_heads().get(1, (0, GENESIS_HASH))
        last = {"seq": first, "hash": first_hash}

        def events():
            total = sizes["audit_events"]
            step = YEAR_SECONDS / max(total, 1)
            share = min(FIXED_AUDIT_EVENTS, total // 2)  # every (total / share)-th event
            for seq in range(first + 1, first + total + 1):
                actor = staff[rng.randrange(len(staff))]
                i = seq - first - 1
                if (i * share) // total != ((i + 1) * share) // total:
                    actor = fixed["audited_fixed"]
                customer = rng.randrange(1, sizes["customers"] + 1)
                action = rng.choice(("customer.view", "customer.view", "customer.update"))
                fields = {
                    "seq": seq,
                    "occurred_at": EPOCH + timedelta(seconds=(seq - first) * step),
                    "actor_kind": "employee",
                    "actor_employee_id": actor.employee_id,
                    "action": action,
                    "target_type": "crm.customer",
                    "target_id": str(customer),
                    "target_label": f"客户{customer}",
                    "params": {},
                    "changes": {"level": ["A", "B"]} if action == "customer.update" else {},
                    "request_id": f"{seq:032x}",
                    "client_ip": "10.0.0.1",
                    "user_agent": "Mozilla/5.0 (bench)",
                    "channel": "web",
                    "chain": 1,
                }
                fields["hash"] = compute_hash(fields, last["hash"])
                yield tuple(
                    fields.get(c, actor.pk if c == "actor_id" else None)
                    if c != "prev_hash"
                    else last["hash"]
                    for c in audit_columns
                )
                last["seq"], last["hash"] = seq, fields["hash"]

        # The head triggers (gonghao.audit.guards) would note every loaded event as its chain's
        # tip, and queue a check of each for the commit; the head is set once below instead.
        head_triggers = HEAD_TRIGGERS["postgresql"] if connection.vendor == "postgresql" else []
        with connection.cursor() as cursor:
            for trigger in head_triggers:
                cursor.execute(f"ALTER TABLE audit_auditevent DISABLE TRIGGER {trigger}")
        loader.load("audit_auditevent", audit_columns, events())
        with connection.cursor() as cursor:
            for trigger in head_triggers:
                cursor.execute(f"ALTER TABLE audit_auditevent ENABLE TRIGGER {trigger}")
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                # The tip noted by the set-up's events is behind the loaded ones: the head row
                # set below is the chain's tip.
                cursor.execute("SELECT set_config('gonghao.audit_tip_1', '', true)")
        AuditChainHead.objects.update_or_create(
            pk=1, defaults={"last_seq": last["seq"], "last_hash": last["hash"]}
        )
        log(f"  audit events: {sizes['audit_events']} in {time.perf_counter() - started:.0f}s")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Customers were loaded with explicit ids: move their sequence past them.
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('crm_customer', 'id'),"
                " (SELECT COALESCE(MAX(id), 1) FROM crm_customer))"
            )
            # and the numbering of audit events past the loaded ones (their chain is 1)
            cursor.execute(
                "SELECT setval('audit_event_seq', (SELECT MAX(seq) FROM audit_auditevent))"
            )
        # What autovacuum does on a live server: statistics, and on PostgreSQL the visibility
        # map that lets the dashboard answer from its covering indexes (index-only scans).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    log(f"  generated in {time.perf_counter() - started:.0f}s")
    return actors()


FIXED_ACTORS = {
    "rep_fixed": "固定销售",  # a sales rep who owns exactly FIXED_BOOK customers at every size
    "audited_fixed": "固定审计",  # an employee with FIXED_AUDIT_EVENTS audit events a year
}


def plan_fixed(customers: int) -> dict[int, str]:
    """Which customer ids carry a fixed marker: FIXED_BOOK of them the fixed rep's, and
    FIXED_MATCHES for each planted term (a FIXED_TERMS key), each set spread evenly over the
    ids (customers added over the two years, as the rest). None below 1,000 customers."""
    if customers < 1000:
        return {}
    plan = {(k * customers) // FIXED_BOOK + 1: "rep_fixed" for k in range(FIXED_BOOK)}
    for t, term in enumerate(FIXED_TERMS):
        for k in range(FIXED_MATCHES):
            n = (k * customers) // FIXED_MATCHES + 2 + t
            assert n not in plan, n
            plan[n] = term
    return plan


def planted_customer(term: str, n: int, kind: str, name: str, digits: str) -> tuple[str, str, str]:
    """(kind, name, phone digits) of customer `n` planted for FIXED_TERMS[term]: only what
    the term needs replaces the random values."""
    city = CITIES[n % len(CITIES)]
    trade = TRADES[n % len(TRADES)]
    if term == "name":
        return "person", FIXED_TERMS["name"], digits
    if term == "company":
        return "company", f"{city}{FIXED_TERMS['company']}{trade}有限公司", digits
    if term == "latin":
        word = EN_TRADES[n % len(EN_TRADES)]
        return "company", f"{FIXED_TERMS['latin']} {word} {EN_FORMS[n % len(EN_FORMS)]}", digits
    return kind, name, FIXED_TERMS["phone"] + f"{n % 10**4:04d}"


def actors() -> dict[str, Any]:
    """The employees the benchmarks act as (see build: the first three have set roles), and
    the fixed actors (FIXED_ACTORS; absent from a data set generated before them)."""
    from gonghao.accounts.models import Employee

    staff = list(Employee.objects.order_by("pk")[:5])
    cast = {
        "agent": staff[0],
        "auditor": staff[1],
        "head": staff[2],
        "rep": staff[3],
        "writer": staff[4],  # a sales rep whose customers the write benchmarks add to
    }
    fixed = Employee.objects.filter(department__code=FIXED_DEPARTMENT).order_by("pk")
    cast.update(zip(FIXED_ACTORS, fixed, strict=False))
    return cast


def random_staff():
    """The generated staff without the fixed actors (benchmarks that pick employees at random
    or from the end of the list leave the fixed actors' shares as they are)."""
    from gonghao.accounts.models import Employee

    return Employee.objects.exclude(department__code=FIXED_DEPARTMENT)


# --- customers' history, follow-ups and opportunities (the dashboard reads them) -----------

CONTENTS = [
    "电话沟通需求，客户关注价格",
    "上门拜访，演示产品",
    "发送报价单",
    "微信跟进合同细节",
    "客户反馈售后问题，已登记",
    "Called about the renewal",
    "Meeting on the delivery schedule",
]
CURRENCIES = ["CNY"] * 17 + ["USD"] * 2 + ["EUR"]
SOURCES = ["referral", "website", "exhibition", "cold_call", "advertising", "partner", "other"]
STATUSES = ["lead", "prospect", "active", "dormant", "lost"]
HISTORY_DAYS = 730


def created_at(now: datetime, n: int) -> datetime:
    """Customers' creation spread evenly back over two years from now, by id."""
    bucket = n % HISTORY_DAYS
    return now - timedelta(days=bucket, hours=bucket % 24)


def build_activity(loader: Loader, sizes: dict[str, Any], rng: random.Random) -> None:
    """Follow-ups (interactions) and opportunities on the customers already loaded, over the
    last two years up to now, so the dashboard's 30- and 365-day periods have data."""
    from gonghao.core import clock
    from gonghao.crm.constants import InteractionKind
    from gonghao.crm.models import Customer, Opportunity, Stage

    total = sizes["interactions"]
    if not sizes["customers"]:
        return
    now = clock.now()
    rows = list(Customer.objects.values_list("pk", "owner_id", "owner_department_id"))
    kinds = InteractionKind.values
    # Follow-ups are recorded as they happen: rows go in oldest first, as on a live system
    # (PostgreSQL's heap order then follows time, which its range scans rely on).
    minutes_ago = sorted(
        (rng.randrange(HISTORY_DAYS * 24 * 60) for _ in range(total)), reverse=True
    )

    def interactions():
        for n in range(total):
            pk, owner_id, _department = rows[rng.randrange(len(rows))]
            occurred = now - timedelta(minutes=minutes_ago[n])
            next_follow_up = None
            done = None
            if rng.random() < 0.2:
                next_follow_up = (occurred + timedelta(days=rng.randrange(1, 30))).date()
                # Follow-ups get done: only recent ones are still open (about half of them).
                if occurred < now - timedelta(days=60) or rng.random() < 0.5:
                    done = occurred + timedelta(days=1)
            yield (
                pk, owner_id, kinds[n % len(kinds)], occurred, CONTENTS[n % len(CONTENTS)], "",
                None if next_follow_up is None else next_follow_up.isoformat(), done, occurred,
            )  # fmt: skip

    loader.load(
        "crm_interaction",
        ["customer_id", "employee_id", "kind", "occurred_at", "content", "outcome",
         "next_follow_up", "follow_up_done_at", "created_at"],
        interactions(),
    )  # fmt: skip
    stages = list(Stage.objects.order_by("position"))
    batch: list[Opportunity] = []
    for n in range(sizes.get("opportunities", 0)):
        pk, owner_id, department_id = rows[rng.randrange(len(rows))]
        stage = stages[rng.randrange(len(stages))]
        closed_at = None
        if stage.is_won or stage.is_lost:
            closed_at = now - timedelta(days=rng.randrange(HISTORY_DAYS // 2))
        batch.append(
            Opportunity(
                customer_id=pk,
                name=f"商机{n}",
                amount=rng.randrange(1000, 5_000_000),
                currency=CURRENCIES[n % len(CURRENCIES)],
                stage=stage,
                probability=stage.probability,
                owner_id=owner_id,
                owner_department_id=department_id,
                created_by_id=owner_id,
                closed_at=closed_at,
            )
        )
        if len(batch) == 20000:
            Opportunity.objects.bulk_create(batch, batch_size=5000)
            batch = []
    Opportunity.objects.bulk_create(batch, batch_size=5000)


def manifest_path(url: str) -> Path:
    from bench.common import VAR

    VAR.mkdir(parents=True, exist_ok=True)
    return VAR / (url.rsplit("/", 1)[-1].replace(".sqlite3", "") + ".manifest.json")


def wanted(sizes: dict[str, Any]) -> dict[str, int]:
    keys = ("customers", "interactions", "opportunities", "audit_events", "employees")
    return {**{key: sizes.get(key, 0) for key in keys}, "shape": DATA_SHAPE}


def ensure(url: str, sizes: dict[str, Any], log=print) -> None:
    """Make `url` hold the generated data of `sizes`; reuse it if it already does."""
    import os

    from bench.common import vendor_of

    target = wanted(sizes)
    manifest = manifest_path(url)
    import subprocess
    import sys

    from bench.common import ROOT

    env = dict(os.environ, BENCH_DATABASE_URL=url, BENCH_SIZES=json.dumps(target))
    if manifest.exists() and json.loads(manifest.read_text()) == target:
        if vendor_of(url) == "postgresql" or Path(url.removeprefix("sqlite:///")).exists():
            # Reused: bring its schema up to this checkout's migrations.
            command = [sys.executable, "-m", "bench.data", "migrate"]
            subprocess.run(command, cwd=ROOT, env=env, check=True)
            return
    log(f"generating {target} into {url}")
    if vendor_of(url) == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        recreate_postgres(url)
    subprocess.run([sys.executable, "-m", "bench.data"], cwd=ROOT, env=env, check=True)
    manifest.write_text(json.dumps(target))


def recreate_postgres(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _generate() -> None:
    """Run in a fresh process: migrate the empty bench database, then fill it (or only
    migrate, with the argument "migrate")."""
    import os
    import sys

    from bench.common import setup

    setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if sys.argv[1:] != ["migrate"]:
        build(json.loads(os.environ["BENCH_SIZES"]))


if __name__ == "__main__":
    _generate()
