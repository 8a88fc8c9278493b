"""Add-ons, pause/resume, reactivation and the test clock as commet-sdk 9.7.0 sees them
(commet-version 2026-08-27, direct objects; lifecycle.md §2, §5–§7, §11, payments.md §6), shared by
test_addons.py, test_pause.py and test_reactivate.py. Every call creates fresh, uniquely named data.

Wire mapping (commet/resources/addons.py, subscriptions.py; bodies are camel-cased, None values
dropped, an empty body not sent at all):
  addons.create(name=, base_price=, feature_id=, consumption_model=, description=, included_units=,
                overage_rate=, credit_cost=)         POST   /addons            -> Addon
  addons.get(id)                                     GET    /addons/{id}       id = adn_… or slug
  addons.update(id, name=, description=, base_price=, included_units=, overage_rate=)
                                                     PATCH  /addons/{id}       -> Addon
  addons.delete(id)                                  DELETE /addons/{id}       -> DeletedObject
  addons.list(cursor=, limit=)                       GET    /addons            -> AddonsListResult
  addons.list_active(customer_id=)                   GET    /active-addons?customerId=
                                                     -> AddonsListActiveResult (ActiveAddon items)
  subscriptions.activate_addon(id, addon_id=)        POST   /subscriptions/{id}/addons {addonId}
                                                     -> SubscriptionAddon
  subscriptions.deactivate_addon(id, addon_id)       DELETE /subscriptions/{id}/addons/{addonId}
                                                     -> DeletedSubscriptionAddon
  subscriptions.pause(id, mode=, duration_days=)     POST   /subscriptions/{id}/pause
                                                     body {mode, durationDays} (durationDays always
                                                     sent, null = indefinite) -> Subscription
  subscriptions.update_pause(id, duration_days=)     PATCH  /subscriptions/{id}/pause {durationDays}
  subscriptions.revoke_pause(id)                     DELETE /subscriptions/{id}/pause  (no body)
  subscriptions.resume(id)                           POST   /subscriptions/{id}/resume (no body)
                                                     -> SubscriptionResume
  subscriptions.reactivate(id, offer_id=)            POST   /subscriptions/{id}/reactivate
                                                     (no body without offer_id)
                                                     -> ReactivatedSubscription
  test_clock.advance(frozen_time=)                   POST   /test-clock -> 202 TestClockRun, runs
                                                     every deadline due up to the target
The SDK picks the Subscription ``pause`` variant by ``status`` (SubscriptionPauseVariant1
scheduled, Variant2 active). Every check here is made on the raw JSON, then against the SDK object.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

from commet import Commet
from commet.types import (
    ActiveAddon,
    Addon,
    Customer,
    DeletedSubscriptionAddon,
    Feature,
    Plan,
    SubscriptionAddon,
)

from catalog import new_customer
from invoicing import list_invoices
from support import (
    DAY,
    FEATURE_ID,
    PLAN_ID,
    SUBSCRIPTION_ID,
    assert_direct_list,
    days_remaining,
    feature_code,
    instant,
    iso,
    request_line,
    unique,
)

ADDON_ID = re.compile(r"^adn_[0-9A-HJKMNP-TV-Z]{26}$")
ADDON_KEYS = {
    "id",
    "name",
    "slug",
    "description",
    "basePrice",
    "featureCode",
    "featureName",
    "consumptionModel",
    "includedUnits",
    "overageRate",
    "creditCost",
    "createdAt",
    "updatedAt",
    "object",
    "livemode",
}
SUBSCRIPTION_KEYS = {
    "id",
    "customerId",
    "name",
    "description",
    "status",
    "billingInterval",
    "trialEndsAt",
    "currentPeriod",
    "cancellation",
    "cancelAtPeriodEnd",
    "scheduledPlanChange",
    "startDate",
    "endDate",
    "billingDayOfMonth",
    "nextBillingDate",
    "checkoutUrl",
    "createdAt",
    "updatedAt",
    "offerApplications",
    "pause",
    "priceId",
    "object",
    "livemode",
    "plan",
    "consumptionModel",
    "features",
    "credits",
    "balance",
}
UNKNOWN_ADDON = "adn_01J0000000000000000000000Z"
UNKNOWN_SUBSCRIPTION = "sub_01J0000000000000000000000Z"
INVALID_STATUS = {"status": 409, "code": "invalid_subscription_status", "type": "conflict_error"}
NOT_ACTIVE = {"status": 409, "code": "subscription_not_active", "type": "conflict_error"}


def hex16() -> str:
    """16 lower-case hex characters, for names whose slug the test predicts."""
    return uuid.uuid4().hex[:16]


def slug_of(name: str) -> str:
    """lifecycle.md §5: the lower-cased name, every run outside [a-z0-9] one "-". The tests' names
    begin and end with a letter or digit, so no edge "-" question arises."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower())


def new_feature(sdk, type: str, tag: str) -> Feature:
    """A fresh feature of ``type``; the code has no underscore (safe as an initial_seats key)."""
    feature = sdk.features.create(
        name=unique(tag), code=feature_code(tag), type=type, unit_name=None if type == "boolean" else "unit"
    )
    assert FEATURE_ID.match(feature.id), feature.id
    return feature


@dataclass
class PlainPlan:
    """A plan with one monthly price and no features of its own (lifecycle.md §12 scenario 4's pro)."""

    plan: Plan
    price_id: str
    price: int

    @property
    def id(self) -> str:
        return self.plan.id

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def code(self) -> str:
        return self.plan.code


def plain_plan(sdk, tag: str, price: int) -> PlainPlan:
    plan = sdk.plans.create(name=unique(tag), code=unique(tag.lower()))
    assert PLAN_ID.match(plan.id), plan.id
    monthly = sdk.plans.add_price(plan.id, billing_interval="monthly", price=price)
    assert monthly.is_default is True
    return PlainPlan(plan=plan, price_id=monthly.id, price=price)


def get_subscription(sdk, wire, sub_id: str) -> dict[str, Any]:
    """``subscriptions.get``: the raw direct Subscription, checked against the SDK object."""
    sub = sdk.subscriptions.get(sub_id)
    assert request_line(wire.last) == f"GET /api/v1/subscriptions/{sub_id}"
    assert wire.last.status == 200, wire.last.body
    body = wire.last.body
    assert sub.id == body["id"] and sub.status == body["status"]
    assert sub.next_billing_date == body["nextBillingDate"]
    return body


def subscribe_plain(sdk, wire, plan: PlainPlan, tag: str) -> tuple[Customer, dict[str, Any]]:
    """A new customer on ``plan`` monthly; returns the full Subscription (wire) read back."""
    customer = new_customer(sdk, tag)
    created = sdk.subscriptions.create(customer_id=customer.id, plan_code=plan.code, billing_interval="monthly")
    assert SUBSCRIPTION_ID.match(created.id), created.id
    body = get_subscription(sdk, wire, created.id)
    assert body["status"] == "active", body
    return customer, body


def subscribe_with_seats(sdk, wire, seat_plan, seats: int, tag: str) -> tuple[Customer, dict[str, Any]]:
    """A new customer on a catalog.SeatPlan, monthly, with ``seats`` seats; returns the full
    Subscription (wire) read back."""
    customer = new_customer(sdk, tag)
    sdk.subscriptions.create(
        customer_id=customer.id,
        plan_code=seat_plan.plan.code,
        billing_interval="monthly",
        initial_seats={seat_plan.feature.code: seats},
    )
    assert request_line(wire.last) == "POST /api/v1/subscriptions" and wire.last.status == 200, wire.last.body
    return customer, get_subscription(sdk, wire, wire.last.body["id"])


def _by_code(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item["code"])


def assert_plain_subscription(
    body: dict[str, Any],
    *,
    original: dict[str, Any],
    customer: Customer,
    plan: PlainPlan,
    start: str,
    end: str,
    now: str,
    features: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> None:
    """A direct Subscription of a PlainPlan, field by field. ``features``: the active add-ons'
    items, compared in code order (lifecycle.md does not order them). ``original``: the object as
    subscribed (id, startDate, createdAt carry over). ``overrides`` (wire names) replace expected
    fields after the defaults are computed."""
    assert set(body) == SUBSCRIPTION_KEYS, f"extra {set(body) - SUBSCRIPTION_KEYS}, missing {SUBSCRIPTION_KEYS - set(body)}"
    instant(body["updatedAt"], "updatedAt")
    expected = {
        "id": original["id"],
        "customerId": customer.id,
        "plan": {"id": plan.id, "name": plan.name, "basePrice": plan.price},
        "name": plan.name,
        "description": None,
        "status": "active",
        "billingInterval": "monthly",
        "trialEndsAt": None,
        "currentPeriod": {"start": start, "end": end, "daysRemaining": days_remaining(end, now)},
        "cancellation": None,
        "cancelAtPeriodEnd": False,
        "scheduledPlanChange": None,
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
        "features": _by_code(features or []),
        "credits": None,
        "balance": None,
        "object": "subscription",
        "livemode": False,
    } | overrides
    assert {**body, "features": _by_code(body["features"])} == expected


# ---------------------------------------------------------------------------------------------
# Add-ons
# ---------------------------------------------------------------------------------------------

_CREATE_NAMES = {
    "name": "name",
    "description": "description",
    "base_price": "basePrice",
    "feature_id": "featureId",
    "consumption_model": "consumptionModel",
    "included_units": "includedUnits",
    "overage_rate": "overageRate",
    "credit_cost": "creditCost",
}


def assert_sdk_addon(addon: Addon, body: dict[str, Any]) -> None:
    """The SDK's Addon carries the wire values (snake-cased)."""
    assert isinstance(addon, Addon), type(addon)
    assert (addon.id, addon.name, addon.slug, addon.description) == (
        body["id"],
        body["name"],
        body["slug"],
        body["description"],
    )
    assert (addon.base_price, addon.feature_code, addon.feature_name, addon.consumption_model) == (
        body["basePrice"],
        body["featureCode"],
        body["featureName"],
        body["consumptionModel"],
    )
    assert (addon.included_units, addon.overage_rate, addon.credit_cost) == (
        body["includedUnits"],
        body["overageRate"],
        body["creditCost"],
    )
    assert (addon.created_at, addon.updated_at, addon.object, addon.livemode) == (
        body["createdAt"],
        body["updatedAt"],
        "addon",
        False,
    )


def create_addon(sdk, wire, **params: Any) -> dict[str, Any]:
    """``addons.create`` through the SDK, checking the request; returns the raw Addon."""
    addon = sdk.addons.create(**params)
    assert request_line(wire.last) == "POST /api/v1/addons"
    assert wire.last.request_body == {_CREATE_NAMES[k]: v for k, v in params.items() if v is not None}
    assert wire.last.status == 200, wire.last.body
    body = wire.last.body
    assert_sdk_addon(addon, body)
    return body


def expected_addon(feature: Feature, **fields: Any) -> dict[str, Any]:
    """The Addon expected for ``feature`` (wire names): unit fields null and slug from the name
    unless given."""
    return {
        "slug": slug_of(fields["name"]),
        "description": None,
        "featureCode": feature.code,
        "featureName": feature.name,
        "includedUnits": None,
        "overageRate": None,
        "creditCost": None,
    } | fields


def assert_addon_wire(body: Any, expected: dict[str, Any]) -> dict[str, Any]:
    """A raw direct Addon field by field (id and timestamps checked here); returns it."""
    assert isinstance(body, dict) and set(body) == ADDON_KEYS, body
    assert ADDON_ID.match(body["id"]), body["id"]
    instant(body["createdAt"], "createdAt")
    instant(body["updatedAt"], "updatedAt")
    assert body["updatedAt"] >= body["createdAt"]
    assert body == {
        "id": body["id"],
        **expected,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
        "object": "addon",
        "livemode": False,
    }
    return body


def activate_addon(sdk, wire, sub_id: str, addon_id: str) -> dict[str, Any]:
    """``subscriptions.activate_addon`` through the SDK, checking the request; returns the raw
    SubscriptionAddon, checked against the SDK object."""
    result = sdk.subscriptions.activate_addon(sub_id, addon_id=addon_id)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub_id}/addons"
    assert wire.last.request_body == {"addonId": addon_id}
    assert wire.last.status == 200, wire.last.body
    body = wire.last.body
    assert isinstance(result, SubscriptionAddon)
    assert (result.addon_id, result.status, result.prorated_charge, result.object) == (
        body["addonId"],
        body["status"],
        body["proratedCharge"],
        body["object"],
    )
    return body


def activation_wire(addon: dict[str, Any], prorated_charge: int) -> dict[str, Any]:
    return {
        "addonId": addon["id"],
        "status": "active",
        "proratedCharge": prorated_charge,
        "object": "subscription_addon",
        "livemode": False,
    }


def deactivate_addon(sdk, wire, sub_id: str, addon_id: str) -> dict[str, Any]:
    """``subscriptions.deactivate_addon`` through the SDK (no body); returns the raw
    DeletedSubscriptionAddon, checked against the SDK object."""
    result = sdk.subscriptions.deactivate_addon(sub_id, addon_id)
    assert request_line(wire.last) == f"DELETE /api/v1/subscriptions/{sub_id}/addons/{addon_id}"
    assert wire.last.request_body is None
    assert wire.last.status == 200, wire.last.body
    body = wire.last.body
    assert isinstance(result, DeletedSubscriptionAddon)
    assert (result.id, result.status, result.deactivated_at, result.object) == (
        body["id"],
        body["status"],
        body["deactivatedAt"],
        body["object"],
    )
    return body


def deactivation_wire(addon: dict[str, Any], at: str) -> dict[str, Any]:
    return {
        "id": addon["id"],
        "status": "inactive",
        "deactivatedAt": at,
        "object": "subscription_addon",
        "livemode": False,
    }


def list_active(sdk, wire, customer_id: str) -> list[dict[str, Any]]:
    """``addons.list_active``: a direct list with hasMore false; returns the raw items, checked
    against the SDK's ActiveAddon objects."""
    result = sdk.addons.list_active(customer_id=customer_id)
    assert request_line(wire.last) == f"GET /api/v1/active-addons?customerId={customer_id}"
    assert wire.last.status == 200, wire.last.body
    items = assert_direct_list(wire.last.body)
    assert wire.last.body["hasMore"] is False
    assert result.object == "list" and result.has_more is False
    assert len(result.data) == len(items)
    for got, raw in zip(result.data, items):
        assert isinstance(got, ActiveAddon)
        assert (got.slug, got.name, got.base_price, got.feature_code, got.activated_at, got.object) == (
            raw["slug"],
            raw["name"],
            raw["basePrice"],
            raw["featureCode"],
            raw["activatedAt"],
            raw["object"],
        )
    return items


def active_addon_wire(addon: dict[str, Any], feature_type: str, activated_at: str) -> dict[str, Any]:
    """A direct ActiveAddon item (object "subscription_addon")."""
    return {
        "slug": addon["slug"],
        "name": addon["name"],
        "basePrice": addon["basePrice"],
        "featureCode": addon["featureCode"],
        "featureName": addon["featureName"],
        "featureType": feature_type,
        "consumptionModel": addon["consumptionModel"],
        "activatedAt": activated_at,
        "object": "subscription_addon",
        "livemode": False,
    }


def addon_line(base_price: int, amount: int) -> dict[str, Any]:
    """An ``addon_base`` / ``advance`` invoice line (lifecycle.md §5), without description."""
    return {
        "lineType": "addon_base",
        "featureName": None,
        "quantity": 1,
        "unitAmount": base_price,
        "amount": amount,
        "includedAmount": None,
        "usedAmount": None,
        "overageAmount": None,
        "discountType": None,
        "discountValue": None,
        "discountName": None,
        "chargeType": "advance",
    }


def boolean_item(feature: Feature) -> dict[str, Any]:
    """The direct features[] item of an active boolean add-on's feature."""
    return {"code": feature.code, "name": feature.name, "type": "boolean", "enabled": True}


def usage_item(feature: Feature, *, included: int, overage_unit_price: int) -> dict[str, Any]:
    """The direct features[] item of an active metered add-on's feature (nothing used yet)."""
    return {
        "code": feature.code,
        "name": feature.name,
        "type": "usage",
        "usage": {
            "current": 0,
            "included": included,
            "overageQuantity": 0,
            "overageUnitPrice": overage_unit_price,
            "unlimited": False,
        },
    }


def prorate(amount: int, d: int, p: int) -> int:
    """round_half_up(amount × d / P) in exact integer arithmetic (lifecycle.md §5)."""
    return (2 * amount * d + p) // (2 * p)


# ---------------------------------------------------------------------------------------------
# Clock and invoices
# ---------------------------------------------------------------------------------------------


def clock_now(sdk) -> str:
    return sdk.test_clock.get().now


def period_days(start: str, end: str) -> int:
    seconds = (instant(end) - instant(start)).total_seconds()
    assert seconds % DAY.total_seconds() == 0, (start, end)
    return int(seconds // DAY.total_seconds())


def first_of_month_after(now: str, days: int) -> str:
    """The first 00:00 UTC on the 1st of a month of ``days`` days (30 or 31) strictly after ``now``."""
    t = instant(now)
    year, month = t.year, t.month
    while True:
        month += 1
        if month == 13:
            year, month = year + 1, 1
        if calendar.monthrange(year, month)[1] == days:
            return iso(datetime(year, month, 1, tzinfo=timezone.utc))


def advance_to(sdk, wire, target: str, subscription_id: str) -> list[dict[str, Any]]:
    """Moves the clock to ``target`` (every deadline due runs); returns this subscription's run items."""
    run = sdk.test_clock.advance(frozen_time=target)
    assert request_line(wire.last) == "POST /api/v1/test-clock"
    assert wire.last.request_body == {"frozenTime": target}
    assert wire.last.status == 202, wire.last.body
    body = wire.last.body
    assert body["status"] == "completed", body
    assert body["targetTime"] == target
    assert body["failedDeadlineCount"] == 0, body
    assert run.id == body["id"] and run.target_time == target
    return [i for i in body["items"] if i["subscriptionId"] == subscription_id]


def invoice_ids(sdk, wire, sub_id: str) -> list[str]:
    """The invoice ids of one subscription, newest first (one page)."""
    result, items = list_invoices(sdk, wire, subscription_id=sub_id, limit=10)
    assert result.has_more is False
    return [i["id"] for i in items]


# ---------------------------------------------------------------------------------------------
# Webhooks (a Receiver from test_webhooks.py)
# ---------------------------------------------------------------------------------------------

DELIVERY_DEADLINE = 15.0  # as test_webhooks.py: deliveries normally arrive well under a second


def deliveries(receiver, subscription_id: str, counts: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """Waits until ``receiver`` holds ``counts[event]`` distinct events (by envelope id) of each
    event for this subscription; returns their ``data``, in arrival order. Fails on a timeout or
    when more arrived than expected."""
    deadline = time.monotonic() + DELIVERY_DEADLINE
    while True:
        seen: dict[str, dict[str, dict[str, Any]]] = {event: {} for event in counts}
        for request in receiver.mine():
            body = request.json or {}
            data = body.get("data") or {}
            if body.get("event") in counts and data.get("subscriptionId") == subscription_id:
                seen[body["event"]].setdefault(body["id"], data)
        if all(len(seen[event]) >= n for event, n in counts.items()):
            got = {event: list(by_id.values()) for event, by_id in seen.items()}
            for event, n in counts.items():
                assert len(got[event]) == n, f"{n} × {event} expected, got {got[event]}"
            return got
        if time.monotonic() >= deadline:
            have = {event: len(by_id) for event, by_id in seen.items()}
            raise AssertionError(f"expected {counts} for {subscription_id}, have {have}; {receiver.summary()}")
        time.sleep(0.05)


def same_items(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> bool:
    """Equal as multisets (deliveries of different events may arrive in any order)."""
    key = lambda item: json.dumps(item, sort_keys=True)  # noqa: E731
    return sorted(got, key=key) == sorted(expected, key=key)


# ---------------------------------------------------------------------------------------------
# Other API versions
# ---------------------------------------------------------------------------------------------


@contextmanager
def versioned_client(wire, api_version: str) -> Iterator[Commet]:
    """``Commet(sandbox key, api_version=...)`` (a constructor option of the SDK) with the test's
    wire recorder attached the way conftest.py attaches it; closed afterwards."""
    client = Commet(os.environ["TALLY_SANDBOX_KEY"], api_version=api_version)
    http = client._http._client
    hooks = http.event_hooks
    hooks["response"] = [*hooks.get("response", []), wire.hook]
    http.event_hooks = hooks
    try:
        yield client
    finally:
        client.close()
