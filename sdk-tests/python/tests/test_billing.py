"""Seat billing and invoices through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects):
the worked examples of seats.md §5 (examples.md scenarios 2, 3 and 5) to the cent, over three
renewals driven by the sandbox test clock.

``clock`` marker: ``sdk-tests/run`` runs this after every non-clock test and after the Node clock
tests, which will already have moved the clock. Nothing assumes a fresh clock: every target is
computed from the subscription's own startDate (periods from the anchor, catalog.md §6), and the
true-up is derived from the actual daysLeft / periodDays with the contract's formula; when the
first period has 30 days the test lands on 15 days left and the amounts are exactly the KB's
(1250, 16150).

Wire mapping: invoices.* see invoicing.py; test_clock.advance(frozen_time=) POST /test-clock
-> 202 TestClockRun, which processes every deadline due up to the target (a renewal issues the
recurring invoice; its run item carries invoiceNumber / invoiceId).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from catalog import INCLUDED_SEATS, MONTHLY_PRICE, SEAT_UNIT_PRICE, assert_subscription_wire, new_customer, seat_plan
from invoicing import (
    assert_list_item_wire,
    assert_invoice_wire,
    get_invoice,
    invoice_seq,
    list_invoices,
    plan_base_line,
    seat_advance_line,
    true_up_cents,
    true_up_line,
)
from support import DAY, add_months, days_remaining, expect_validation_error, instant, request_line, shift

pytestmark = pytest.mark.clock


def advance_to(sdk, wire, target: str, subscription_id: str) -> list[dict[str, Any]]:
    """Moves the clock to ``target``; returns the run's items for this subscription."""
    run = sdk.test_clock.advance(frozen_time=target)
    assert request_line(wire.last) == "POST /api/v1/test-clock"
    assert wire.last.request_body == {"frozenTime": target}
    assert wire.last.status == 202
    body = wire.last.body
    assert body["status"] == "completed", body
    assert body["targetTime"] == target
    assert body["failedDeadlineCount"] == 0, body
    assert run.id == body["id"] and run.target_time == target
    mine = [i for i in body["items"] if i["subscriptionId"] == subscription_id]
    assert [i.invoice_id for i in run.items if i.subscription_id == subscription_id] == [i["invoiceId"] for i in mine]
    return mine


def renew_at(sdk, wire, end: str, subscription_id: str) -> dict[str, Any]:
    """Moves the clock to a period end; exactly one renewal of this subscription, with its invoice."""
    [item] = advance_to(sdk, wire, end, subscription_id)
    assert item["kind"] == "billing_cycle" and item["outcome"] == "renewed", item
    assert item["status"] == "completed" and item["error"] is None, item
    assert item["dueAt"] == end
    return item


def seat_change(sdk, method: str, *, customer, code: str, count: int, before: int, after: int, at: str):
    event = getattr(sdk.seats, method)(customer_id=customer.id, feature_code=code, count=count)
    assert (event.previous_balance, event.new_balance) == (before, after), (method, count)
    assert event.ts == at, "the seat event happens at the clock time"
    return event


def test_seat_billing_over_three_renewals(sandbox, wire):
    sp = seat_plan(sandbox)
    customer = new_customer(sandbox, "billing")
    feature = sp.feature
    seats = {"customer": customer, "code": feature.code}

    # ---- Scenario 2: 6 seats from the start -> first invoice 9900 + 1 x 2500 = 12400 ----------
    sub = sandbox.subscriptions.create(
        customer_id=customer.id, plan_code=sp.plan.code, billing_interval="monthly", initial_seats={feature.code: 6}
    )
    start, end1 = assert_subscription_wire(wire.last.body, "created", customer=customer, seat_plan=sp)
    end2, end3, end4 = (add_months(start, n) for n in (2, 3, 4))
    common = {
        "customer": customer,
        "subscription_id": sub.id,
        "invoice_type": "recurring",
        "plan_name": sp.plan.name,
    }

    _, items = list_invoices(sandbox, wire, subscription_id=sub.id)
    assert len(items) == 1, "one invoice at creation"
    first_sdk, first = get_invoice(sandbox, wire, items[0]["id"])
    assert_invoice_wire(
        first,
        **common,
        period_start=start,
        period_end=end1,
        issued_at=start,
        lines=[plan_base_line(MONTHLY_PRICE), seat_advance_line(feature.name, count=6, included=INCLUDED_SEATS)],
        total=12400,
    )
    assert first_sdk.total == 12400 and first_sdk.status == "paid" and first_sdk.invoice_type == "recurring"
    assert_list_item_wire(items[0], first)

    # ---- Scenario 3: one seat added in the middle of the first period ---------------------------
    span = instant(end1) - instant(start)
    period_days = span.days
    assert span == timedelta(days=period_days) and 28 <= period_days <= 31, span
    days_left = period_days // 2
    middle = shift(end1, -days_left * DAY)
    assert advance_to(sandbox, wire, middle, sub.id) == [], "nothing of ours is due mid-period"
    assert days_remaining(end1, middle) == days_left, "a whole number of days is left"
    assert sandbox.subscriptions.get(sub.id).current_period.days_remaining == days_left

    added = seat_change(sandbox, "add", **seats, count=1, before=6, after=7, at=middle)
    true_up = true_up_cents(1, SEAT_UNIT_PRICE, days_left, period_days)
    if period_days == 30:
        assert days_left == 15
        assert true_up == 1250, "1 x $25 x 15/30 (seats.md §5 example 2)"
    _, items = list_invoices(sandbox, wire, subscription_id=sub.id)
    assert [i["id"] for i in items] == [first["id"]], "a true-up accrues for the renewal; nothing is invoiced now"

    # ---- Scenario 5: renewal = plan base + true-up + 2 extra seats in advance -------------------
    item1 = renew_at(sandbox, wire, end1, sub.id)
    _, items = list_invoices(sandbox, wire, subscription_id=sub.id)
    assert [i["id"] for i in items] == [item1["invoiceId"], first["id"]], "newest first"
    renewal1_sdk, renewal1 = get_invoice(sandbox, wire, item1["invoiceId"])
    assert renewal1["invoiceNumber"] == item1["invoiceNumber"], "the run item names the renewal invoice"
    assert_invoice_wire(
        renewal1,
        **common,
        period_start=end1,
        period_end=end2,
        issued_at=end1,
        lines=[
            plan_base_line(MONTHLY_PRICE),
            true_up_line(feature.name, units=1, amount=true_up, seat_event_id=added.id),
            seat_advance_line(feature.name, count=7, included=INCLUDED_SEATS),
        ],
        total=MONTHLY_PRICE + true_up + 2 * 2500,
    )
    description = renewal1["lineItems"][1]["description"]
    assert f"{days_left}/{period_days} days" in description, f"the true-up states its day fraction: {description}"
    assert description.startswith("1 × "), description
    assert renewal1_sdk.line_items[1].charge_type == "true_up"
    assert not hasattr(renewal1_sdk.line_items[1], "seat_event_id"), "P9 drops the seatEventId extension"
    if period_days == 30:
        assert renewal1["total"] == 16150, "9900 + 1250 + 5000 (examples.md scenario 5)"
    assert invoice_seq(renewal1["invoiceNumber"]) > invoice_seq(first["invoiceNumber"]), "numbers grow"

    # ---- Second period: remove 2 on day 10, add 2 back on day 20 -> no true-up (example 3) ------
    day10, day20 = shift(end1, 10 * DAY), shift(end1, 20 * DAY)
    assert advance_to(sandbox, wire, day10, sub.id) == []
    seat_change(sandbox, "remove", **seats, count=2, before=7, after=5, at=day10)
    assert advance_to(sandbox, wire, day20, sub.id) == []
    seat_change(sandbox, "add", **seats, count=2, before=5, after=7, at=day20)
    item2 = renew_at(sandbox, wire, end2, sub.id)
    _, renewal2 = get_invoice(sandbox, wire, item2["invoiceId"])
    assert_invoice_wire(
        renewal2,
        **common,
        period_start=end2,
        period_end=end3,
        issued_at=end2,
        lines=[plan_base_line(MONTHLY_PRICE), seat_advance_line(feature.name, count=7, included=INCLUDED_SEATS)],
        total=14900,
    )
    assert invoice_seq(renewal2["invoiceNumber"]) > invoice_seq(renewal1["invoiceNumber"])

    # ---- Third period: remove 2 -> the next renewal bills the plan base only --------------------
    day9 = shift(end2, 9 * DAY)
    assert advance_to(sandbox, wire, day9, sub.id) == []
    seat_change(sandbox, "remove", **seats, count=2, before=7, after=5, at=day9)
    item3 = renew_at(sandbox, wire, end3, sub.id)
    _, renewal3 = get_invoice(sandbox, wire, item3["invoiceId"])
    assert_invoice_wire(
        renewal3,
        **common,
        period_start=end3,
        period_end=end4,
        issued_at=end3,
        lines=[plan_base_line(MONTHLY_PRICE)],
        total=MONTHLY_PRICE,
    )
    assert invoice_seq(renewal3["invoiceNumber"]) > invoice_seq(renewal2["invoiceNumber"])

    sandbox.subscriptions.get(sub.id)
    body = wire.last.body
    p3, _ = assert_subscription_wire(
        body, "full", customer=customer, seat_plan=sp, seats=5, period=3, now=end3, updatedAt=body["updatedAt"]
    )
    assert p3 == end3

    # ---- The list: newest first, direct InvoiceListItems; totals per generation -----------------
    issued = [renewal3, renewal2, renewal1, first]
    result, items = list_invoices(sandbox, wire, subscription_id=sub.id, limit=10)
    assert [i["id"] for i in items] == [i["id"] for i in issued]
    assert [i.total for i in result.data] == [MONTHLY_PRICE, 14900, MONTHLY_PRICE + true_up + 5000, 12400]
    for item, full in zip(items, issued):
        assert_list_item_wire(item, full)
    seqs = [invoice_seq(i["invoiceNumber"]) for i in items]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 4, "newest (highest number) first"
    assert result.has_more is False

    # paging with limit and cursor
    page1, items1 = list_invoices(sandbox, wire, subscription_id=sub.id, limit=3)
    assert [i["id"] for i in items1] == [i["id"] for i in issued[:3]]
    assert page1.has_more is True and page1.next_cursor
    page2, items2 = list_invoices(sandbox, wire, subscription_id=sub.id, limit=3, cursor=page1.next_cursor)
    assert [i["id"] for i in items2] == [first["id"]]
    assert page2.has_more is False

    # by customer (externalId or cus_ id), with status filters
    _, by_external = list_invoices(sandbox, wire, customer_id=customer.external_id, status="paid")
    assert by_external == items
    _, by_id = list_invoices(sandbox, wire, customer_id=customer.id)
    assert by_id == items
    _, voided = list_invoices(sandbox, wire, customer_id=customer.id, status="void")
    assert voided == []

    # ---- Paid invoices are final: PATCH /status answers 400 validation_error (param status) -----
    for status in ("void", "paid"):
        expect_validation_error(wire, lambda: sandbox.invoices.update_status(first["id"], status=status), "status")
        assert request_line(wire.last) == f"PATCH /api/v1/invoices/{first['id']}/status"
        assert wire.last.request_body == {"status": status}

    # ---- Issued invoices never change: read again, identical -----------------------------------
    for invoice in issued:
        _, again = get_invoice(sandbox, wire, invoice["id"])
        assert again == invoice, f"{invoice['invoiceNumber']} unchanged"
