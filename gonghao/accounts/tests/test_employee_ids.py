"""The 工号 itself: format, Damm check digit, normalisation, configurable shape, exhaustion."""

from __future__ import annotations

import random

import pytest

from gonghao.accounts import employee_ids
from gonghao.accounts.employee_ids import check_digit, format_number, is_valid, normalise
from gonghao.accounts.models import EmployeeIdCounter, EmployeeIdRecord
from gonghao.accounts.services import allocate_employee_id
from gonghao.audit.models import AuditEvent
from gonghao.core.errors import GonghaoError

# Damm's table, written out again so the tests do not trust the module's own copy.
REFERENCE_TABLE = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
]


def reference_damm(digits: str) -> int:
    interim = 0
    for char in digits:
        interim = REFERENCE_TABLE[interim][int(char)]
    return interim


def sample_sequences() -> list[int]:
    """The first two thousand numbers and a thousand spread over the whole 6-digit range."""
    rng = random.Random(20240601)
    return list(range(1, 2001)) + rng.sample(range(2001, 1_000_000), 1000)


# --- format ------------------------------------------------------------------------------------


def test_default_format_is_prefix_six_digits_and_a_check_digit():
    assert format_number(123) == "E0001230"
    assert format_number(1) == "E0000017"
    assert format_number(999_999).startswith("E999999")
    assert len(format_number(42)) == 8


def test_check_digit_is_damm_over_the_expanded_prefix():
    # Wikipedia's worked example of the Damm algorithm: 572 -> 4.
    assert check_digit("572") == "4"
    # The letter E counts as the two digits 1 4 (A=10 … Z=35).
    for sequence in (1, 123, 4711, 999_999):
        body = f"E{sequence:06d}"
        assert check_digit(body) == str(reference_damm("14" + body[1:]))
    assert check_digit("Z1") == str(reference_damm("351"))


def test_format_number_refuses_numbers_that_do_not_fit():
    for bad in (0, -1, 1_000_000):
        with pytest.raises(OverflowError):
            format_number(bad)
    assert format_number(5, prefix="", digits=3) == "005" + check_digit("005")
    with pytest.raises(OverflowError):
        format_number(1000, prefix="", digits=3)


def test_every_formatted_number_is_valid_and_whole_string_checks_to_zero():
    for sequence in sample_sequences():
        employee_id = format_number(sequence)
        assert is_valid(employee_id), employee_id
        assert reference_damm("14" + employee_id[1:]) == 0


# --- error detection ---------------------------------------------------------------------------


def test_every_single_digit_substitution_is_rejected():
    for sequence in sample_sequences():
        employee_id = format_number(sequence)
        for position in range(1, len(employee_id)):
            original = employee_id[position]
            for replacement in "0123456789":
                if replacement == original:
                    continue
                typo = employee_id[:position] + replacement + employee_id[position + 1 :]
                assert not is_valid(typo), (employee_id, typo)


def test_every_adjacent_transposition_is_rejected():
    checked = 0
    for sequence in sample_sequences():
        employee_id = format_number(sequence)
        for position in range(1, len(employee_id) - 1):
            a, b = employee_id[position], employee_id[position + 1]
            if a == b:
                continue
            swapped = employee_id[:position] + b + a + employee_id[position + 2 :]
            assert not is_valid(swapped), (employee_id, swapped)
            checked += 1
    assert checked > 10_000


def test_a_changed_prefix_letter_is_rejected():
    employee_id = format_number(4711)
    for letter in "ABCDFGHXYZ":
        assert not is_valid(letter + employee_id[1:])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "E",
        "E0",
        "e0000017",  # not normalised
        "E000001 7",
        "E00000X7",
        "EE",
        "0000017E",
        "E0000017\n",
        "ABCDEFGHI0000017",  # prefix longer than 8 letters
        "E" + "0" * 18 + "1",  # more than 18 digits
    ],
)
def test_text_without_the_shape_of_a_gonghao_is_invalid(text):
    assert is_valid(text) is False


# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "E0000017",
        "e0000017",
        "  E0000017  ",
        "\tE0000017\n",
        "E 000 001 7",
        "E-000-001-7",
        "e-000 001-7",
        "E_000_001_7",
        "Ｅ０００００１７",  # full-width, as a Chinese input method types it
        "ｅ０００－００１　７",  # full-width small e, full-width dash, ideographic space
    ],
)
def test_normalise_accepts_what_people_type(typed):
    assert normalise(typed) == "E0000017"
    assert is_valid(normalise(typed))


def test_normalise_of_nothing_is_empty_and_invalid():
    assert normalise("") == ""
    assert normalise(None) == ""
    assert not is_valid(normalise("   -- "))


def test_normalise_does_not_repair_a_typo():
    assert not is_valid(normalise("e-000-001-8"))


# --- configuration -----------------------------------------------------------------------------


def test_prefix_and_digit_count_come_from_settings(settings):
    settings.GONGHAO_EMPLOYEE_ID_PREFIX = "GH"
    settings.GONGHAO_EMPLOYEE_ID_DIGITS = 4
    employee_id = format_number(7)
    assert employee_id[:6] == "GH0007"
    assert len(employee_id) == 7
    assert employee_id[-1] == str(reference_damm("1617" + "0007"))
    assert is_valid(employee_id)
    assert normalise("gh-0007-" + employee_id[-1]) == employee_id
    with pytest.raises(OverflowError):
        format_number(10_000)


def test_no_prefix_is_allowed(settings):
    settings.GONGHAO_EMPLOYEE_ID_PREFIX = ""
    settings.GONGHAO_EMPLOYEE_ID_DIGITS = 5
    employee_id = format_number(42)
    assert employee_id[:5] == "00042"
    assert employee_id[5] == str(reference_damm("00042"))
    assert is_valid(employee_id)


@pytest.mark.parametrize(
    ("prefix", "digits", "ok"),
    [
        ("E", 6, True),
        ("", 3, True),
        ("ABCDEFGH", 12, True),
        ("e", 6, False),
        ("E1", 6, False),
        ("ABCDEFGHI", 6, False),
        ("工", 6, False),
        ("E", 2, False),
        ("E", 13, False),
    ],
)
def test_format_settings_are_validated(settings, prefix, digits, ok):
    settings.GONGHAO_EMPLOYEE_ID_PREFIX = prefix
    settings.GONGHAO_EMPLOYEE_ID_DIGITS = digits
    if ok:
        employee_ids.validate_format_settings()
    else:
        with pytest.raises(ValueError):
            employee_ids.validate_format_settings()


@pytest.mark.django_db
def test_allocation_uses_the_configured_prefix_and_width(settings):
    settings.GONGHAO_EMPLOYEE_ID_PREFIX = "GH"
    settings.GONGHAO_EMPLOYEE_ID_DIGITS = 4
    first = allocate_employee_id(actor=None, purpose="test")
    second = allocate_employee_id(actor=None, purpose="test")
    assert first.employee_id == format_number(1)
    assert first.employee_id.startswith("GH0001")
    assert second.employee_id == format_number(2)
    assert (first.prefix, first.sequence) == ("GH", 1)
    assert EmployeeIdCounter.objects.get(prefix="GH").last_value == 2
    # Another prefix counts on its own.
    settings.GONGHAO_EMPLOYEE_ID_PREFIX = "E"
    settings.GONGHAO_EMPLOYEE_ID_DIGITS = 6
    assert allocate_employee_id(actor=None, purpose="test").employee_id == "E0000017"


# --- exhaustion --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_running_out_of_digits_is_a_clear_error_and_allocates_nothing(settings):
    settings.GONGHAO_EMPLOYEE_ID_PREFIX = "T"
    settings.GONGHAO_EMPLOYEE_ID_DIGITS = 3
    EmployeeIdCounter.objects.create(prefix="T", last_value=998)
    last = allocate_employee_id(actor=None, purpose="test")
    assert last.employee_id.startswith("T999")
    records, events = EmployeeIdRecord.objects.count(), AuditEvent.objects.count()

    with pytest.raises(GonghaoError) as caught:
        allocate_employee_id(actor=None, purpose="test")

    assert caught.value.code == "employee_id_exhausted"
    assert caught.value.status == 409
    assert "GONGHAO_EMPLOYEE_ID_DIGITS" in str(caught.value.message)
    assert EmployeeIdRecord.objects.count() == records
    assert AuditEvent.objects.count() == events
    assert EmployeeIdCounter.objects.get(prefix="T").last_value == 999
