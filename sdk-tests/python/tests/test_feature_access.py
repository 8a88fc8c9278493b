"""Feature access through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects;
usage.md §3.6, §4). Nothing here moves the test clock.

Wire mapping (commet/resources/feature_access.py; base_url <TALLY_URL>/api/v1):
  feature_access.list(customer_id=)      GET /feature-access?customerId=   -> FeatureAccessListResult
  feature_access.get(code, customer_id=) GET /feature-access/{code}?customerId=  -> FeatureAccess
FeatureAccess is a union on ``type`` (P9: FeatureAccessVariant1 boolean, 2 usage, 3 seats, 4 quota):
every variant has code, name, unitName, allowed, type, object "feature_access", livemode; booleans
add ``enabled``; usage features add ``consumption``, a union on ``model`` (metered: period,
unitsUsed, includedUnits, remainingUnits, unlimited, overage {enabled, units, unitPrice?};
credits and balance: see test_usage.py); seats and quotas add ``usage`` (the metered fields
without a model; quotas also billedUnits, the period's peak). Lookups (get) add ``reason`` when
refused (P9's variants do not declare it, so only the wire has it). P9 has no canUse
(@commet/node's ``action=canUse``), so nothing here sends it.
"""

from __future__ import annotations

from typing import Any

from commet.types import (
    FeatureAccessListResult,
    FeatureAccessVariant1,
    FeatureAccessVariant2,
    FeatureAccessVariant3,
    FeatureAccessVariant4,
)

from catalog import INCLUDED_SEATS, SEAT_UNIT_PRICE, new_customer
from metering import (  # cancel_subscriptions: an autouse fixture
    CALL_UNIT_PRICE,
    CAPPED_CALLS,
    CAPPED_TASKS,
    INCLUDED_CALLS,
    INCLUDED_TASKS,
    TASK_UNIT_PRICE,
    access,
    as_wire,
    cancel_subscriptions,
    counted_usage,
    hard_limit_catalog,
    metered_catalog,
    new_feature,
    overage,
    subscribe,
)
from support import base62, expect_api_error, feature_code, request_line, unique

VARIANT = {
    "boolean": FeatureAccessVariant1,
    "usage": FeatureAccessVariant2,
    "seats": FeatureAccessVariant3,
    "quota": FeatureAccessVariant4,
}


def assert_sdk_access(item: Any, raw: dict[str, Any]) -> None:
    """The SDK picked the variant of the raw ``type`` and kept every field it declares (P9's
    variants have no ``reason``: a refused lookup's reason is only on the wire)."""
    assert isinstance(item, VARIANT[raw["type"]]), (type(item).__name__, raw["type"])
    declared = {k: v for k, v in raw.items() if k != "reason"}
    assert as_wire(item) == declared, (as_wire(item), raw)


def list_access(sdk, wire, customer_id: str) -> list[dict[str, Any]]:
    """feature_access.list: a direct list {object, data, hasMore} (never paged), item by item."""
    result = sdk.feature_access.list(customer_id=customer_id)
    assert request_line(wire.last) == f"GET /api/v1/feature-access?customerId={customer_id}"
    assert wire.last.status == 200, wire.last.body
    body = wire.last.body
    assert set(body) == {"object", "data", "hasMore"} and body["object"] == "list" and body["hasMore"] is False, body
    assert isinstance(result, FeatureAccessListResult)
    assert len(result.data) == len(body["data"])
    for item, raw in zip(result.data, body["data"]):
        assert_sdk_access(item, raw)
    return body["data"]


def get_access(sdk, wire, customer_id: str, code: str) -> dict[str, Any]:
    """feature_access.get: the raw FeatureAccess; the SDK's variant matches it."""
    got = sdk.feature_access.get(code, customer_id=customer_id)
    assert request_line(wire.last) == f"GET /api/v1/feature-access/{code}?customerId={customer_id}"
    assert wire.last.status == 200, wire.last.body
    assert_sdk_access(got, wire.last.body)
    return wire.last.body


def test_list_every_feature_of_the_plan(sandbox, wire):
    seats = new_feature(sandbox, "seats", "seat", "seat")
    banner = new_feature(sandbox, "boolean", "banner")
    cat = metered_catalog(
        sandbox,
        [
            (seats, {"included_amount": INCLUDED_SEATS, "overage": overage(True, SEAT_UNIT_PRICE)}),
            (banner, {"enabled": False}),
        ],
    )
    subscribed = subscribe(sandbox, wire, cat.plan, "access-list")
    customer, period = subscribed.customer, subscribed.period
    sandbox.usage.track(customer_id=customer.id, feature_code=cat.calls.code, value=130)
    sandbox.quota.add(customer_id=customer.id, feature_code=cat.tasks.code, count=7)
    sandbox.seats.add(customer_id=customer.id, feature_code=seats.code, count=2)

    expected = sorted(
        [
            # 130 calls: 30 past the 100 included, sold at $0.25 -> still allowed
            access(
                cat.calls,
                consumption=counted_usage(
                    model="metered",
                    period=period,
                    used=130,
                    included=INCLUDED_CALLS,
                    billable=True,
                    unit_price=CALL_UNIT_PRICE,
                ),
            ),
            # 7 tasks: 2 extra, billed; billedUnits is the period's peak
            access(
                cat.tasks,
                usage=counted_usage(
                    period=period, used=7, included=INCLUDED_TASKS, billable=True, unit_price=TASK_UNIT_PRICE, billed=7
                ),
            ),
            access(
                seats,
                usage=counted_usage(
                    period=period, used=2, included=INCLUDED_SEATS, billable=True, unit_price=SEAT_UNIT_PRICE
                ),
            ),
            access(cat.sso, enabled=True),
            # a disabled feature is listed, refused (list items carry no reason)
            access(banner, allowed=False, enabled=False),
        ],
        key=lambda item: item["code"],
    )
    assert list_access(sandbox, wire, customer.id) == expected
    assert list_access(sandbox, wire, customer.external_id) == expected

    # a customer without a subscription has no features; an unknown one is not found
    idle = new_customer(sandbox, "access-idle")
    assert list_access(sandbox, wire, idle.id) == []
    expect_api_error(
        wire,
        lambda: sandbox.feature_access.list(customer_id=unique("ghost")),
        status=404,
        code="customer_not_found",
        type="not_found_error",
        param="customerId",
    )


def test_get_each_type_and_features_off_the_plan(sandbox, wire):
    off_plan = new_feature(sandbox, "usage", "other")
    off_flag = new_feature(sandbox, "boolean", "otherflag")
    cat = metered_catalog(sandbox)
    subscribed = subscribe(sandbox, wire, cat.plan, "access-get")
    customer, period = subscribed.customer, subscribed.period
    cid = customer.id

    sandbox.usage.track(customer_id=cid, feature_code=cat.calls.code, value=99)
    def calls(used: int) -> dict[str, Any]:
        return access(
            cat.calls,
            consumption=counted_usage(
                model="metered", period=period, used=used, included=INCLUDED_CALLS, billable=True, unit_price=CALL_UNIT_PRICE
            ),
        )

    assert get_access(sandbox, wire, cid, cat.calls.code) == calls(99)
    sandbox.usage.track(customer_id=cid, feature_code=cat.calls.code, value=2)
    # past the included units: still allowed
    assert get_access(sandbox, wire, customer.external_id, cat.calls.code) == calls(101)

    sandbox.quota.set(customer_id=cid, feature_code=cat.tasks.code, count=4)
    assert get_access(sandbox, wire, cid, cat.tasks.code) == access(
        cat.tasks,
        usage=counted_usage(
            period=period, used=4, included=INCLUDED_TASKS, billable=True, unit_price=TASK_UNIT_PRICE, billed=4
        ),
    )
    assert get_access(sandbox, wire, cid, cat.sso.code) == access(cat.sso, enabled=True)

    # catalog features the plan does not have: refused with zero counters, not an error
    assert get_access(sandbox, wire, cid, off_plan.code) == access(
        off_plan,
        allowed=False,
        consumption=counted_usage(model="metered", period=period, used=0, included=0, billable=False),
        reason="feature_not_in_plan",
    )
    assert get_access(sandbox, wire, cid, off_flag.code) == access(
        off_flag, allowed=False, enabled=False, reason="feature_not_in_plan"
    )


def test_hard_limit_and_disabled_features(sandbox, wire):
    off = new_feature(sandbox, "usage", "off")
    cat = hard_limit_catalog(sandbox, [(off, {"enabled": False, "included_amount": 10})])
    subscribed = subscribe(sandbox, wire, cat.plan, "access-limit")
    customer, period = subscribed.customer, subscribed.period
    cid = customer.id

    def calls(used: int, **rest: Any) -> dict[str, Any]:
        return access(
            cat.calls,
            consumption=counted_usage(model="metered", period=period, used=used, included=CAPPED_CALLS, billable=False),
            **rest,
        )

    sandbox.usage.track(customer_id=cid, feature_code=cat.calls.code, value=CAPPED_CALLS - 1)
    assert get_access(sandbox, wire, cid, cat.calls.code) == calls(CAPPED_CALLS - 1)
    sandbox.usage.track(customer_id=cid, feature_code=cat.calls.code)
    # no overage sold: no unitPrice; at the limit the lookup is refused with its reason
    full = calls(CAPPED_CALLS, allowed=False, reason="included_limit_reached")
    assert get_access(sandbox, wire, cid, cat.calls.code) == full

    sandbox.quota.set(customer_id=cid, feature_code=cat.tasks.code, count=CAPPED_TASKS)
    assert get_access(sandbox, wire, cid, cat.tasks.code) == access(
        cat.tasks,
        allowed=False,
        usage=counted_usage(
            period=period, used=CAPPED_TASKS, included=CAPPED_TASKS, billable=False, billed=CAPPED_TASKS
        ),
        reason="included_limit_reached",
    )

    # disabled on the plan: the lookup is refused with zero counters; the list item has no reason
    assert get_access(sandbox, wire, cid, off.code) == access(
        off,
        allowed=False,
        consumption=counted_usage(model="metered", period=period, used=0, included=0, billable=False),
        reason="feature_disabled",
    )
    [listed] = [item for item in list_access(sandbox, wire, cid) if item["code"] == off.code]
    assert listed == access(
        off,
        allowed=False,
        consumption=counted_usage(model="metered", period=period, used=0, included=10, billable=False),
    )


def test_feature_access_errors(sandbox, make_client, wire):
    cat = metered_catalog(sandbox)
    customer = subscribe(sandbox, wire, cat.plan, "access-err").customer
    expect_api_error(
        wire,
        lambda: sandbox.feature_access.get(feature_code("nope", "_"), customer_id=customer.id),
        status=404,
        code="feature_not_found",
        type="not_found_error",
        param="code",
    )
    idle = new_customer(sandbox, "access-idle")
    expect_api_error(
        wire,
        lambda: sandbox.feature_access.get(cat.calls.code, customer_id=idle.external_id),
        status=404,
        code="no_active_subscription",
        type="not_found_error",
        param="customerId",
    )
    expect_api_error(
        wire,
        lambda: sandbox.feature_access.get(cat.calls.code, customer_id=unique("ghost")),
        status=404,
        code="customer_not_found",
        type="not_found_error",
        param="customerId",
    )
    intruder = make_client("ck_sandbox_" + base62(32))
    expect_api_error(
        wire,
        lambda: intruder.feature_access.list(customer_id=customer.id),
        status=401,
        code="unauthorized",
        type="authentication_error",
    )
