"""The sandbox test clock through commet-sdk 9.7.0 (commet-version 2026-08-27).

The clock belongs to the sandbox organization, only moves forward and, once advanced, freezes every
sandbox timestamp at the simulated time. These tests carry the ``clock`` marker: ``sdk-tests/run``
runs them last (``pytest -m clock``), after every other test of both suites and after the Node
clock tests, which will already have moved the clock. Nothing assumes a fresh clock: targets are
computed from ``GET /test-clock``, periods from the subscription's own startDate.

Wire mapping (commet/resources/test_clock.py):
  test_clock.get()                                GET  /test-clock  -> TestClock (with latestRun)
  test_clock.advance(advance_days=|frozen_time=)  POST /test-clock  -> 202 TestClockRun; moves the
                                                  clock and processes every deadline due up to it
  test_clock.process_billing()                    POST /test-clock/process-billing (no body)
                                                  -> 410 endpoint_deprecated in this API version
The SDK's TestClockLatestRun declares no object/livemode (the wire still has them).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from catalog import assert_subscription_wire, new_customer, seat_plan
from support import (
    DAY,
    TEST_CLOCK_RUN_ID,
    add_months,
    days_remaining,
    expect_api_error,
    expect_validation_error,
    instant,
    request_line,
    shift,
)

# What a test-clock run keeps of the deadlines it processed.
RUN_ITEMS_MAX = 100

pytestmark = pytest.mark.clock

HOUR = timedelta(hours=1)
CLOCK_KEYS = {"simulatedTime", "isActive", "now", "latestRun", "object", "livemode"}
RUN_KEYS = {
    "id",
    "status",
    "startedAtTime",
    "targetTime",
    "estimatedDeadlineCount",
    "completedDeadlineCount",
    "failedDeadlineCount",
    "error",
    "items",
    "object",
    "livemode",
}
ITEM_KEYS = {
    "kind",
    "status",
    "dueAt",
    "subscriptionId",
    "customerName",
    "invoiceNumber",
    "invoiceId",
    "outcome",
    "detail",
    "error",
}


def assert_run_wire(body: Any, *, before: dict[str, Any], target: str) -> list[dict[str, Any]]:
    """A completed TestClockRun on the wire, for an advance requested when the clock read
    ``before``; returns its items."""
    assert isinstance(body, dict) and set(body) == RUN_KEYS, body
    assert TEST_CLOCK_RUN_ID.match(body["id"]), body["id"]
    assert body["status"] == "completed", body
    assert_started(before, body["startedAtTime"])
    assert body["targetTime"] == target
    assert body["error"] is None
    assert body["object"] == "test_clock_run"
    assert body["livemode"] is False
    items = body["items"]
    for item in items:
        assert set(item) == ITEM_KEYS, item
        assert item["kind"] == "billing_cycle", item
        assert item["status"] == "completed", item
        assert item["outcome"] in (
            "renewed", "canceled", "trial_ended", "usage_reset", "plan_changed", "paused", "resumed"
        ), item
        if item["outcome"] == "resumed":
            # A resume bills a new period only after a pause from the period end.
            assert (item["invoiceNumber"] is None) == (item["invoiceId"] is None), item
        elif item["outcome"] in ("canceled", "usage_reset", "paused"):
            # A cancellation invoices only seat true-ups and usage still owed, a usage reset
            # inside a longer billing period only usage owed (other suites' yearly plans pass
            # month ends too); these tests accrue none.
            assert item["invoiceNumber"] is None and item["invoiceId"] is None, item
        else:
            # Renewals and trial ends of paid plans issue the new period's invoice.
            assert re.fullmatch(r"INV-\d{6}", item["invoiceNumber"]), item
            assert re.fullmatch(r"inv_[0-9A-HJKMNP-TV-Z]{26}", item["invoiceId"]), item
        assert item["error"] is None
        assert instant(item["dueAt"]) <= instant(target), item
    due = [instant(i["dueAt"]) for i in items]
    assert due == sorted(due), "deadlines are processed in chronological order"
    assert body["failedDeadlineCount"] == 0
    # A run keeps at most 100 items (the earliest); the suites' other subscriptions renew too.
    assert len(items) == min(body["completedDeadlineCount"], RUN_ITEMS_MAX)
    assert body["estimatedDeadlineCount"] == body["completedDeadlineCount"]
    return items


def assert_started(before: dict[str, Any], started: str) -> None:
    """A run starts at the clock time of the request: exactly the simulated time when the clock
    was already active, else real time at or after the earlier read."""
    if before["isActive"]:
        assert started == before["now"], (started, before["now"])
    else:
        assert instant(before["now"]) <= instant(started), (started, before["now"])


def read_clock(sdk, wire) -> dict[str, Any]:
    clock = sdk.test_clock.get()
    assert request_line(wire.last) == "GET /api/v1/test-clock"
    body = wire.last.body
    assert isinstance(body, dict) and set(body) == CLOCK_KEYS, body
    assert body["object"] == "test_clock" and body["livemode"] is False
    instant(body["now"], "now")
    if body["isActive"]:
        assert body["simulatedTime"] == body["now"], "an active clock's now is the simulated time"
    else:
        assert body["simulatedTime"] is None
    assert clock.now == body["now"] and clock.is_active is body["isActive"]
    assert clock.simulated_time == body["simulatedTime"]
    return body


def items_for(items: list[dict[str, Any]], subscription_id: str) -> list[dict[str, Any]]:
    return [i for i in items if i["subscriptionId"] == subscription_id]


def test_get_shape(sandbox, wire):
    first = read_clock(sandbox, wire)
    second = read_clock(sandbox, wire)
    if first["isActive"]:
        assert second == first, "a simulated clock is frozen between advances"
    latest = first["latestRun"]
    if latest is not None:
        assert set(latest) == RUN_KEYS, latest


def test_live_key_is_sandbox_only(live, sandbox, wire):
    before = read_clock(sandbox, wire)
    for call in (
        lambda: live.test_clock.get(),
        lambda: live.test_clock.advance(advance_days=1),
    ):
        expect_api_error(wire, call, status=403, code="sandbox_only", type="authentication_error")
    after = read_clock(sandbox, wire)
    if before["isActive"]:
        assert after["now"] == before["now"], "the sandbox clock did not move"


def test_process_billing_is_deprecated(sandbox, wire):
    before = read_clock(sandbox, wire)
    error = expect_api_error(
        wire, lambda: sandbox.test_clock.process_billing(), status=410, code="endpoint_deprecated", type="not_found_error"
    )
    assert request_line(wire.last) == "POST /api/v1/test-clock/process-billing"
    assert wire.last.request_body is None
    assert error["param"] is None
    assert read_clock(sandbox, wire)["latestRun"] == before["latestRun"], "nothing ran"


def test_advance_days_and_validation(sandbox, wire):
    before = read_clock(sandbox, wire)

    run = sandbox.test_clock.advance(advance_days=1)
    assert request_line(wire.last) == "POST /api/v1/test-clock"
    assert wire.last.request_body == {"advanceDays": 1}
    assert wire.last.status == 202, "advance answers 202 Accepted with the run"
    body = wire.last.body
    assert_run_wire(body, before=before, target=shift(body["startedAtTime"], DAY))
    assert run.id == body["id"] and run.status == "completed" and run.object == "test_clock_run"
    assert run.target_time == body["targetTime"]

    after = read_clock(sandbox, wire)
    assert after["isActive"] is True
    assert after["simulatedTime"] == body["targetTime"]
    assert after["latestRun"] == body, "latestRun is the run just made"
    clock = sandbox.test_clock.get()
    assert clock.latest_run.id == run.id and clock.latest_run.status == "completed"

    target = body["targetTime"]
    expect_validation_error(wire, lambda: sandbox.test_clock.advance(frozen_time=shift(target, -DAY)), "frozenTime")
    expect_validation_error(wire, lambda: sandbox.test_clock.advance(frozen_time=target), "frozenTime")
    expect_validation_error(wire, lambda: sandbox.test_clock.advance(advance_days=0), "advanceDays")
    expect_validation_error(wire, lambda: sandbox.test_clock.advance(advance_days=3651), "advanceDays")
    expect_validation_error(
        wire, lambda: sandbox.test_clock.advance(advance_days=1, frozen_time=shift(target, DAY))
    )
    expect_validation_error(wire, lambda: sandbox.test_clock.advance())
    assert wire.last.request_body is None, "the SDK sends no body when both are None"
    assert read_clock(sandbox, wire) == after, "rejected advances do not move the clock"


def test_renewal_and_scheduled_cancellation(sandbox, wire):
    sp = seat_plan(sandbox)
    renewing = new_customer(sandbox, "renew")
    leaving = new_customer(sandbox, "leave")

    clock = read_clock(sandbox, wire)
    sub_a = sandbox.subscriptions.create(
        customer_id=renewing.id, plan_code=sp.plan.code, billing_interval="monthly", initial_seats={sp.feature.code: 6}
    )
    _, end_a = assert_subscription_wire(wire.last.body, "created", customer=renewing, seat_plan=sp)
    sub_b = sandbox.subscriptions.create(customer_id=leaving.id, plan_code=sp.plan.code, billing_interval="monthly")
    _, end_b = assert_subscription_wire(wire.last.body, "created", customer=leaving, seat_plan=sp)
    if clock["isActive"]:
        assert sub_a.start_date == clock["now"] == sub_b.start_date, "startDate is the simulated time"
    canceled = sandbox.subscriptions.cancel(sub_b.id)
    assert canceled.cancel_at_period_end is True and canceled.cancellation.effective_at == end_b

    # advance past both period ends: the run renews A and cancels B
    before = read_clock(sandbox, wire)
    target = shift(max(end_a, end_b), HOUR)
    run = sandbox.test_clock.advance(frozen_time=target)
    assert wire.last.request_body == {"frozenTime": target}
    assert wire.last.status == 202
    items = assert_run_wire(wire.last.body, before=before, target=target)
    assert items_for(items, sub_a.id) == [
        {
            "kind": "billing_cycle",
            "status": "completed",
            "dueAt": end_a,
            "subscriptionId": sub_a.id,
            "customerName": renewing.full_name,
            "invoiceNumber": items_for(items, sub_a.id)[0]["invoiceNumber"],
            "invoiceId": items_for(items, sub_a.id)[0]["invoiceId"],
            "outcome": "renewed",
            "detail": None,
            "error": None,
        }
    ]
    [item_b] = items_for(items, sub_b.id)
    assert item_b["outcome"] == "canceled" and item_b["dueAt"] == end_b
    assert item_b["customerName"] == leaving.full_name
    [sdk_item] = [i for i in run.items if i.subscription_id == sub_a.id]
    assert sdk_item.outcome == "renewed" and sdk_item.due_at == end_a

    # A: the next period starts at the old end and ends one month after it (from the anchor)
    renewed = sandbox.subscriptions.get(sub_a.id)
    body = wire.last.body
    start, end = assert_subscription_wire(
        body, "full", customer=renewing, seat_plan=sp, seats=6, period=1, now=target
    )
    assert start == end_a
    assert end == add_months(sub_a.start_date, 2)
    assert body["currentPeriod"]["daysRemaining"] == days_remaining(end, target)
    assert renewed.next_billing_date == end
    assert renewed.billing_day_of_month == instant(sub_a.start_date).day
    assert instant(body["updatedAt"]) <= instant(target)
    assert sandbox.subscriptions.get_active(customer_id=renewing.id) == renewed

    # B: canceled at its period end
    gone = sandbox.subscriptions.get(sub_b.id)
    assert gone.status == "canceled"
    assert gone.current_period is None
    assert gone.next_billing_date is None
    assert gone.end_date == end_b
    assert sandbox.subscriptions.get_active(customer_id=leaving.id) is None

    clock = read_clock(sandbox, wire)
    assert clock["now"] == target
    assert clock["latestRun"]["id"] == run.id


def test_catch_up_several_periods(sandbox, wire):
    sp = seat_plan(sandbox)
    customer = new_customer(sandbox, "catch-up")
    sub = sandbox.subscriptions.create(customer_id=customer.id, plan_id=sp.plan.id, billing_interval="monthly")
    assert_subscription_wire(wire.last.body, "created", customer=customer, seat_plan=sp)

    before = read_clock(sandbox, wire)
    first_end = add_months(sub.start_date, 1)
    second_end = add_months(sub.start_date, 2)
    target = shift(second_end, HOUR)
    sandbox.test_clock.advance(frozen_time=target)
    assert wire.last.status == 202
    items = assert_run_wire(wire.last.body, before=before, target=target)
    mine = items_for(items, sub.id)
    if len(items) < RUN_ITEMS_MAX:
        assert [(i["dueAt"], i["outcome"]) for i in mine] == [(first_end, "renewed"), (second_end, "renewed")]
    else:
        # Past the kept items the run only counts; the periods below show both renewals.
        assert [(i["dueAt"], i["outcome"]) for i in mine] == [(first_end, "renewed"), (second_end, "renewed")][: len(mine)]

    sandbox.subscriptions.get(sub.id)
    start, end = assert_subscription_wire(
        wire.last.body, "full", customer=customer, seat_plan=sp, period=2, now=target
    )
    assert start == second_end
    assert end == add_months(sub.start_date, 3)
