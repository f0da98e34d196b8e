"""Realistic test data at volume: departments, employees with roles, customers (Chinese and
English names, mainland phone numbers). Rows are bulk-inserted: this is set-up, not the
behaviour being measured."""

from __future__ import annotations

import random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁龙林欣怡佳琪晨雨"
CITIES = [
    "上海",
    "北京",
    "深圳",
    "杭州",
    "广州",
    "成都",
    "南京",
    "武汉",
    "苏州",
    "西安",
    "天津",
    "重庆",
]
TRADES = [
    "科技",
    "贸易",
    "制造",
    "物流",
    "餐饮",
    "医疗",
    "教育",
    "建材",
    "电子",
    "化工",
    "服饰",
    "汽配",
]
EN_WORDS = [
    "Global",
    "Pacific",
    "Sino",
    "Bright",
    "Golden",
    "Dragon",
    "Star",
    "Unity",
    "Apex",
    "Nova",
]
EN_TRADES = ["Trading", "Logistics", "Electronics", "Foods", "Textiles", "Robotics", "Pharma"]
PREFIXES = ["138", "139", "136", "137", "150", "151", "158", "186", "187", "188", "135", "159"]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 1, 2))))


def company_name(rng: random.Random, n: int) -> str:
    if rng.random() < 0.15:
        return f"{rng.choice(EN_WORDS)} {rng.choice(EN_TRADES)} Co. {n}"
    return f"{rng.choice(CITIES)}{person_name(rng)}{rng.choice(TRADES)}有限公司{n}"


def phone(rng: random.Random) -> str:
    return rng.choice(PREFIXES) + f"{rng.randrange(10**8):08d}"


def build(customers: int, employees: int = 200, seed: int = 7) -> dict:
    """Fill the database; returns the actors the benchmarks use."""
    from django.contrib.auth.hashers import make_password

    from gonghao.access.builtin import ensure_builtin_roles
    from gonghao.access.models import Role, RoleGrant
    from gonghao.accounts.models import Employee
    from gonghao.accounts.services import allocate_employee_id
    from gonghao.core import clock
    from gonghao.crm.models import Customer
    from gonghao.org.models import Department

    rng = random.Random(seed)
    ensure_builtin_roles()
    root = Department.objects.create(code="HQ", name="总部")
    departments = [
        Department.objects.create(code=f"D{i:02d}", name=f"销售{i}部", parent=root)
        for i in range(10)
    ]
    password = make_password("Bench-Password-2024!")
    staff: list[Employee] = []
    for i in range(employees):
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
    roles = {r.code: r for r in Role.objects.all()}
    now = clock.now()
    RoleGrant.objects.bulk_create(
        [RoleGrant(employee=e, role=roles["sales"], granted_at=now) for e in staff[1:]]
        + [RoleGrant(employee=staff[0], role=roles["customer_service"], granted_at=now)]
    )
    batch: list[Customer] = []
    for n in range(customers):
        owner = staff[1 + n % (len(staff) - 1)]
        number = phone(rng)
        customer = Customer(
            kind="company",
            name=company_name(rng, n),
            owner=owner,
            owner_department_id=owner.department_id,
            phone="+86" + number,
            level=rng.choice("ABCD"),
            status="active",
            created_by=owner,
            updated_by=owner,
        )
        customer.refresh_search_fields()
        batch.append(customer)
        if len(batch) == 5000:
            Customer.objects.bulk_create(batch)
            batch = []
    Customer.objects.bulk_create(batch)
    return {"agent": staff[0], "rep": staff[1]}


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


def build_activity(interactions: int, opportunities: int, seed: int = 11, days: int = 730) -> None:
    """Spread customers' creation over `days`, then add follow-ups and opportunities on them.

    Interactions go in through executemany in large batches (the fastest portable path);
    customers' sources, statuses and creation times are set with one UPDATE per value.
    """
    from datetime import timedelta

    from django.db import connection, transaction

    from gonghao.core import clock
    from gonghao.crm.constants import CustomerSource, CustomerStatus, InteractionKind
    from gonghao.crm.models import Customer, Opportunity, Stage

    rng = random.Random(seed)
    now = clock.now()
    ops = connection.ops
    rows = list(Customer.objects.values_list("pk", "owner_id", "owner_department_id"))
    with transaction.atomic():
        # One UPDATE per (bucket): created_at spread evenly back over `days` by id.
        table = Customer._meta.db_table
        buckets: dict[int, list[int]] = {}
        for pk, _owner, _department in rows:
            buckets.setdefault(pk % days, []).append(pk)
        for bucket, ids in buckets.items():
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                Customer.objects.filter(pk__in=chunk).update(
                    created_at=now - timedelta(days=bucket, hours=bucket % 24)
                )
        sources = CustomerSource.values
        statuses = CustomerStatus.values
        with connection.cursor() as cursor:
            for r in range(7):
                cursor.execute(
                    f"UPDATE {table} SET source = %s, status = %s WHERE id %% 7 = %s",
                    [sources[r % len(sources)], statuses[r % len(statuses)], r],
                )
    kinds = InteractionKind.values
    columns = (
        "customer_id, employee_id, kind, occurred_at, content, outcome, next_follow_up, "
        "follow_up_done_at, created_at"
    )
    sql = f"INSERT INTO crm_interaction ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    created = ops.adapt_datetimefield_value(now)
    batch: list[tuple] = []
    # Follow-ups are recorded as they happen: rows go in oldest first, as on a live system
    # (PostgreSQL's heap order then follows time, which its range scans rely on).
    minutes_ago = sorted((rng.randrange(days * 24 * 60) for _ in range(interactions)), reverse=True)
    with transaction.atomic(), connection.cursor() as cursor:
        for n in range(interactions):
            pk, owner_id, _department = rows[rng.randrange(len(rows))]
            occurred = now - timedelta(minutes=minutes_ago[n])
            next_follow_up = None
            done = None
            if rng.random() < 0.2:
                next_follow_up = (occurred + timedelta(days=rng.randrange(1, 30))).date()
                # Follow-ups get done: only recent ones are still open (about half of them).
                if occurred < now - timedelta(days=60) or rng.random() < 0.5:
                    done = ops.adapt_datetimefield_value(occurred + timedelta(days=1))
            batch.append(
                (
                    pk,
                    owner_id,
                    kinds[n % len(kinds)],
                    ops.adapt_datetimefield_value(occurred),
                    CONTENTS[n % len(CONTENTS)],
                    "",
                    ops.adapt_datefield_value(next_follow_up),
                    done,
                    created,
                )
            )
            if len(batch) == 20000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
    stages = list(Stage.objects.order_by("position"))
    batch_opps: list[Opportunity] = []
    for n in range(opportunities):
        pk, owner_id, department_id = rows[rng.randrange(len(rows))]
        stage = stages[rng.randrange(len(stages))]
        closed_at = None
        if stage.is_won or stage.is_lost:
            closed_at = now - timedelta(days=rng.randrange(days // 2))
        batch_opps.append(
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
    Opportunity.objects.bulk_create(batch_opps, batch_size=5000)
