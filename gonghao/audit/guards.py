"""Database triggers on the audit table, for SQLite and PostgreSQL.

The guards refuse UPDATE and DELETE: Python code never updates an event, and the database
itself refuses, so a bug or a stray `QuerySet.update()` cannot rewrite history. Someone with DDL
rights can still drop them — that is what the hash chain and `gonghao audit verify` are for.

The head triggers move a chain's head to the last event inserted into it, in the database:
the head cannot drift from the log, and an audited write saves a round trip. On SQLite the
head row is updated with each event. On PostgreSQL, an UPDATE leaves a new version of the row
that no one can prune before the transaction ends, and each later UPDATE of the row walks
those versions: a transaction writing n events took time quadratic in n (16,000 events, 18 s).
There, each event only notes itself as its chain's tip in a transaction-local setting
(`gonghao.audit_tip_<chain>`, "seq:hash"), and a deferred trigger moves the head once, at
commit, to the event that setting names. Readers within the transaction see the tip through
`EFFECTIVE_SEQ`/`EFFECTIVE_HASH`; a rolled-back savepoint restores the setting with the events.
"""

from __future__ import annotations

TABLE = "audit_auditevent"

SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]

SQLITE_HEAD_FOLLOWS = [
    """CREATE TRIGGER IF NOT EXISTS audit_chain_head_follows AFTER INSERT ON audit_auditevent
        BEGIN
          UPDATE audit_auditchainhead SET last_seq = NEW.seq, last_hash = NEW.hash
          WHERE id = NEW.chain;
        END""",
]

POSTGRES_CREATE = [
    """CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END;
       $$ LANGUAGE plpgsql""",
    f"""DROP TRIGGER IF EXISTS audit_event_no_change ON {TABLE}""",
    f"""CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()""",
    f"""DROP TRIGGER IF EXISTS audit_event_no_truncate ON {TABLE}""",
    f"""CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()""",
]
TIP_SETTING = "'gonghao.audit_tip_' || {chain}"  # SQL: the setting naming a chain's tip
# SQL expressions over a head row: its chain's last event as the current transaction sees it.
_TIP = f"NULLIF(current_setting({TIP_SETTING.format(chain='id')}, true), '')"
EFFECTIVE_SEQ = f"COALESCE(split_part({_TIP}, ':', 1)::bigint, last_seq)"
EFFECTIVE_HASH = f"COALESCE(split_part({_TIP}, ':', 2), last_hash)"

POSTGRES_HEAD_FOLLOWS = [
    f"""CREATE OR REPLACE FUNCTION audit_chain_head_follow() RETURNS trigger AS $$
       BEGIN
         PERFORM set_config({TIP_SETTING.format(chain="NEW.chain")},
                            NEW.seq || ':' || NEW.hash, true);
         RETURN NULL;
       END;
       $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS audit_chain_head_follows ON {TABLE}",
    f"""CREATE TRIGGER audit_chain_head_follows AFTER INSERT ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_chain_head_follow()""",
    # Fires at commit for every event, in the order they were inserted; only the chain's tip
    # moves the head, so the head row gets one new version per transaction and chain.
    f"""CREATE OR REPLACE FUNCTION audit_chain_head_settle() RETURNS trigger AS $$
       BEGIN
         IF current_setting({TIP_SETTING.format(chain="NEW.chain")}, true)
            = NEW.seq || ':' || NEW.hash THEN
           UPDATE audit_auditchainhead SET last_seq = NEW.seq, last_hash = NEW.hash
           WHERE id = NEW.chain;
         END IF;
         RETURN NULL;
       END;
       $$ LANGUAGE plpgsql""",  # noqa: S608 (constants only)
    f"DROP TRIGGER IF EXISTS audit_chain_head_settles ON {TABLE}",
    f"""CREATE CONSTRAINT TRIGGER audit_chain_head_settles AFTER INSERT ON {TABLE}
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION audit_chain_head_settle()""",
]
# Before migration 0007 (and what it restores when reversed): the head updated per event.
POSTGRES_HEAD_FOLLOWS_PER_EVENT = [
    """CREATE OR REPLACE FUNCTION audit_chain_head_follow() RETURNS trigger AS $$
       BEGIN
         UPDATE audit_auditchainhead SET last_seq = NEW.seq, last_hash = NEW.hash
         WHERE id = NEW.chain;
         RETURN NULL;
       END;
       $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS audit_chain_head_settles ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_chain_head_settle()",
    f"DROP TRIGGER IF EXISTS audit_chain_head_follows ON {TABLE}",
    f"""CREATE TRIGGER audit_chain_head_follows AFTER INSERT ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_chain_head_follow()""",
]
HEAD_TRIGGERS = {
    "sqlite": ["audit_chain_head_follows"],
    "postgresql": ["audit_chain_head_follows", "audit_chain_head_settles"],
}

POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS audit_event_no_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_event_no_truncate ON {TABLE}",
]


def statements(vendor: str, *, create: bool) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    if vendor == "postgresql":
        return POSTGRES_CREATE if create else POSTGRES_DROP
    raise NotImplementedError(f"no audit guards for database vendor {vendor!r}")


def head_trigger_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_HEAD_FOLLOWS
    if vendor == "postgresql":
        return POSTGRES_HEAD_FOLLOWS
    raise NotImplementedError(f"no audit head trigger for database vendor {vendor!r}")


def install(connection, *, head_trigger: bool = True) -> None:
    """The guards and the head trigger (SQLite drops both whenever it rebuilds the table).

    Migrations from before the `chain` column install the guards alone.
    """
    sql = statements(connection.vendor, create=True)
    if head_trigger:
        sql = [*sql, *head_trigger_statements(connection.vendor)]
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


def remove(connection) -> None:
    """The guards only: the head trigger is not a protection, and the chain needs it."""
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, create=False):
            cursor.execute(sql)
