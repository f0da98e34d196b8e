"""A small loopback load generator: N threads, each sending requests back to back for a while.

Gunicorn's sync workers close the connection after each response, so each request opens a
new one (the same for the product and the baseline)."""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any

from bench.common import latency


def hammer(
    port: int, path: str, headers: dict[str, str], seconds: float, concurrency: int = 4
) -> dict[str, Any]:
    samples, elapsed = _hammer(port, path, headers, seconds, concurrency)
    return {"rps": len(samples) / elapsed, "requests": len(samples), **latency(samples)}


def hammer_interleaved(
    port: int,
    targets: dict[str, tuple[str, dict[str, str]]],
    seconds: float,
    rounds: int = 6,
    concurrency: int = 4,
) -> dict[str, dict[str, Any]]:
    """`hammer` each target for `seconds` in all, in turns of seconds / rounds: a product path
    and its baseline then share the machine's ups and downs instead of each getting its own
    stretch of them (on a shared machine, back-to-back runs drifted by ±40%)."""
    samples: dict[str, list[float]] = {name: [] for name in targets}
    elapsed = dict.fromkeys(targets, 0.0)
    for _round in range(rounds):
        for name, (path, headers) in targets.items():
            taken, spent = _hammer(port, path, headers, seconds / rounds, concurrency)
            samples[name].extend(taken)
            elapsed[name] += spent
    return {
        name: {
            "rps": len(samples[name]) / elapsed[name],
            "requests": len(samples[name]),
            "rounds": rounds,
            **latency(samples[name]),
        }
        for name in targets
    }


def _hammer(
    port: int, path: str, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[list[float], float]:
    samples: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker() -> None:
        mine: list[float] = []
        while time.perf_counter() < stop:
            start = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    with lock:
                        failures.append(str(response.status))
                    continue
            except OSError as error:
                with lock:
                    failures.append(repr(error))
                continue
            finally:
                connection.close()
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            samples.extend(mine)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{path}: {len(failures)} failed requests, e.g. {failures[:3]}")
    return samples, elapsed
