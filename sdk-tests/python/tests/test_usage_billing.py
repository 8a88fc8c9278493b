"""Usage and quota billing through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects;
usage.md §2, §5): metered units past the included amount are billed in arrears on the renewal
invoice and the period counter starts again at zero; a quota's extra units are billed like seats
(a prorated true-up for units added during the period, extra units held in advance), and
billedQuantity (the period's peak) starts again at the balance held.

``clock`` marker: ``sdk-tests/run`` runs this after every non-clock test and after the Node clock
tests, which will already have moved the clock. Nothing assumes a fresh clock: targets are
computed from the subscription's own startDate, and the true-up from the actual daysLeft /
periodDays with the contract's formula.

Wire mapping: usage.* see test_usage.py, quota.* test_quota.py, invoices.* invoicing.py;
test_clock.advance(frozen_time=) POST /test-clock -> 202 TestClockRun, which processes every
deadline due up to the target (a renewal issues the recurring invoice).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from invoicing import (
    assert_invoice_wire,
    get_invoice,
    list_invoices,
    plan_base_line,
    seat_advance_line,
    true_up_cents,
    true_up_line,
)
from metering import (  # cancel_subscriptions: an autouse fixture
    CALL_UNIT_PRICE,
    INCLUDED_CALLS,
    INCLUDED_TASKS,
    PLAN_PRICE,
    TASK_UNIT_PRICE,
    access,
    cancel_subscriptions,
    counted_usage,
    metered_catalog,
    subscribe,
)
from support import DAY, add_months, days_remaining, instant, request_line, shift

pytestmark = pytest.mark.clock

TASK_UNIT_CENTS = TASK_UNIT_PRICE // 100  # 2500
CALL_UNIT_CENTS = CALL_UNIT_PRICE // 100  # 25


def advance_to(sdk, wire, target: str, subscription_id: str) -> list[dict[str, Any]]:
    """Moves the clock to ``target``; returns the run's items for this subscription."""
    sdk.test_clock.advance(frozen_time=target)
    assert request_line(wire.last) == "POST /api/v1/test-clock"
    assert wire.last.status == 202
    body = wire.last.body
    assert body["status"] == "completed" and body["targetTime"] == target, body
    assert body["failedDeadlineCount"] == 0, body
    return [i for i in body["items"] if i["subscriptionId"] == subscription_id]


def units_used(sdk, wire, customer_id: str, code: str) -> int:
    sdk.feature_access.get(code, customer_id=customer_id)
    return wire.last.body["consumption"]["unitsUsed"]


def test_renewal_bills_usage_overage_and_quota_extras(sandbox, wire):
    cat = metered_catalog(sandbox)
    calls, tasks = cat.calls, cat.tasks
    subscribed = subscribe(sandbox, wire, cat.plan, "usage-billing")
    customer, sub_id = subscribed.customer, subscribed.sub["id"]
    cid = customer.id
    start = subscribed.start
    end1, end2 = add_months(start, 1), add_months(start, 2)
    common = {"customer": customer, "subscription_id": sub_id, "invoice_type": "recurring", "plan_name": cat.plan.name}

    _, items = list_invoices(sandbox, wire, subscription_id=sub_id)
    assert len(items) == 1
    _, opening = get_invoice(sandbox, wire, items[0]["id"])
    assert_invoice_wire(
        opening,
        **common,
        period_start=start,
        period_end=end1,
        issued_at=start,
        lines=[plan_base_line(PLAN_PRICE)],
        total=PLAN_PRICE,
    )

    # ---- the middle of the first period: 130 calls (30 past the 100 included), 7 tasks (2 extra)
    span = instant(end1) - instant(start)
    period_days = span.days
    assert span == timedelta(days=period_days) and 28 <= period_days <= 31, span
    days_left = period_days // 2
    middle = shift(end1, -days_left * DAY)
    assert advance_to(sandbox, wire, middle, sub_id) == [], "nothing of ours is due mid-period"
    assert days_remaining(end1, middle) == days_left

    tracked = sandbox.usage.track(customer_id=cid, feature_code=calls.code, value=130)
    assert (tracked.ts, tracked.created_at) == (middle, middle), "the event happens at the clock time"
    added = sandbox.quota.set(customer_id=cid, feature_code=tasks.code, count=INCLUDED_TASKS + 2)
    assert (added.previous_balance, added.new_balance, added.ts) == (0, 7, middle)
    assert units_used(sandbox, wire, cid, calls.code) == 130
    # back down to 6 before the period ends: the peak (7) is what the period is billed for
    sandbox.quota.remove(customer_id=cid, feature_code=tasks.code)
    quota = sandbox.quota.get(customer_id=cid, feature_code=tasks.code)
    assert (quota.current, quota.billed_quantity) == (6, 7)
    _, items = list_invoices(sandbox, wire, subscription_id=sub_id)
    assert [i["id"] for i in items] == [opening["id"]], "usage and true-ups accrue for the renewal"

    # ---- the renewal: plan base, the quota's true-up, its extra units in advance, the calls' overage
    [renewed] = advance_to(sandbox, wire, end1, sub_id)
    assert renewed["kind"] == "billing_cycle" and renewed["outcome"] == "renewed", renewed
    _, items = list_invoices(sandbox, wire, subscription_id=sub_id)
    assert [i["id"] for i in items[1:]] == [opening["id"]]
    assert items[0]["id"] == renewed["invoiceId"]
    _, renewal = get_invoice(sandbox, wire, renewed["invoiceId"])
    true_up = true_up_cents(2, TASK_UNIT_PRICE, days_left, period_days)
    overage_line = {
        "lineType": "feature_overage",
        "featureName": calls.name,
        "quantity": 30,
        "unitAmount": CALL_UNIT_CENTS,
        "amount": 30 * CALL_UNIT_CENTS,
        "includedAmount": INCLUDED_CALLS,
        "usedAmount": 130,
        "overageAmount": 30,
        "discountType": None,
        "discountValue": None,
        "discountName": None,
        "chargeType": "standard",
    }
    assert_invoice_wire(
        renewal,
        **common,
        period_start=end1,
        period_end=end2,
        issued_at=end1,
        lines=[
            plan_base_line(PLAN_PRICE),
            true_up_line(tasks.name, units=2, amount=true_up, seat_event_id=added.id, unit_cents=TASK_UNIT_CENTS)
            | {"lineType": "feature_quota"},
            seat_advance_line(tasks.name, count=6, included=INCLUDED_TASKS, unit_cents=TASK_UNIT_CENTS)
            | {"lineType": "feature_quota"},
            overage_line,
        ],
        total=PLAN_PRICE + true_up + TASK_UNIT_CENTS + 30 * CALL_UNIT_CENTS,
    )
    _, true_up_out, advance_out, overage_out = renewal["lineItems"]
    assert f"{days_left}/{period_days} days" in true_up_out["description"], true_up_out["description"]
    assert advance_out["description"] == f"1 × {tasks.code} above {INCLUDED_TASKS} included"
    assert overage_out["description"] == f"30 × {calls.code} above {INCLUDED_CALLS} included, at $0.25 per unit"

    # ---- the new period: calls start again at zero, the quota balance stays, its peak restarts
    period2 = {"start": end1, "end": end2}
    sandbox.feature_access.list(customer_id=cid)
    by_code = {item["code"]: item for item in wire.last.body["data"]}
    assert by_code[calls.code] == access(
        calls,
        consumption=counted_usage(
            model="metered", period=period2, used=0, included=INCLUDED_CALLS, billable=True, unit_price=CALL_UNIT_PRICE
        ),
    )
    assert by_code[tasks.code] == access(
        tasks,
        usage=counted_usage(
            period=period2, used=6, included=INCLUDED_TASKS, billable=True, unit_price=TASK_UNIT_PRICE, billed=6
        ),
    )
    sandbox.usage.check(customer_id=cid, feature_code=calls.code, quantity=100)
    checked = wire.last.body
    assert (checked["allowed"], checked["current"], checked["remaining"]) == (True, 0, INCLUDED_CALLS)
    sandbox.usage.track(customer_id=cid, feature_code=calls.code, value=20)
    assert units_used(sandbox, wire, cid, calls.code) == 20, "the new period counts from zero"
    now = sandbox.quota.get(customer_id=cid, feature_code=tasks.code)
    assert (now.current, now.billed_quantity, now.as_of) == (6, 6, quota.as_of)
