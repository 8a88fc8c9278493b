"""Subscriptions through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects).

Nothing here moves the test clock (that is test_test_clock.py, run after every other test), but
the assertions hold whether the sandbox clock is real time or already advanced and frozen: periods
are checked against the subscription's own startDate and the clock read around the call.

Wire mapping (commet/resources/subscriptions.py):
  subscriptions.create(customer_id=, plan_id=|plan_code=, billing_interval=, price_id=,
                       initial_seats=, ...)      POST /subscriptions        -> CreatedSubscription
  subscriptions.get(id)                          GET  /subscriptions/{id}   -> Subscription
  subscriptions.get_active(customer_id=)         GET  /subscriptions/active?customerId=  -> Subscription | None
  subscriptions.list(customer_id=, status=)      GET  /subscriptions?customerId=&status=  -> list of SubscriptionSummary
  subscriptions.cancel(id, reason=, immediate=)  POST /subscriptions/{id}/cancel  -> Subscription
  subscriptions.uncancel(id)                     POST /subscriptions/{id}/uncancel (no body) -> Subscription
Every body key is camel-cased recursively, including the feature-code keys of ``initial_seats``
(``seat_py_ab12`` goes out as ``seatPyAb12``; wire.md §2.3), so most tests use codes without
underscores and one test checks the server's tolerance of the mangled key.
"""

from __future__ import annotations

from typing import Any

from commet.types import CreatedSubscription, Subscription, SubscriptionSummary

from catalog import (
    INCLUDED_SEATS,
    MONTHLY_PRICE,
    SEAT_UNIT_PRICE,
    YEARLY_PRICE,
    assert_subscription_wire,
    new_customer,
    seat_plan,
)
from support import (
    assert_direct_list,
    expect_api_error,
    expect_validation_error,
    feature_code,
    instant,
    request_line,
    unique,
)


def clock_now(sdk) -> str:
    return sdk.test_clock.get().now


def subscribe(sdk, wire, **params) -> tuple[CreatedSubscription, Any]:
    """Creates a subscription and checks startDate against the clock read around the call.
    Returns the SDK object and the recorded exchange of the create call."""
    before = clock_now(sdk)
    created = sdk.subscriptions.create(**params)
    exchange = wire.last
    assert request_line(exchange) == "POST /api/v1/subscriptions"
    assert exchange.status == 200
    after = clock_now(sdk)
    body = exchange.body
    assert instant(before) <= instant(body["startDate"]) <= instant(after), (before, body["startDate"], after)
    assert body["createdAt"] == body["startDate"], "createdAt is the same clock instant as startDate"
    assert body["updatedAt"] == body["createdAt"]
    assert isinstance(created, CreatedSubscription)
    return created, exchange


def test_create_get_active_list(sandbox, wire):
    sp = seat_plan(sandbox)
    customer = new_customer(sandbox)
    code = sp.feature.code
    assert "_" not in code

    created, created_call = subscribe(
        sandbox,
        wire,
        customer_id=customer.external_id,
        plan_code=sp.plan.code,
        billing_interval="monthly",
        initial_seats={code: 6},
    )
    assert created_call.request_body == {
        "customerId": customer.external_id,
        "planCode": sp.plan.code,
        "billingInterval": "monthly",
        "initialSeats": {code: 6},
    }
    start, end = assert_subscription_wire(created_call.body, "created", customer=customer, seat_plan=sp)
    assert created_call.body["currentPeriod"]["start"] == created_call.body["startDate"]
    # the SDK's view
    assert created.customer_id == customer.id
    assert created.status == "active"
    assert created.billing_interval == "monthly"
    assert created.plan.id == sp.plan.id and created.plan.name == sp.plan.name
    assert created.current_period.start == start and created.current_period.end == end
    assert created.next_billing_date == end
    assert created.pause is None and created.offer_applications == []
    assert created.price_id == sp.monthly.id

    # get: the full Subscription, with features[] and plan.basePrice
    got = sandbox.subscriptions.get(created.id)
    assert request_line(wire.last) == f"GET /api/v1/subscriptions/{created.id}"
    full = wire.last.body
    assert_subscription_wire(full, "full", customer=customer, seat_plan=sp, seats=6)
    assert isinstance(got, Subscription)
    assert got.plan.base_price == MONTHLY_PRICE
    assert got.consumption_model == "metered"
    [seats] = got.features
    assert seats.code == code and seats.type == "seats"
    assert seats.usage.current == 6
    assert seats.usage.included == INCLUDED_SEATS
    assert seats.usage.overage_quantity == 1
    assert seats.usage.overage_unit_price == SEAT_UNIT_PRICE
    assert seats.usage.unlimited is False

    # get active, by externalId and by cus_ id
    assert sandbox.subscriptions.get_active(customer_id=customer.external_id) == got
    assert request_line(wire.last) == f"GET /api/v1/subscriptions/active?customerId={customer.external_id}"
    assert wire.last.body == full
    assert sandbox.subscriptions.get_active(customer_id=customer.id) == got

    # list: SubscriptionSummary items
    listed = sandbox.subscriptions.list(customer_id=customer.id)
    assert request_line(wire.last) == f"GET /api/v1/subscriptions?customerId={customer.id}"
    [item] = assert_direct_list(wire.last.body)
    assert wire.last.body["hasMore"] is False
    assert_subscription_wire(item, "summary", customer=customer, seat_plan=sp)
    assert [s.id for s in listed.data] == [created.id]
    assert isinstance(listed.data[0], SubscriptionSummary)
    assert [s.id for s in sandbox.subscriptions.list(customer_id=customer.external_id).data] == [created.id]
    assert [s.id for s in sandbox.subscriptions.list(customer_id=customer.id, status="active").data] == [created.id]
    assert request_line(wire.last) == f"GET /api/v1/subscriptions?customerId={customer.id}&status=active"
    assert sandbox.subscriptions.list(customer_id=customer.id, status="canceled").data == []

    # a second live subscription is refused
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.create(customer_id=customer.id, plan_code=sp.plan.code, billing_interval="monthly"),
        status=409,
        code="already_has_active_subscription",
        type="conflict_error",
    )
    assert len(sandbox.subscriptions.list(customer_id=customer.id).data) == 1


def test_initial_seats_key_camel_cased_by_the_sdk(sandbox, wire):
    """P9 sends ``{"initialSeats": {"seatPyAb12…": 4}}`` for the code ``seat_py_ab12…``; Tally
    matches the key to the feature whose code camel-cases to it (wire.md §2.3)."""
    code = feature_code("seat_py", "_")
    sp = seat_plan(sandbox, code=code)
    customer = new_customer(sandbox)
    camel = "".join([code.split("_")[0], *(p.capitalize() for p in code.split("_")[1:])])
    assert camel != code

    created, created_call = subscribe(
        sandbox, wire, customer_id=customer.id, plan_id=sp.plan.id, billing_interval="monthly", initial_seats={code: 4}
    )
    assert created_call.request_body["initialSeats"] == {camel: 4}, "what the SDK really sent"
    assert_subscription_wire(created_call.body, "created", customer=customer, seat_plan=sp)

    got = sandbox.subscriptions.get(created.id)
    assert_subscription_wire(wire.last.body, "full", customer=customer, seat_plan=sp, seats=4)
    assert got.features[0].code == code, "the response names the real code"


def test_get_active_without_subscription_is_null(sandbox, wire):
    customer = new_customer(sandbox, "no-sub")
    assert sandbox.subscriptions.get_active(customer_id=customer.id) is None
    assert wire.last.status == 200
    assert wire.last.body is None, "the whole body is the JSON literal null"
    assert sandbox.subscriptions.list(customer_id=customer.id).data == []

    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.get_active(customer_id=unique("ghost")),
        status=404,
        code="customer_not_found",
        type="not_found_error",
    )
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.get("sub_01J0000000000000000000000Z"),
        status=404,
        code="subscription_not_found",
        type="not_found_error",
    )


def test_default_price_yearly_and_price_id(sandbox, wire):
    sp = seat_plan(sandbox)

    # no interval: the default (first) price
    first = new_customer(sandbox)
    created, created_call = subscribe(sandbox, wire, customer_id=first.id, plan_id=sp.plan.id)
    assert_subscription_wire(created_call.body, "created", customer=first, seat_plan=sp)
    sandbox.subscriptions.get(created.id)
    assert_subscription_wire(wire.last.body, "full", customer=first, seat_plan=sp, seats=0)

    # yearly: the yearly price, a 12-month period
    second = new_customer(sandbox)
    yearly, yearly_call = subscribe(sandbox, wire, customer_id=second.id, plan_code=sp.plan.code, billing_interval="yearly")
    assert_subscription_wire(yearly_call.body, "created", customer=second, seat_plan=sp, interval="yearly")
    got = sandbox.subscriptions.get(yearly.id)
    assert_subscription_wire(wire.last.body, "full", customer=second, seat_plan=sp, interval="yearly")
    assert got.plan.base_price == YEARLY_PRICE

    # priceId (direct only) selects the price too
    third = new_customer(sandbox)
    by_price, by_price_call = subscribe(sandbox, wire, customer_id=third.id, plan_id=sp.plan.id, price_id=sp.yearly.id)
    assert_subscription_wire(by_price_call.body, "created", customer=third, seat_plan=sp, interval="yearly")

    # no price for that interval
    fourth = new_customer(sandbox)
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.create(customer_id=fourth.id, plan_id=sp.plan.id, billing_interval="weekly"),
        status=409,
        code="no_prices_configured",
        type="conflict_error",
    )
    assert sandbox.subscriptions.get_active(customer_id=fourth.id) is None


def test_cancel_at_period_end_then_uncancel(sandbox, wire):
    sp = seat_plan(sandbox)
    customer = new_customer(sandbox)
    created, created_call = subscribe(
        sandbox, wire, customer_id=customer.id, plan_code=sp.plan.code, billing_interval="monthly",
        initial_seats={sp.feature.code: 6},
    )
    _, end = assert_subscription_wire(created_call.body, "created", customer=customer, seat_plan=sp)

    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.uncancel(created.id),
        status=409,
        code="not_scheduled_for_cancellation",
        type="conflict_error",
    )

    # cancel: scheduled for the end of the period; direct answers the full Subscription
    canceled = sandbox.subscriptions.cancel(created.id, reason="switching tools")
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{created.id}/cancel"
    assert wire.last.request_body == {"reason": "switching tools"}
    body = wire.last.body
    scheduled_at = body["cancellation"] and body["cancellation"]["scheduledAt"]
    instant(scheduled_at, "cancellation.scheduledAt")
    assert_subscription_wire(
        body,
        "full",
        customer=customer,
        seat_plan=sp,
        seats=6,
        cancelAtPeriodEnd=True,
        cancellation={"scheduledAt": scheduled_at, "reason": "switching tools", "effectiveAt": end},
        endDate=end,
        nextBillingDate=None,
    )
    assert canceled.status == "active"
    assert canceled.cancel_at_period_end is True
    assert canceled.cancellation.effective_at == end
    assert sandbox.subscriptions.get(created.id) == canceled
    assert sandbox.subscriptions.get_active(customer_id=customer.id) == canceled

    # scheduling again is a no-op
    again = sandbox.subscriptions.cancel(created.id, reason="switching tools")
    assert again.cancellation.effective_at == end and again.status == "active"

    # uncancel (the SDK sends no body): the full Subscription without the schedule
    uncanceled = sandbox.subscriptions.uncancel(created.id)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{created.id}/uncancel"
    assert wire.last.request_body is None
    assert_subscription_wire(wire.last.body, "full", customer=customer, seat_plan=sp, seats=6)
    assert uncanceled.cancel_at_period_end is False and uncanceled.cancellation is None
    assert uncanceled.next_billing_date == end
    assert sandbox.subscriptions.get(created.id) == uncanceled

    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.uncancel(created.id),
        status=409,
        code="not_scheduled_for_cancellation",
        type="conflict_error",
    )


def test_immediate_cancel(sandbox, wire):
    sp = seat_plan(sandbox)
    customer = new_customer(sandbox)
    created, created_call = subscribe(sandbox, wire, customer_id=customer.id, plan_code=sp.plan.code, billing_interval="monthly")

    canceled = sandbox.subscriptions.cancel(created.id, immediate=True)
    assert wire.last.request_body == {"immediate": True}
    body = wire.last.body
    assert set(body) == set(created_call.body) - {"checkoutProvider"} | {
        "consumptionModel",
        "features",
        "credits",
        "balance",
    }, "the full Subscription"
    assert body["id"] == created.id
    assert body["status"] == "canceled"
    assert body["currentPeriod"] is None
    assert body["nextBillingDate"] is None
    assert body["startDate"] == created_call.body["startDate"]
    assert body["pause"] is None
    assert canceled.status == "canceled" and canceled.current_period is None

    assert sandbox.subscriptions.get(created.id) == canceled
    assert sandbox.subscriptions.get_active(customer_id=customer.id) is None
    assert [s.id for s in sandbox.subscriptions.list(customer_id=customer.id, status="canceled").data] == [created.id]
    [item] = wire.last.body["data"]
    assert item["status"] == "canceled" and item["currentPeriod"] is None

    for call in (lambda: sandbox.subscriptions.uncancel(created.id), lambda: sandbox.subscriptions.cancel(created.id)):
        expect_api_error(wire, call, status=409, code="subscription_already_canceled", type="conflict_error")

    # the customer may subscribe again
    again, again_call = subscribe(sandbox, wire, customer_id=customer.id, plan_code=sp.plan.code, billing_interval="monthly")
    assert again.id != created.id
    assert_subscription_wire(again_call.body, "created", customer=customer, seat_plan=sp)
    assert sorted(s.id for s in sandbox.subscriptions.list(customer_id=customer.id).data) == sorted([created.id, again.id])


def test_create_errors(sandbox, wire):
    sp = seat_plan(sandbox)
    customer = new_customer(sandbox)

    missing = expect_validation_error(
        wire, lambda: sandbox.subscriptions.create(customer_id=customer.id, billing_interval="monthly")
    )
    assert missing["param"] in ("planId", "planCode"), missing
    assert any(d["field"] == missing["param"] for d in missing["details"]), missing
    both = expect_validation_error(
        wire, lambda: sandbox.subscriptions.create(customer_id=customer.id, plan_id=sp.plan.id, plan_code=sp.plan.code)
    )
    assert both["param"] in ("planId", "planCode"), both

    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.create(customer_id=customer.id, plan_code=unique("ghost")),
        status=404,
        code="plan_not_found",
        type="not_found_error",
    )
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.create(customer_id=unique("ghost"), plan_code=sp.plan.code),
        status=404,
        code="customer_not_found",
        type="not_found_error",
    )
    ghost = feature_code("ghost")
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.create(customer_id=customer.id, plan_code=sp.plan.code, initial_seats={ghost: 2}),
        status=404,
        code="feature_not_found",
        type="not_found_error",
        param=f"initialSeats.{ghost}",
    )
    expect_validation_error(
        wire,
        lambda: sandbox.subscriptions.create(
            customer_id=customer.id, plan_code=sp.plan.code, initial_seats={sp.feature.code: -1}
        ),
    )
    # Tier 4 options are refused, their neutral values ignored (wire.md §3.5)
    expect_validation_error(
        wire,
        lambda: sandbox.subscriptions.create(customer_id=customer.id, plan_code=sp.plan.code, cancel_at_period_end=True),
    )
    expect_validation_error(
        wire, lambda: sandbox.subscriptions.create(customer_id=customer.id, plan_code=sp.plan.code, prepaid_periods=3)
    )
    # a price of another plan
    other = seat_plan(sandbox)
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.create(customer_id=customer.id, plan_id=sp.plan.id, price_id=other.monthly.id),
        status=404,
        code="price_not_found",
        type="not_found_error",
    )
    assert sandbox.subscriptions.get_active(customer_id=customer.id) is None

    # neutral values of the Tier-4 options are accepted
    created, created_call = subscribe(
        sandbox,
        wire,
        customer_id=customer.id,
        plan_code=sp.plan.code,
        billing_interval="monthly",
        prepaid_periods=1,
        cancel_at_period_end=False,
    )
    assert_subscription_wire(created_call.body, "created", customer=customer, seat_plan=sp)
