"""The audit log in tests: every chain unforked, numbered as the database numbers events."""

from __future__ import annotations

from collections import defaultdict

from gonghao.audit.chain import GENESIS_HASH
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import chain_heads, seq_is_gapless, verify_chain


def assert_log_intact(expected_events: int) -> list[dict]:
    """Each chain links event to event from the genesis to its head, no hash twice, the numbers
    rise (without gaps where the database numbers without gaps), and verify agrees.

    Returns the events in seq order, as dicts with seq, chain, prev_hash, hash and params.
    """
    rows = list(
        AuditEvent.objects.order_by("seq").values("seq", "chain", "prev_hash", "hash", "params")
    )
    assert len(rows) == expected_events
    seqs = [r["seq"] for r in rows]
    if seq_is_gapless():
        assert seqs == list(range(1, expected_events + 1))
    else:
        assert seqs == sorted(set(seqs))
    tips: dict[int, str] = defaultdict(lambda: GENESIS_HASH)
    last_seq: dict[int, int] = {}
    for row in rows:
        assert row["prev_hash"] == tips[row["chain"]], f"fork at #{row['seq']}"
        tips[row["chain"]] = row["hash"]
        last_seq[row["chain"]] = row["seq"]
    assert len({r["hash"] for r in rows}) == expected_events
    heads = chain_heads()
    for chain, tip in tips.items():
        assert heads[chain] == (last_seq[chain], tip)
    result = verify_chain()
    assert result.ok, result
    assert result.checked == expected_events
    return rows
