"""`gonghao audit verify` over the whole chain against bare hashlib over the same bytes."""

from __future__ import annotations

import hashlib
import io
import time

from bench.common import report, row, setup


def main() -> None:
    setup()
    from django.core.management import call_command

    from gonghao.audit.services import _spelt_rows_in_seq_order, _spelt_text

    out = io.StringIO()
    start = time.perf_counter()
    call_command("audit", "verify", stdout=out)
    verify_seconds = time.perf_counter() - start
    checked = int(out.getvalue().split(":")[1].split()[0])

    hashing = 0.0
    total_bytes = 0
    batch: list[bytes] = []

    def hash_batch() -> float:
        began = time.perf_counter()
        for payload in batch:
            hashlib.sha256(payload).hexdigest()
        return time.perf_counter() - began

    # The canonical bytes verify hashes, read as it reads them (the same bytes `record` hashed
    # for every event of a chain that verifies).
    for _chain, seq, prev_hash, _hash, *spelt in _spelt_rows_in_seq_order():
        payload = _spelt_text(seq, prev_hash, *spelt).encode()
        total_bytes += len(payload)
        batch.append(payload)
        if len(batch) == 10000:
            hashing += hash_batch()
            batch = []
    hashing += hash_batch()
    verify_rate = checked / verify_seconds
    bare_rate = checked / hashing
    report(
        "audit_verify",
        [
            row(
                f"audit verify over {checked} events",
                verify_rate,
                "ev/s",
                baseline=bare_rate,
                baseline_what="bare sha256 ev/s",
                target="≥ 0.5 of bare hashing",
                met=verify_rate / bare_rate >= 0.5,
                verify_seconds=round(verify_seconds, 2),
                mean_event_bytes=round(total_bytes / max(checked, 1)),
            )
        ],
    )


if __name__ == "__main__":
    main()
