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
    return {"rps": len(samples) / elapsed, "requests": len(samples), **latency(samples)}
