"""Run one function in several threads released at the same moment: the concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_together(
    worker: Callable[[int], Any], threads: int, *, timeout: float = 120
) -> tuple[list[Any], list[BaseException]]:
    """Call `worker(index)` in `threads` threads started together.

    Each thread uses its own database connection and closes it. Returns what the calls
    returned and the errors they raised; fails if a thread is still running after `timeout`.
    """
    barrier = threading.Barrier(threads, timeout=30)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcome = worker(index)
            with lock:
                results.append(outcome)
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    started = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=timeout)
    assert not any(t.is_alive() for t in started), "a thread hung"
    return results, errors


def start_in_own_connection(work: Callable[[], Any]) -> threading.Thread:
    """Start `work` in a thread of its own, which closes its database connection when done."""

    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread
