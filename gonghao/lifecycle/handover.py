"""Handover steps of an offboarding: a small registry other apps add their record moves to.

A step has two functions. `plan(employee, successor)` lists the records that would move,
without changing anything (the offboarding page previews it). `apply(employee, successor,
moves)` performs exactly those moves; it runs inside the offboarding's transaction, after the
employee row is locked. Each `Move` becomes one line of the handover report and one
`handover.move` audit event on the moved record.

    register_handover_step(
        "reviews.items", label=_("Open access-review items"), plan=plan_items,
        apply=move_items, order=60,
    )
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class Move:
    """One record handed over. `to` is the new holder, None for the public pool / nobody;
    `moved` is False for a record listed in the report but deliberately left where it is."""

    kind: str  # "customer", "opportunity", … (short, stable, used in the CSV)
    target_type: str  # model label for the audit event, e.g. "crm.customer"
    record_id: Any
    label: str
    to: Any = None
    moved: bool = True
    note: str = ""


Plan = Callable[[Any, Any], list[Move]]
Apply = Callable[[Any, Any, list[Move]], None]


@dataclass(frozen=True)
class HandoverStep:
    code: str
    label: Promise
    plan: Plan
    apply: Apply
    order: int


_STEPS: dict[str, HandoverStep] = {}


def register_handover_step(
    code: str, *, label: Promise, plan: Plan, apply: Apply, order: int = 100
) -> HandoverStep:
    """Add a step; steps run by `order`, then code. Registering the same code twice with other
    functions is a programming error."""
    step = HandoverStep(code, label, plan, apply, order)
    existing = _STEPS.get(code)
    if existing is not None and (existing.plan, existing.apply) != (plan, apply):
        raise ValueError(f"handover step {code} registered twice")
    _STEPS[code] = step
    return step


def unregister_handover_step(code: str) -> None:
    """Tests that register a temporary step take it away again."""
    _STEPS.pop(code, None)


def all_steps() -> list[HandoverStep]:
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.code))


def plan_all(employee: Any, successor: Any) -> list[tuple[HandoverStep, list[Move]]]:
    return [(step, step.plan(employee, successor)) for step in all_steps()]
