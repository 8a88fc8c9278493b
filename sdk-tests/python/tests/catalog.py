"""Catalog fixtures and the direct-generation subscription shapes (catalog.md §5.4), shared by the
subscription and test-clock tests. Every call creates fresh, uniquely named data (both suites
share one database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commet import Commet
from commet.types import AddPlanFeatureParamsOverage, Customer, Feature, Plan, PlanPrice

from support import CUSTOMER_ID, SUBSCRIPTION_ID, add_months, days_remaining, feature_code, instant, unique

PLAN_DESCRIPTION = "For growing teams"
MONTHLY_PRICE = 9900  # cents
YEARLY_PRICE = 99000  # cents
INCLUDED_SEATS = 5
SEAT_UNIT_PRICE = 250000  # rate scale, 10000 = $1


@dataclass
class SeatPlan:
    feature: Feature
    plan: Plan
    monthly: PlanPrice
    yearly: PlanPrice


def seat_plan(sdk: Commet, code: str | None = None) -> SeatPlan:
    """A seats feature and a plan with a monthly (first, default) and a yearly price, the feature
    attached with 5 included seats and overage at $25 (examples.md scenario 1). The default code
    has no underscore, so it survives P9's camel-casing of ``initial_seats`` keys."""
    feature = sdk.features.create(
        name=unique("Editor seats"), code=code or feature_code("seat"), type="seats", unit_name="seat"
    )
    plan = sdk.plans.create(name=unique("Pro"), code=unique("pro"), description=PLAN_DESCRIPTION)
    monthly = sdk.plans.add_price(plan.id, billing_interval="monthly", price=MONTHLY_PRICE)
    yearly = sdk.plans.add_price(plan.id, billing_interval="yearly", price=YEARLY_PRICE)
    assert monthly.is_default is True, "the first price becomes the default"
    sdk.plans.add_feature(
        plan.id,
        feature_id=feature.id,
        included_amount=INCLUDED_SEATS,
        overage=AddPlanFeatureParamsOverage(enabled=True, unit_price=SEAT_UNIT_PRICE),
    )
    return SeatPlan(feature=feature, plan=plan, monthly=monthly, yearly=yearly)


def new_customer(sdk: Commet, tag: str = "sub-cust") -> Customer:
    """A customer created with the merchant's own id (stored as externalId) and a full name."""
    external_id = unique(tag)
    customer = sdk.customers.create(
        id=external_id, email=f"{external_id}@example.test", full_name=f"Acme {external_id[-6:]}"
    )
    assert CUSTOMER_ID.match(customer.id), customer.id
    return customer


def seats_item(seat_plan: SeatPlan, seats: int) -> dict[str, Any]:
    """A direct ``features[]`` item of a seats feature (N9/P9 type: usage.unlimited added)."""
    return {
        "code": seat_plan.feature.code,
        "name": seat_plan.feature.name,
        "type": "seats",
        "usage": {
            "current": seats,
            "included": INCLUDED_SEATS,
            "overageQuantity": max(0, seats - INCLUDED_SEATS),
            "overageUnitPrice": SEAT_UNIT_PRICE,
            "unlimited": False,
        },
    }


def assert_subscription_wire(
    body: Any,
    kind: str,
    *,
    customer: Customer,
    seat_plan: SeatPlan,
    seats: int = 0,
    interval: str = "monthly",
    period: int = 0,
    now: str | None = None,
    **overrides: Any,
) -> tuple[str, str]:
    """Checks a raw direct subscription object of one of the three shapes, field by field:
      kind "created" = CreatedSubscription (create), "full" = Subscription (get, get active,
      cancel, uncancel), "summary" = SubscriptionSummary (list items).
    ``period``: which billing period is current, counted from startDate (0 = the first);
    ``now``: the clock time of the response, for daysRemaining (default: the period start, which
    is also right in real time within the first day). ``overrides`` (wire names) replace expected
    fields after the defaults are computed. Returns (period start, period end)."""
    assert isinstance(body, dict), body
    assert "success" not in body, "direct generation has no envelope"
    assert SUBSCRIPTION_ID.match(body["id"]), body["id"]
    start_date = body["startDate"]
    instant(start_date, "startDate")
    instant(body["createdAt"], "createdAt")
    instant(body["updatedAt"], "updatedAt")
    months = 12 if interval == "yearly" else 1
    start = add_months(start_date, period * months)
    end = add_months(start_date, (period + 1) * months)
    price = seat_plan.yearly if interval == "yearly" else seat_plan.monthly
    plan = seat_plan.plan
    expected: dict[str, Any] = {
        "id": body["id"],
        "customerId": customer.id,
        "name": plan.name,
        "description": plan.description,
        "status": "active",
        "billingInterval": interval,
        "trialEndsAt": None,
        "currentPeriod": {"start": start, "end": end, "daysRemaining": days_remaining(end, now or start)},
        "cancellation": None,
        "cancelAtPeriodEnd": False,
        "scheduledPlanChange": None,
        "startDate": start_date,
        "endDate": None,
        "billingDayOfMonth": instant(start_date).day,
        "nextBillingDate": end,
        "checkoutUrl": None,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
        "offerApplications": [],
        "pause": None,
        "priceId": price.id,
        "object": "subscription",
        "livemode": False,
    }
    if kind == "created":
        expected |= {"plan": {"id": plan.id, "name": plan.name}, "checkoutProvider": None}
    elif kind == "full":
        expected |= {
            "plan": {"id": plan.id, "name": plan.name, "basePrice": price.price},
            "consumptionModel": "metered",
            "features": [seats_item(seat_plan, seats)],
            "credits": None,
            "balance": None,
        }
    elif kind == "summary":
        expected |= {"plan": {"id": plan.id, "name": plan.name}}
    else:  # pragma: no cover
        raise ValueError(kind)
    expected |= overrides
    assert set(body) == set(expected), f"{kind} fields: extra {set(body) - set(expected)}, missing {set(expected) - set(body)}"
    assert body == expected
    period_days = body["currentPeriod"] and body["currentPeriod"]["daysRemaining"]
    assert period_days is None or type(period_days) is int, "daysRemaining is an integer on the wire"
    return start, end
