"""Plan changes through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects; lifecycle.md
§4, §12 scenarios 1–3).

The unmarked tests do not move the clock: a change made right after subscribing has d = P
(ceil((E − t) / 1 day), t a few ms after the start or equal to it on a frozen clock), so the whole
paid base is credited and the amounts are exact either way. They never leave a scheduled change
pending (a later clock run would execute it). The ``clock`` test reproduces scenarios 1 and 2 to
the cent: the shared clock only moves forward and may be past the spec's 2026-09-01, so it starts
at the first 1st of a 30-day month (Apr, Jun, Sep, Nov), 00:00 UTC, after the clock's time.

Wire mapping (commet/resources/subscriptions.py; None values are dropped from bodies, an empty
body is not sent at all):
  subscriptions.change_plan(id, new_plan_id=, new_billing_interval=, success_url=, offer_id=)
                         POST /subscriptions/{id}/change-plan -> PlanChange, a union the SDK picks by
                         ``outcome`` (PlanChangeVariant3 completed, Variant2 scheduled)
  subscriptions.preview_change(id, plan_id=, billing_interval=, offer_id=)
                         POST /subscriptions/{id}/preview-change -> PreviewChange
                         (object "plan_change_preview")
  test_clock.advance(frozen_time=)  POST /test-clock -> 202 TestClockRun, runs every deadline due;
                         a scheduled change runs at the renewal (run item outcome "plan_changed").
Errors with a code of their own (seat_limit_exceeded, plans_not_in_same_group,
no_change_requested, plan_change_scheduled) raise CommetAPIError; validation_error raises
CommetValidationError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest

from commet.types import (
    AddPlanFeatureParamsOverage,
    Customer,
    Feature,
    PlanChangeVariant2,
    PlanChangeVariant3,
    PreviewChange,
)

from catalog import new_customer
from invoicing import (
    INVOICE_ID,
    INVOICE_KEYS,
    INVOICE_NUMBER,
    assert_invoice_wire,
    assert_line_wire,
    get_invoice,
    list_invoices,
    plan_base_line,
    seat_advance_line,
)
from lifecycle import SUBSCRIPTION_KEYS, UNKNOWN_SUBSCRIPTION, PlainPlan, plain_plan
from support import (
    DAY,
    SUBSCRIPTION_ID,
    add_months,
    days_remaining,
    expect_api_error,
    expect_validation_error,
    feature_code,
    instant,
    iso,
    request_line,
    shift,
    unique,
)

# lifecycle.md §12 setup: prices in cents, seat terms (unit price on the rate scale).
PRO = {"price": 9900, "included": 5, "unit_price": 250000}
BUSINESS = {"price": 29900, "included": 10, "unit_price": 200000}
TEAM = {"price": 19900, "included": 10, "unit_price": None}  # overage off
SOLO = {"price": 1900}



@dataclass
class Catalog:
    feature: Feature
    pro: PlainPlan
    business: PlainPlan
    team: PlainPlan
    solo: PlainPlan
    group_id: str


def attach_seats(sdk, plan: PlainPlan, feature: Feature, terms: dict[str, Any]) -> None:
    overage = (
        AddPlanFeatureParamsOverage(enabled=False)
        if terms["unit_price"] is None
        else AddPlanFeatureParamsOverage(enabled=True, unit_price=terms["unit_price"])
    )
    sdk.plans.add_feature(plan.id, feature_id=feature.id, included_amount=terms["included"], overage=overage)


def standard_catalog(sdk, wire) -> Catalog:
    """lifecycle.md §12: seats feature ``editor`` (no underscore: it is an initial_seats key);
    pro, business, team in one group (default orders 0 and 1, then sortOrder 2); solo alone."""
    feature = sdk.features.create(name=unique("Editor seats"), code=feature_code("editor"), type="seats", unit_name="seat")
    pro = plain_plan(sdk, "Pro", PRO["price"])
    attach_seats(sdk, pro, feature, PRO)
    business = plain_plan(sdk, "Business", BUSINESS["price"])
    attach_seats(sdk, business, feature, BUSINESS)
    team = plain_plan(sdk, "Team", TEAM["price"])
    attach_seats(sdk, team, feature, TEAM)
    solo = plain_plan(sdk, "Solo", SOLO["price"])

    group = sdk.plan_groups.create(name=unique("Standard"))
    for plan, order in ((pro, None), (business, None), (team, 2)):
        added = sdk.plan_groups.add_plan(group.id, plan_id=plan.id, sort_order=order)
        assert wire.last.body == {"success": True, "object": "plan_group_membership", "livemode": False}
        assert added.success is True
    sdk.plan_groups.get(group.id)
    assert wire.last.body["plans"] == [
        {"id": pro.id, "name": pro.name, "sortOrder": 0},
        {"id": business.id, "name": business.name, "sortOrder": 1},
        {"id": team.id, "name": team.name, "sortOrder": 2},
    ]
    return Catalog(feature=feature, pro=pro, business=business, team=team, solo=solo, group_id=group.id)


def subscribe_to_pro(sdk, wire, cat: Catalog, seats: int, tag: str) -> tuple[Customer, dict[str, Any]]:
    """A new customer on pro monthly with ``seats`` editor seats; returns the full Subscription (wire)."""
    customer = new_customer(sdk, tag)
    created = sdk.subscriptions.create(
        customer_id=customer.id, plan_code=cat.pro.code, billing_interval="monthly", initial_seats={cat.feature.code: seats}
    )
    assert SUBSCRIPTION_ID.match(created.id), created.id
    sdk.subscriptions.get(created.id)
    body = wire.last.body
    assert body["status"] == "active" and body["plan"]["id"] == cat.pro.id, body
    return customer, body


def clock_now(sdk) -> str:
    return sdk.test_clock.get().now


def period_days(start: str, end: str) -> int:
    seconds = (instant(end) - instant(start)).total_seconds()
    assert seconds % DAY.total_seconds() == 0, (start, end)
    return int(seconds // DAY.total_seconds())


def seat_item(feature: Feature, seats: int, terms: dict[str, Any]) -> dict[str, Any]:
    """A direct ``features[]`` item of a seats feature under the given plan terms."""
    usage: dict[str, Any] = {
        "current": seats,
        "included": terms["included"],
        "overageQuantity": max(0, seats - terms["included"]),
    }
    if terms["unit_price"] is not None:  # present only when overage is on
        usage["overageUnitPrice"] = terms["unit_price"]
    usage["unlimited"] = False
    return {"code": feature.code, "name": feature.name, "type": "seats", "usage": usage}


def get_subscription(sdk, wire, sub_id: str) -> dict[str, Any]:
    sub = sdk.subscriptions.get(sub_id)
    assert request_line(wire.last) == f"GET /api/v1/subscriptions/{sub_id}"
    body = wire.last.body
    assert sub.id == body["id"] and sub.plan.id == body["plan"]["id"]
    assert sub.price_id == body["priceId"]
    return body


def assert_subscription_on(
    body: dict[str, Any],
    *,
    original: dict[str, Any],
    customer: Customer,
    plan: PlainPlan,
    terms: dict[str, Any],
    feature: Feature,
    seats: int,
    start: str,
    end: str,
    now: str,
    scheduled: dict[str, Any] | None = None,
    updated_at: str | None = None,
) -> None:
    """A direct Subscription after plan changes, field by field. ``original``: the full object as
    subscribed (id, startDate, createdAt carry over). ``name`` is only checked to be a string
    (lifecycle.md does not say whether a change renames the subscription)."""
    assert set(body) == SUBSCRIPTION_KEYS, f"extra {set(body) - SUBSCRIPTION_KEYS}, missing {SUBSCRIPTION_KEYS - set(body)}"
    assert isinstance(body["name"], str)
    instant(body["updatedAt"], "updatedAt")
    if updated_at is not None:
        assert body["updatedAt"] == updated_at
    expected = {
        "id": original["id"],
        "customerId": customer.id,
        "plan": {"id": plan.id, "name": plan.name, "basePrice": terms["price"]},
        "name": body["name"],
        "description": None,
        "status": "active",
        "billingInterval": "monthly",
        "trialEndsAt": None,
        "currentPeriod": {"start": start, "end": end, "daysRemaining": days_remaining(end, now)},
        "cancellation": None,
        "cancelAtPeriodEnd": False,
        "scheduledPlanChange": scheduled,
        "startDate": original["startDate"],
        "endDate": None,
        "billingDayOfMonth": instant(start).day,
        "nextBillingDate": end,
        "checkoutUrl": None,
        "createdAt": original["createdAt"],
        "updatedAt": body["updatedAt"],
        "offerApplications": [],
        "pause": None,
        "priceId": plan.price_id,
        "consumptionModel": "metered",
        "features": [seat_item(feature, seats, terms)],
        "credits": None,
        "balance": None,
        "object": "subscription",
        "livemode": False,
    }
    assert body == expected


def preview(sdk, wire, sub_id: str, plan_id: str) -> dict[str, Any]:
    result = sdk.subscriptions.preview_change(sub_id, plan_id=plan_id)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub_id}/preview-change"
    assert wire.last.request_body == {"planId": plan_id}
    assert wire.last.status == 200
    body = wire.last.body
    assert isinstance(result, PreviewChange)
    assert (result.current_plan_credit, result.new_plan_charge, result.estimated_total) == (
        body["currentPlanCredit"],
        body["newPlanCharge"],
        body["estimatedTotal"],
    )
    assert (result.effective_date, result.days_remaining, result.total_days, result.is_upgrade) == (
        body["effectiveDate"],
        body["daysRemaining"],
        body["totalDays"],
        body["isUpgrade"],
    )
    assert result.object == "plan_change_preview" and result.currency == body["currency"]
    return body


def preview_wire(*, credit: int, charge: int, total: int, effective: str, d: int, p: int) -> dict[str, Any]:
    return {
        "currency": "usd",
        "currentPlanCredit": credit,
        "newPlanCharge": charge,
        "estimatedTotal": total,
        "effectiveDate": effective,
        "daysRemaining": d,
        "totalDays": p,
        "isUpgrade": True,
        "object": "plan_change_preview",
        "livemode": False,
    }


def change(sdk, wire, sub_id: str, plan_id: str):
    result = sdk.subscriptions.change_plan(sub_id, new_plan_id=plan_id)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub_id}/change-plan"
    assert wire.last.request_body == {"newPlanId": plan_id}
    assert wire.last.status == 200
    return result, wire.last.body


def assert_completed(
    result: Any,
    body: dict[str, Any],
    *,
    sub_id: str,
    customer: Customer,
    source: PlainPlan,
    target: PlainPlan,
    price: int,
    billing: dict[str, int],
) -> str:
    """A completed PlanChange on the wire and as the SDK's PlanChangeVariant3; returns invoiceId."""
    assert INVOICE_ID.match(body.get("invoiceId") or ""), body
    full_billing = {"creditsApplied": 0, "taxAmount": 0, "remainingCreditBalance": 0} | billing
    assert body == {
        "outcome": "completed",
        "id": sub_id,
        "scheduled": False,
        "customerId": customer.id,
        "previousPlan": {"id": source.id, "name": source.name},
        "currentPlan": {"id": target.id, "name": target.name, "price": price},
        "billingInterval": "monthly",
        "billing": {
            "credit": full_billing["credit"],
            "creditsApplied": full_billing["creditsApplied"],
            "charge": full_billing["charge"],
            "taxAmount": full_billing["taxAmount"],
            "netAmount": full_billing["netAmount"],
            "totalCharged": full_billing["totalCharged"],
            "remainingCreditBalance": full_billing["remainingCreditBalance"],
        },
        "invoiceId": body["invoiceId"],
        "object": "plan_change",
        "livemode": False,
    }
    assert isinstance(result, PlanChangeVariant3), type(result)
    assert result.outcome == "completed" and result.scheduled is False and result.id == sub_id
    assert result.previous_plan.id == source.id and result.current_plan.id == target.id
    assert result.current_plan.price == price
    assert result.billing.credit == billing["credit"] and result.billing.total_charged == billing["totalCharged"]
    assert result.billing.net_amount == billing["netAmount"]
    assert result.invoice_id == body["invoiceId"]
    return body["invoiceId"]


def credit_line(amount: int) -> dict[str, Any]:
    """The proration ``credit`` line of a plan_change invoice (lifecycle.md §4.3), without description."""
    return {
        "lineType": "credit",
        "featureName": None,
        "quantity": 1,
        "unitAmount": -amount,
        "amount": -amount,
        "includedAmount": None,
        "usedAmount": None,
        "overageAmount": None,
        "discountType": None,
        "discountValue": None,
        "discountName": None,
        "chargeType": "standard",
    }


def assert_plan_change_invoice_wire(
    body: Any,
    *,
    customer: Customer,
    subscription_id: str,
    plan_name: str,
    period_start: str,
    period_end: str,
    issued_at: str,
    lines: list[dict[str, Any]],
    subtotal: int,
    credit_applied: int,
    total: int,
    days: str,
) -> dict[str, Any]:
    """A direct ``plan_change`` invoice (lifecycle.md §4.3, commerce.md §8.1): subtotal = charge,
    creditApplied = −Σ credit lines, total = Σ lines, paid at once. ``days`` ("15/30"): the
    fraction the credit line's description states."""
    assert isinstance(body, dict) and set(body) == INVOICE_KEYS, sorted(body)
    assert INVOICE_ID.match(body["id"]) and INVOICE_NUMBER.match(body["invoiceNumber"]), body
    items = body["lineItems"]
    assert len(items) == len(lines), items
    for i, (line, want) in enumerate(zip(items, lines)):
        assert_line_wire(line, want, f"{body['invoiceNumber']} line {i}")
    [credit] = [line for line in items if line["lineType"] == "credit"]
    assert f"{days} days" in credit["description"], credit["description"]
    assert sum(line["amount"] for line in items) == total
    head = {k: v for k, v in body.items() if k != "lineItems"}
    assert head == {
        "id": body["id"],
        "customerId": customer.id,
        "subscriptionId": subscription_id,
        "invoiceNumber": body["invoiceNumber"],
        "status": "paid",
        "invoiceType": "plan_change",
        "currency": "usd",
        "subtotal": subtotal,
        "discountAmount": 0,
        "taxAmount": 0,
        "total": total,
        "periodStart": period_start,
        "periodEnd": period_end,
        "issueDate": issued_at,
        "dueDate": issued_at,
        "memo": None,
        "metadata": {},
        "createdAt": issued_at,
        "updatedAt": issued_at,
        "creditApplied": credit_applied,
        "planName": plan_name,
        "poNumber": None,
        "reference": None,
        "object": "invoice",
        "livemode": False,
    }, head
    return body


def invoice_ids(sdk, wire, sub_id: str) -> list[str]:
    result, items = list_invoices(sdk, wire, subscription_id=sub_id, limit=10)
    assert result.has_more is False
    return [i["id"] for i in items]


# ---------------------------------------------------------------------------------------------
# Without the clock
# ---------------------------------------------------------------------------------------------


def test_scenario_3_errors(sandbox, wire):
    cat = standard_catalog(sandbox, wire)
    customer, before = subscribe_to_pro(sandbox, wire, cat, 12, "change-errors")
    sub_id = before["id"]
    [initial] = invoice_ids(sandbox, wire, sub_id)

    # to team: immediate (higher sortOrder) but 12 seats > 10 included with overage off
    seat_limit = {"featureCode": cat.feature.code, "currentSeats": 12, "included": TEAM["included"]}
    error = expect_api_error(
        wire,
        lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=cat.team.id),
        status=400,
        code="seat_limit_exceeded",
        type="billing_error",
        param="newPlanId",
    )
    assert error["details"] == seat_limit
    error = expect_api_error(
        wire,
        lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=cat.team.id),
        status=400,
        code="seat_limit_exceeded",
        type="billing_error",
        param="planId",
    )
    assert error["details"] == seat_limit

    # to solo: outside the group
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=cat.solo.id),
        status=400,
        code="plans_not_in_same_group",
        type="validation_error",
        param="newPlanId",
    )
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=cat.solo.id),
        status=400,
        code="plans_not_in_same_group",
        type="validation_error",
        param="planId",
    )

    # to pro monthly: what it is on already
    no_change = {"status": 400, "code": "no_change_requested", "type": "validation_error"}
    expect_api_error(wire, lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=cat.pro.id), **no_change)
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=cat.pro.code, new_billing_interval="monthly"),
        **no_change,
    )
    assert wire.last.request_body == {"newPlanId": cat.pro.code, "newBillingInterval": "monthly"}
    expect_api_error(wire, lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=cat.pro.id), **no_change)

    # malformed: nothing requested (the SDK then sends no body), unknown interval, one_time, offers
    expect_validation_error(wire, lambda: sandbox.subscriptions.change_plan(sub_id))
    assert wire.last.request_body is None
    expect_validation_error(wire, lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=None))
    expect_validation_error(
        wire,
        lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=cat.business.id, new_billing_interval="fortnightly"),
        "newBillingInterval",
    )
    expect_validation_error(
        wire, lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=cat.business.id, billing_interval="one_time")
    )
    expect_validation_error(
        wire, lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=cat.business.id, offer_id="ofr_01J0000000000000000000000Z")
    )
    expect_validation_error(
        wire, lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=cat.business.id, offer_id="ofr_01J0000000000000000000000Z")
    )

    # unknown target plan, unknown subscription
    not_found = {"status": 404, "code": "plan_not_found", "type": "not_found_error"}
    expect_api_error(wire, lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=unique("ghost")), **not_found)
    expect_api_error(wire, lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=unique("ghost")), **not_found)
    no_sub = {"status": 404, "code": "subscription_not_found", "type": "not_found_error"}
    expect_api_error(
        wire, lambda: sandbox.subscriptions.change_plan(UNKNOWN_SUBSCRIPTION, new_plan_id=cat.business.id), **no_sub
    )
    expect_api_error(
        wire, lambda: sandbox.subscriptions.preview_change(UNKNOWN_SUBSCRIPTION, plan_id=cat.business.id), **no_sub
    )

    # business with 12 seats is allowed (overage on): preview only, 2 extra seats billed in full
    p = period_days(before["currentPeriod"]["start"], before["currentPeriod"]["end"])
    t0 = clock_now(sandbox)
    body = preview(sandbox, wire, sub_id, cat.business.id)
    t1 = clock_now(sandbox)
    assert instant(t0) <= instant(body["effectiveDate"]) <= instant(t1), (t0, body["effectiveDate"], t1)
    assert body == preview_wire(
        credit=PRO["price"],  # d = P: the whole paid base
        charge=BUSINESS["price"] + 2 * 2000,  # 33900
        total=BUSINESS["price"] + 2 * 2000 - PRO["price"],  # 24000
        effective=body["effectiveDate"],
        d=p,
        p=p,
    )

    # nothing above changed or billed anything
    assert get_subscription(sandbox, wire, sub_id) == before
    assert invoice_ids(sandbox, wire, sub_id) == [initial]

    # a plan removed from the group keeps its subscriptions, which can no longer change plan
    sandbox.plan_groups.remove_plan(cat.group_id, cat.pro.id)
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=cat.business.id),
        status=400,
        code="plans_not_in_same_group",
        type="validation_error",
        param="newPlanId",
    )
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=cat.business.id),
        status=400,
        code="plans_not_in_same_group",
        type="validation_error",
        param="planId",
    )
    assert get_subscription(sandbox, wire, sub_id) == before


def test_cancellation_blocks_plan_changes(sandbox, wire):
    cat = standard_catalog(sandbox, wire)
    _, sub = subscribe_to_pro(sandbox, wire, cat, 6, "change-status")
    sub_id = sub["id"]

    sandbox.subscriptions.cancel(sub_id)
    assert wire.last.body["cancelAtPeriodEnd"] is True
    invalid = {"status": 409, "code": "invalid_subscription_status", "type": "conflict_error"}
    expect_api_error(wire, lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=cat.business.id), **invalid)
    expect_api_error(wire, lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=cat.business.id), **invalid)

    sandbox.subscriptions.uncancel(sub_id)
    body = preview(sandbox, wire, sub_id, cat.business.id)
    assert body["isUpgrade"] is True and body["currentPlanCredit"] == PRO["price"]

    sandbox.subscriptions.cancel(sub_id, immediate=True)
    assert wire.last.body["status"] == "canceled"
    inactive = {"status": 409, "code": "subscription_not_active", "type": "conflict_error"}
    expect_api_error(wire, lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=cat.business.id), **inactive)
    expect_api_error(wire, lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=cat.business.id), **inactive)


def test_immediate_upgrades_right_after_subscribing(sandbox, wire):
    cat = standard_catalog(sandbox, wire)
    customer, sub = subscribe_to_pro(sandbox, wire, cat, 8, "upgrade-now")
    sub_id = sub["id"]
    p = period_days(sub["currentPeriod"]["start"], sub["currentPeriod"]["end"])
    [initial] = invoice_ids(sandbox, wire, sub_id)

    # pro -> business: the whole base credited, the full new price charged (8 <= 10 seats)
    body = preview(sandbox, wire, sub_id, cat.business.id)
    assert body == preview_wire(credit=9900, charge=29900, total=20000, effective=body["effectiveDate"], d=p, p=p)

    before = clock_now(sandbox)
    result, body = change(sandbox, wire, sub_id, cat.business.id)
    after = clock_now(sandbox)
    invoice_id = assert_completed(
        result,
        body,
        sub_id=sub_id,
        customer=customer,
        source=cat.pro,
        target=cat.business,
        price=BUSINESS["price"],
        billing={"credit": 9900, "charge": 29900, "netAmount": 20000, "totalCharged": 20000},
    )

    upgraded = get_subscription(sandbox, wire, sub_id)
    t = upgraded["currentPeriod"]["start"]
    assert instant(before) <= instant(t) <= instant(after), (before, t, after)
    end = add_months(t, 1)
    assert_subscription_on(
        upgraded,
        original=sub,
        customer=customer,
        plan=cat.business,
        terms=BUSINESS,
        feature=cat.feature,
        seats=8,
        start=t,
        end=end,
        now=t,
        updated_at=t,
    )

    _, invoice = get_invoice(sandbox, wire, invoice_id)
    assert_plan_change_invoice_wire(
        invoice,
        customer=customer,
        subscription_id=sub_id,
        plan_name=cat.business.name,
        period_start=t,
        period_end=end,
        issued_at=t,
        lines=[plan_base_line(29900), credit_line(9900)],
        subtotal=29900,
        credit_applied=9900,
        total=20000,
        days=f"{p}/{p}",
    )
    assert invoice_ids(sandbox, wire, sub_id) == [invoice_id, initial], "newest first"

    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.change_plan(sub_id, new_plan_id=cat.business.id),
        status=400,
        code="no_change_requested",
        type="validation_error",
    )

    # business -> team: cheaper but a higher sortOrder, so immediate (price never decides);
    # credit 29900 > charge 19900: nothing to pay, the 10000 excess becomes customer credit
    p2 = period_days(t, end)
    body = preview(sandbox, wire, sub_id, cat.team.id)
    assert body == preview_wire(credit=29900, charge=19900, total=0, effective=body["effectiveDate"], d=p2, p=p2)
    result, body = change(sandbox, wire, sub_id, cat.team.id)
    team_invoice_id = assert_completed(
        result,
        body,
        sub_id=sub_id,
        customer=customer,
        source=cat.business,
        target=cat.team,
        price=TEAM["price"],
        billing={"credit": 29900, "charge": 19900, "netAmount": 0, "totalCharged": 0, "remainingCreditBalance": 10000},
    )
    assert result.billing.remaining_credit_balance == 10000
    on_team = get_subscription(sandbox, wire, sub_id)
    t2 = on_team["currentPeriod"]["start"]
    assert instant(t) <= instant(t2)
    assert_subscription_on(
        on_team,
        original=sub,
        customer=customer,
        plan=cat.team,
        terms=TEAM,
        feature=cat.feature,
        seats=8,
        start=t2,
        end=add_months(t2, 1),
        now=t2,
    )
    _, invoice = get_invoice(sandbox, wire, team_invoice_id)
    assert_plan_change_invoice_wire(
        invoice,
        customer=customer,
        subscription_id=sub_id,
        plan_name=cat.team.name,
        period_start=t2,
        period_end=add_months(t2, 1),
        issued_at=t2,
        lines=[plan_base_line(19900), credit_line(19900)],  # −min(credit, charge)
        subtotal=19900,
        credit_applied=19900,
        total=0,
        days=f"{p2}/{p2}",
    )


# ---------------------------------------------------------------------------------------------
# On the clock: scenarios 1 and 2
# ---------------------------------------------------------------------------------------------


def next_30_day_month_start(now: str) -> str:
    """The first 00:00 UTC on the 1st of April, June, September or November strictly after ``now``."""
    t = instant(now)
    year, month = t.year, t.month
    while True:
        month += 1
        if month == 13:
            year, month = year + 1, 1
        if month in (4, 6, 9, 11):
            return iso(datetime(year, month, 1, tzinfo=timezone.utc))


def advance_to(sdk, wire, target: str, subscription_id: str) -> list[dict[str, Any]]:
    """Moves the clock to ``target`` (every deadline due runs); returns this subscription's run items."""
    run = sdk.test_clock.advance(frozen_time=target)
    assert request_line(wire.last) == "POST /api/v1/test-clock"
    assert wire.last.request_body == {"frozenTime": target}
    assert wire.last.status == 202
    body = wire.last.body
    assert body["status"] == "completed", body
    assert body["targetTime"] == target
    assert body["failedDeadlineCount"] == 0, body
    assert run.id == body["id"] and run.target_time == target
    return [i for i in body["items"] if i["subscriptionId"] == subscription_id]


@pytest.mark.clock
def test_scenarios_1_and_2_upgrade_then_scheduled_downgrade(sandbox, wire):
    cat = standard_catalog(sandbox, wire)
    pro, business, feature = cat.pro, cat.business, cat.feature

    # ---- Setup: the 1st of a 30-day month; pro with 8 editor seats -> 17400 -----------------------
    start = next_30_day_month_start(clock_now(sandbox))
    advance_to(sandbox, wire, start, "")
    customer, sub = subscribe_to_pro(sandbox, wire, cat, 8, "scenario")
    sub_id = sub["id"]
    end0 = add_months(start, 1)
    assert period_days(start, end0) == 30
    assert sub["startDate"] == start, "startDate is the simulated time"
    assert sub["currentPeriod"] == {"start": start, "end": end0, "daysRemaining": 30}
    [initial] = invoice_ids(sandbox, wire, sub_id)
    _, body = get_invoice(sandbox, wire, initial)
    assert_invoice_wire(
        body,
        customer=customer,
        subscription_id=sub_id,
        invoice_type="recurring",
        plan_name=pro.name,
        period_start=start,
        period_end=end0,
        issued_at=start,
        lines=[plan_base_line(PRO["price"]), seat_advance_line(feature.name, count=8, included=PRO["included"])],
        total=17400,
    )

    # ---- Scenario 1: day 15, upgrade to business ($249.50) ---------------------------------------
    day15 = shift(start, 15 * DAY)
    assert advance_to(sandbox, wire, day15, sub_id) == []
    body = preview(sandbox, wire, sub_id, business.id)
    assert body == preview_wire(credit=4950, charge=29900, total=24950, effective=day15, d=15, p=30)
    assert get_subscription(sandbox, wire, sub_id)["plan"]["id"] == pro.id, "a preview changes nothing"

    result, body = change(sandbox, wire, sub_id, business.id)
    invoice_id = assert_completed(
        result,
        body,
        sub_id=sub_id,
        customer=customer,
        source=pro,
        target=business,
        price=BUSINESS["price"],
        billing={"credit": 4950, "charge": 29900, "netAmount": 24950, "totalCharged": 24950},
    )
    end1 = add_months(day15, 1)
    assert period_days(day15, end1) == 30
    upgraded = get_subscription(sandbox, wire, sub_id)
    assert_subscription_on(
        upgraded,
        original=sub,
        customer=customer,
        plan=business,
        terms=BUSINESS,
        feature=feature,
        seats=8,
        start=day15,
        end=end1,
        now=day15,
        updated_at=day15,
    )
    assert upgraded["currentPeriod"]["daysRemaining"] == 30 and upgraded["billingDayOfMonth"] == 16
    assert upgraded["features"][0]["usage"] == {
        "current": 8,
        "included": 10,
        "overageQuantity": 0,
        "overageUnitPrice": 200000,
        "unlimited": False,
    }
    _, invoice = get_invoice(sandbox, wire, invoice_id)
    assert_plan_change_invoice_wire(
        invoice,
        customer=customer,
        subscription_id=sub_id,
        plan_name=business.name,
        period_start=day15,
        period_end=end1,
        issued_at=day15,
        lines=[plan_base_line(BUSINESS["price"]), credit_line(4950)],
        subtotal=29900,
        credit_applied=4950,
        total=24950,
        days="15/30",
    )
    assert invoice_ids(sandbox, wire, sub_id) == [invoice_id, initial]

    # ---- Scenario 2: day 19, downgrade to pro -> scheduled for the period end ---------------------
    day19 = shift(day15, 4 * DAY)
    assert advance_to(sandbox, wire, day19, sub_id) == []
    error = expect_api_error(
        wire,
        lambda: sandbox.subscriptions.preview_change(sub_id, plan_id=pro.id),
        status=400,
        code="plan_change_scheduled",
        type="validation_error",
    )
    assert error["details"] == {"changeType": "plan_downgrade", "scheduledFor": end1}

    result, scheduled = change(sandbox, wire, sub_id, pro.id)
    assert scheduled == {
        "outcome": "scheduled",
        "id": sub_id,
        "scheduled": True,
        "scheduledFor": end1,
        "changeType": "subscription.plan_downgrade",
        "customerId": customer.id,
        "newPlanId": pro.id,
        "newPlanName": pro.name,
        "object": "plan_change",
        "livemode": False,
    }
    assert isinstance(result, PlanChangeVariant2), type(result)
    assert result.scheduled is True and result.scheduled_for == end1 and result.new_plan_id == pro.id
    assert result.change_type == "subscription.plan_downgrade" and result.seat_limit_warning is None
    pending = {
        "changeType": "plan_downgrade",
        "newPlanId": pro.id,
        "newPlanName": pro.name,
        "newBillingInterval": None,
        "scheduledFor": end1,
    }
    waiting = get_subscription(sandbox, wire, sub_id)
    assert_subscription_on(
        waiting,
        original=sub,
        customer=customer,
        plan=business,
        terms=BUSINESS,
        feature=feature,
        seats=8,
        start=day15,
        end=end1,
        now=day19,
        scheduled=pending,
    )
    view = sandbox.subscriptions.get(sub_id)
    assert view.scheduled_plan_change.new_plan_id == pro.id
    assert view.scheduled_plan_change.scheduled_for == end1

    # the same request again: the same answer, nothing changes, nothing billed
    _, again = change(sandbox, wire, sub_id, pro.id)
    assert again == scheduled
    assert get_subscription(sandbox, wire, sub_id) == waiting
    assert invoice_ids(sandbox, wire, sub_id) == [invoice_id, initial]

    # ---- The period end: the change runs, then the renewal bills pro: 9900 + 3 x 2500 -------------
    [item] = advance_to(sandbox, wire, end1, sub_id)
    assert item["kind"] == "billing_cycle" and item["status"] == "completed", item
    assert item["outcome"] == "plan_changed", item
    assert item["dueAt"] == end1 and item["error"] is None, item
    assert item["customerName"] == customer.full_name
    assert INVOICE_ID.match(item["invoiceId"] or ""), item
    assert INVOICE_NUMBER.match(item["invoiceNumber"] or ""), item

    end2 = add_months(day15, 2)
    downgraded = get_subscription(sandbox, wire, sub_id)
    assert_subscription_on(
        downgraded,
        original=sub,
        customer=customer,
        plan=pro,
        terms=PRO,
        feature=feature,
        seats=8,
        start=end1,
        end=end2,
        now=end1,
    )
    assert downgraded["billingDayOfMonth"] == 16
    assert invoice_ids(sandbox, wire, sub_id) == [item["invoiceId"], invoice_id, initial]
    _, renewal = get_invoice(sandbox, wire, item["invoiceId"])
    assert_invoice_wire(
        renewal,
        customer=customer,
        subscription_id=sub_id,
        invoice_type="recurring",
        plan_name=pro.name,
        period_start=end1,
        period_end=end2,
        issued_at=end1,
        lines=[plan_base_line(PRO["price"]), seat_advance_line(feature.name, count=8, included=PRO["included"])],
        total=17400,
    )
    assert renewal["invoiceNumber"] == item["invoiceNumber"]

    # the change is done: business is an immediate upgrade again (d = P of the new period)
    p = period_days(end1, end2)
    body = preview(sandbox, wire, sub_id, business.id)
    assert body == preview_wire(credit=9900, charge=29900, total=20000, effective=end1, d=p, p=p)
