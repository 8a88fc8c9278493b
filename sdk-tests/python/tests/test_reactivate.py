"""Reactivation through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects; payments.md §6
"Reactivate", lifecycle.md §7), for the default ``invoice_only`` organization: a canceled paid
subscription comes back at once with a ``reactivation`` invoice (plan base at the price's current
value + the seat advance for the seats kept on the record) issued paid, and a new period anchored
at the reactivation instant. Nothing here moves the test clock: the instant is bounded by the
clock's "now" read before and after (exact on a frozen clock). Scenario 5's reactivation on the
clock, with its webhook, is in test_pause.py.

Wire mapping: subscriptions.reactivate(id, offer_id=) POST /subscriptions/{id}/reactivate (no body
without offer_id) -> ReactivatedSubscription {subscriptionId, invoiceId, status, offerApplication?,
object:"subscription_reactivation", livemode}. plans.update_price(id, price_id, price=) PATCH
/plans/{id}/prices/{priceId}.
"""

from __future__ import annotations

from commet.types import ReactivatedSubscription

from catalog import INCLUDED_SEATS, assert_subscription_wire, new_customer, seat_plan
from invoicing import INVOICE_ID, assert_invoice_wire, get_invoice, plan_base_line, seat_advance_line
from lifecycle import (
    INVALID_STATUS,
    UNKNOWN_SUBSCRIPTION,
    activate_addon,
    activation_wire,
    clock_now,
    create_addon,
    get_subscription,
    invoice_ids,
    list_active,
    new_feature,
    period_days,
    prorate,
    subscribe_with_seats,
)
from support import add_months, days_remaining, expect_api_error, expect_validation_error, instant, request_line, unique

NEW_PRICE = 10900
UNKNOWN_OFFER = "ofr_01J0000000000000000000000Z"


def test_reactivation_refusals(sandbox, wire):
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.reactivate(UNKNOWN_SUBSCRIPTION),
        status=404,
        code="subscription_not_found",
        type="not_found_error",
    )
    sp = seat_plan(sandbox)
    customer, sub = subscribe_with_seats(sandbox, wire, sp, 6, "reactivate-refused")
    sub_id = sub["id"]

    # active -> 409 (P9 sends no body)
    expect_api_error(wire, lambda: sandbox.subscriptions.reactivate(sub_id), **INVALID_STATUS)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub_id}/reactivate"
    assert wire.last.request_body is None

    # paused -> 409
    sandbox.subscriptions.pause(sub_id, mode="immediate", duration_days=None)
    assert wire.last.body["status"] == "paused", wire.last.body
    expect_api_error(wire, lambda: sandbox.subscriptions.reactivate(sub_id), **INVALID_STATUS)

    # canceled (a paused subscription cancels at once); an offer is refused
    sandbox.subscriptions.cancel(sub_id)
    assert wire.last.body["status"] == "canceled", wire.last.body
    expect_validation_error(wire, lambda: sandbox.subscriptions.reactivate(sub_id, offer_id=UNKNOWN_OFFER), "offerId")
    assert wire.last.request_body == {"offerId": UNKNOWN_OFFER}

    # the customer subscribed again meanwhile -> 409 already_has_active_subscription, nothing billed
    sandbox.subscriptions.create(customer_id=customer.id, plan_code=sp.plan.code, billing_interval="monthly")
    other_id = wire.last.body["id"]
    before = invoice_ids(sandbox, wire, sub_id)
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.reactivate(sub_id),
        status=409,
        code="already_has_active_subscription",
        type="conflict_error",
    )
    assert get_subscription(sandbox, wire, sub_id)["status"] == "canceled"
    assert invoice_ids(sandbox, wire, sub_id) == before
    assert sandbox.subscriptions.get_active(customer_id=customer.id).id == other_id

    # a canceled free plan has nothing to reactivate -> 409
    free = sandbox.plans.create(name=unique("Free"), code=unique("free"), is_free=True)
    free_customer = new_customer(sandbox, "reactivate-free")
    sandbox.subscriptions.create(customer_id=free_customer.id, plan_code=free.code)
    free_id = wire.last.body["id"]
    assert wire.last.body["status"] == "active", wire.last.body
    sandbox.subscriptions.cancel(free_id, immediate=True)
    assert wire.last.body["status"] == "canceled", wire.last.body
    expect_api_error(wire, lambda: sandbox.subscriptions.reactivate(free_id), **INVALID_STATUS)
    assert get_subscription(sandbox, wire, free_id)["status"] == "canceled"


def test_reactivation_bills_the_current_price_from_now(sandbox, wire):
    sp = seat_plan(sandbox)  # 9900, 5 seats included, $25 each
    sso = new_feature(sandbox, "boolean", "sso")
    addon = create_addon(sandbox, wire, name=unique("SSO"), base_price=5000, feature_id=sso.id, consumption_model="boolean")
    customer, sub = subscribe_with_seats(sandbox, wire, sp, 6, "reactivate")
    sub_id = sub["id"]
    s0, e0 = assert_subscription_wire(sub, "full", customer=customer, seat_plan=sp, seats=6)
    [initial] = invoice_ids(sandbox, wire, sub_id)
    assert activate_addon(sandbox, wire, sub_id, addon["id"]) == activation_wire(
        addon, prorate(5000, period_days(s0, e0), period_days(s0, e0))
    )
    [activation, first] = invoice_ids(sandbox, wire, sub_id)
    assert first == initial

    # canceled at once: the add-on ends with it; then the price rises
    sandbox.subscriptions.cancel(sub_id, immediate=True)
    assert wire.last.body["status"] == "canceled", wire.last.body
    assert list_active(sandbox, wire, customer.id) == []
    gone = get_subscription(sandbox, wire, sub_id)
    assert (gone["status"], gone["currentPeriod"], gone["nextBillingDate"]) == ("canceled", None, None), gone
    raised = sandbox.plans.update_price(sp.plan.id, sp.monthly.id, price=NEW_PRICE)
    assert raised.price == NEW_PRICE

    # reactivate: succeeded at once (invoice_only), with the reactivation invoice
    t0 = clock_now(sandbox)
    result = sandbox.subscriptions.reactivate(sub_id)
    exchange = wire.last
    t1 = clock_now(sandbox)
    assert request_line(exchange) == f"POST /api/v1/subscriptions/{sub_id}/reactivate"
    assert exchange.request_body is None
    assert exchange.status == 200, exchange.body
    body = exchange.body
    invoice_id = body.get("invoiceId")
    assert INVOICE_ID.match(invoice_id or ""), body
    assert body == {
        "subscriptionId": sub_id,
        "invoiceId": invoice_id,
        "status": "succeeded",
        "object": "subscription_reactivation",
        "livemode": False,
    }
    assert isinstance(result, ReactivatedSubscription)
    assert (result.subscription_id, result.invoice_id, result.status, result.object) == (
        sub_id,
        invoice_id,
        "succeeded",
        "subscription_reactivation",
    )
    assert result.offer_application is None

    assert invoice_ids(sandbox, wire, sub_id) == [invoice_id, activation, initial]
    _, invoice = get_invoice(sandbox, wire, invoice_id)
    t = invoice["issueDate"]
    assert instant(t0) <= instant(t) <= instant(t1), (t0, t, t1)
    end = add_months(t, 1)
    assert_invoice_wire(
        invoice,
        customer=customer,
        subscription_id=sub_id,
        invoice_type="reactivation",
        plan_name=sp.plan.name,
        period_start=t,
        period_end=end,
        issued_at=t,
        lines=[plan_base_line(NEW_PRICE), seat_advance_line(sp.feature.name, count=6, included=INCLUDED_SEATS)],
        total=NEW_PRICE + 2500,
    )

    # active again: a new period from the reactivation, at the current price; no add-on restored
    back = get_subscription(sandbox, wire, sub_id)
    assert_subscription_wire(
        back,
        "full",
        customer=customer,
        seat_plan=sp,
        seats=6,
        plan={"id": sp.plan.id, "name": sp.plan.name, "basePrice": NEW_PRICE},
        currentPeriod={"start": t, "end": end, "daysRemaining": days_remaining(end, t)},
        billingDayOfMonth=instant(t).day,
        nextBillingDate=end,
        updatedAt=t,
    )
    assert (back["startDate"], back["createdAt"]) == (sub["startDate"], sub["createdAt"])
    assert list_active(sandbox, wire, customer.id) == []
    assert sandbox.subscriptions.get_active(customer_id=customer.external_id).id == sub_id

    # active again -> 409, nothing more billed
    expect_api_error(wire, lambda: sandbox.subscriptions.reactivate(sub_id), **INVALID_STATUS)
    assert invoice_ids(sandbox, wire, sub_id) == [invoice_id, activation, initial]
