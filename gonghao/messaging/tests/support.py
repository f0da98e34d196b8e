"""Test backends: one that records what it delivers, one that always fails."""

from __future__ import annotations

import threading

from gonghao.messaging.backends import DeliveryError

_lock = threading.Lock()
delivered: list[int] = []


def reset() -> None:
    with _lock:
        delivered.clear()


class RecordingBackend:
    def deliver(self, message) -> None:
        with _lock:
            delivered.append(message.pk)


class FailingBackend:
    def deliver(self, message) -> None:
        raise DeliveryError("mail server said no")


class CrashingBackend:
    def deliver(self, message) -> None:
        raise RuntimeError("bug in a backend")


RECORDING = f"{__name__}.RecordingBackend"
FAILING = f"{__name__}.FailingBackend"
CRASHING = f"{__name__}.CrashingBackend"
