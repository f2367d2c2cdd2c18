"""``retrying``: a deadlock's loser runs again, on its own transaction only."""

from __future__ import annotations

import pytest
from django.db import OperationalError, transaction

from leads.services.retry import ATTEMPTS, retrying


class _Cause(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _failing(codes: list[str]):
    calls = []

    def write() -> str:
        calls.append(1)
        if len(calls) <= len(codes):
            raise OperationalError("lost") from _Cause(codes[len(calls) - 1])
        return "stored"

    return write, calls


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_or_serialisation_failure_runs_the_write_again(caplog):
    write, calls = _failing(["40P01", "40001"])
    assert retrying(write, what="test") == "stored"
    assert len(calls) == 3
    assert "test: 40P01, retrying (attempt 1)" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_it_gives_up_after_the_last_attempt_and_on_other_errors():
    write, calls = _failing(["40P01"] * ATTEMPTS)
    with pytest.raises(OperationalError):
        retrying(write, what="test")
    assert len(calls) == ATTEMPTS
    write, calls = _failing(["55P03"])  # a lock timeout is the caller's 503, not a retry
    with pytest.raises(OperationalError):
        retrying(write, what="test")
    assert len(calls) == 1


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_it_does_not_retry():
    write, calls = _failing(["40P01"])
    with pytest.raises(OperationalError), transaction.atomic():
        retrying(write, what="test")
    assert len(calls) == 1
