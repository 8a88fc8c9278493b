"""Usage metering through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects; usage.md §3).

Nothing here moves the test clock: every test runs inside its subscription's first usage period,
and server timestamps are checked against the sandbox clock read around the calls.

Wire mapping (commet/resources/usage.py; base_url <TALLY_URL>/api/v1):
  usage.track(feature_code=, customer_id=, value=, event_id=, timestamp=, properties=[...],
              idempotency_key=)       POST /usage/events  body {featureCode, customerId, eventId?,
                                      timestamp?, properties?, value?} -> UsageEvent
  usage.check(customer_id=, feature_code=, quantity=, idempotency_key=)
                                      POST /usage/check   body {customerId, featureCode, quantity?}
                                      -> UsageCheck, a union on consumptionModel
  usage.set(customer_id=, feature_code=, value=, reason=, idempotency_key=)
                                      PUT  /usage         body {customerId, featureCode, value,
                                      reason?} -> UsageAdjustment
Unlike @commet/node, P9 sends no ``timestamp`` unless given, so an event's ts is the server's
clock. ``event_id`` is the event key: one event per key and organization, forever (409
``duplicate``); ``idempotency_key=`` is the Idempotency-Key header, which replays the first answer.
POST/PUT get an auto ``Idempotency-Key: commet-python-retry-<uuid4>`` unless one is given.

SDK note (not a Tally matter): ``usage.check`` returns a plain snake-cased dict, not a UsageCheck
dataclass. P9's union parser looks the discriminator up by its wire name ``consumptionModel`` in
the response after snake-casing every key (so it is ``consumption_model`` there), finds no
variant and, the union having no fallbacks, hands back the dict. The wire is checked in full.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from commet import CommetAPIError
from commet.types import (
    TrackUsageParamsPropertiesItem,
    UsageAdjustment,
    UsageEvent,
    UsageEventConsumption,
    UsageEventPropertiesItem,
)

from catalog import new_customer
from metering import (  # cancel_subscriptions: an autouse fixture
    AUTO_IDEMPOTENCY_KEY,
    BALANCE_UNIT_PRICE,
    CALL_UNIT_PRICE,
    CAPPED_CALLS,
    CREDITS_PER_UNIT,
    INCLUDED_BALANCE,
    INCLUDED_CALLS,
    INCLUDED_CREDITS,
    PLAN_PRICE,
    USAGE_EVENT_ID,
    access,
    balance_catalog,
    cancel_subscriptions,
    clock_now,
    counted_usage,
    credits_catalog,
    hard_limit_catalog,
    metered_catalog,
    new_feature,
    new_plan,
    overage,
    subscribe,
    to_snake_keys,
)
from support import (
    base62,
    expect_api_error,
    expect_validation_error,
    feature_code,
    instant,
    iso,
    request_line,
    unique,
)

EVENT_KEYS = {
    "id",
    "featureCode",
    "value",
    "customerId",
    "eventId",
    "ts",
    "createdAt",
    "properties",
    "object",
    "livemode",
}
NOT_FOUND, BILLING = "not_found_error", "billing_error"
ADJUSTMENT_KEYS = {
    "id",
    "value",
    "previousValue",
    "adjustment",
    "customerId",
    "reason",
    "ts",
    "createdAt",
    "featureCode",
    "object",
    "livemode",
}


@dataclass
class Timed:
    result: Any  # what the SDK returned
    exchange: Any  # the recorded exchange of the call
    before: str  # clock read just before the call
    after: str  # clock read just after it

    @property
    def body(self) -> Any:
        return self.exchange.body

    @property
    def sent(self) -> Any:
        return self.exchange.request_body


def timed(sdk, wire, call: Callable[[], Any]) -> Timed:
    before = clock_now(sdk)
    result = call()
    exchange = wire.last
    after = clock_now(sdk)
    assert exchange.status == 200, f"{request_line(exchange)} -> {exchange.status}: {exchange.body}"
    return Timed(result=result, exchange=exchange, before=before, after=after)


def within(value: str, call: Timed, label: str) -> None:
    instant(value, label)
    assert call.before <= value <= call.after, f"{label} {value} is the clock at the call ({call.before}..{call.after})"


def assert_event(
    call: Timed,
    *,
    customer,
    code: str,
    value: int,
    event_id: str | None = None,
    ts: str | None = None,
    properties: list[tuple[str, str]] = (),
    consumption: dict[str, Any] | None = None,
) -> None:
    """A raw direct UsageEvent, field by field (ts defaults to createdAt, the server's clock), and
    the SDK's UsageEvent built from it."""
    body = call.body
    keys = EVENT_KEYS | ({"consumption"} if consumption is not None else set())
    assert isinstance(body, dict) and set(body) == keys, body
    assert USAGE_EVENT_ID.match(body["id"]), body["id"]
    within(body["createdAt"], call, "createdAt")
    assert body == {
        "id": body["id"],
        "featureCode": code,
        "value": value,
        "customerId": customer.id,
        "eventId": event_id,
        "ts": ts or body["createdAt"],
        "createdAt": body["createdAt"],
        "properties": [{"property": p, "value": v} for p, v in properties],
        **({} if consumption is None else {"consumption": consumption}),
        "object": "usage_event",
        "livemode": False,
    }
    assert isinstance(call.result, UsageEvent)
    assert call.result == UsageEvent(
        id=body["id"],
        feature_code=code,
        value=value,
        customer_id=customer.id,
        event_id=event_id,
        ts=body["ts"],
        created_at=body["createdAt"],
        properties=[UsageEventPropertiesItem(property=p, value=v) for p, v in properties],
        consumption=None if consumption is None else UsageEventConsumption(**to_snake_keys(consumption)),
        object="usage_event",
        livemode=False,
    )


def used(sdk, wire, customer_id: str, code: str) -> int:
    """feature_access.get of a usage feature: its consumption's unitsUsed."""
    got = sdk.feature_access.get(code, customer_id=customer_id)
    assert request_line(wire.last) == f"GET /api/v1/feature-access/{code}?customerId={customer_id}"
    assert got.consumption.units_used == wire.last.body["consumption"]["unitsUsed"]
    return wire.last.body["consumption"]["unitsUsed"]


def check(sdk, wire, **params: Any) -> dict[str, Any]:
    """usage.check through the SDK: the raw UsageCheck; the SDK's dict is its snake-cased copy."""
    result = sdk.usage.check(**params)
    assert request_line(wire.last) == "POST /api/v1/usage/check"
    assert wire.last.status == 200, wire.last.body
    body = wire.last.body
    assert isinstance(result, dict), "P9 returns the UsageCheck union as a dict (see the module doc)"
    assert result == to_snake_keys(body)
    return body


def assert_check(body: dict[str, Any], expected: dict[str, Any]) -> None:
    """A raw direct UsageCheck, field by field; a refused one has a non-empty message."""
    rest = {k: v for k, v in body.items() if k != "message"}
    if "reason" in expected:
        assert isinstance(body.get("message"), str) and body["message"], body
    else:
        assert "message" not in body, body
    assert rest == {"subscriptionStatus": "active", **expected, "object": "usage_check", "livemode": False}


def expect_usage_error(wire, call: Callable[[], Any], *, details: Any = ..., **expected: Any) -> dict[str, Any]:
    """expect_api_error plus ``details`` (on the wire and on the SDK error, which keeps them raw)."""
    caught: list[CommetAPIError] = []

    def run() -> Any:
        try:
            return call()
        except CommetAPIError as error:
            caught.append(error)
            raise

    wire_error = expect_api_error(wire, run, **expected)
    if details is not ...:
        assert wire_error["details"] == details, wire_error
        assert caught[0].details == details, caught[0].details
    return wire_error


def test_track_by_id_and_external_id(sandbox, wire):
    cat = metered_catalog(sandbox)
    code = cat.calls.code
    customer = subscribe(sandbox, wire, cat.plan).customer
    key = f"sdk-py-evt-{uuid.uuid4()}"
    properties = [("model", "gpt-4o"), ("region", "eu-west")]

    first = timed(
        sandbox,
        wire,
        lambda: sandbox.usage.track(
            customer_id=customer.id,
            feature_code=code,
            value=30,
            event_id=key,
            properties=[TrackUsageParamsPropertiesItem(property=p, value=v) for p, v in properties],
        ),
    )
    assert request_line(first.exchange) == "POST /api/v1/usage/events"
    assert first.sent == {
        "featureCode": code,
        "customerId": customer.id,
        "eventId": key,
        "properties": [{"property": p, "value": v} for p, v in properties],
        "value": 30,
    }
    assert AUTO_IDEMPOTENCY_KEY.match(first.exchange.request_headers.get("idempotency-key", ""))
    assert_event(first, customer=customer, code=code, value=30, event_id=key, properties=properties)

    # by externalId, no value (default 1): eventId null, properties []
    second = timed(sandbox, wire, lambda: sandbox.usage.track(customer_id=customer.external_id, feature_code=code))
    assert second.sent == {"featureCode": code, "customerId": customer.external_id}
    assert_event(second, customer=customer, code=code, value=1)
    assert second.body["id"] != first.body["id"]

    # the SDK types value as a float: 5.0 goes out as 5.0 and counts as 5
    third = timed(sandbox, wire, lambda: sandbox.usage.track(customer_id=customer.id, feature_code=code, value=5.0))
    assert third.exchange.request_body["value"] == 5.0 and isinstance(third.exchange.request_body["value"], float)
    assert_event(third, customer=customer, code=code, value=5)

    # an explicit timestamp is the event's ts; the unit still counts in the current period
    earlier = iso(instant(first.body["createdAt"]) - timedelta(hours=1))
    fourth = timed(
        sandbox,
        wire,
        lambda: sandbox.usage.track(customer_id=customer.id, feature_code=code, value=75, timestamp=earlier),
    )
    assert fourth.sent["timestamp"] == earlier
    assert_event(fourth, customer=customer, code=code, value=75, ts=earlier)

    # 30 + 1 + 5 + 75 = 111 this period: 11 past the 100 included, billable, so allowed
    assert used(sandbox, wire, customer.id, code) == 111
    assert used(sandbox, wire, customer.external_id, code) == 111


def test_event_id_dedups_for_the_organization(sandbox, wire):
    cat = metered_catalog(sandbox)
    code = cat.calls.code
    customer = subscribe(sandbox, wire, cat.plan).customer
    other = subscribe(sandbox, wire, cat.plan, "usage-other").customer
    key = f"sdk-py-evt-{uuid.uuid4()}"

    track = sandbox.usage.track
    first = timed(sandbox, wire, lambda: track(customer_id=customer.id, feature_code=code, value=5, event_id=key))
    assert_event(first, customer=customer, code=code, value=5, event_id=key)

    duplicate = {
        "status": 409,
        "code": "duplicate",
        "type": "conflict_error",
        "param": "eventId",
        "details": {"usageEventId": first.body["id"]},
    }
    # the same event again (each call has its own auto Idempotency-Key: not a replay)
    expect_usage_error(
        wire, lambda: track(customer_id=customer.id, feature_code=code, value=5, event_id=key), **duplicate
    )
    # another value, another customer: the key is the organization's, for good
    expect_usage_error(
        wire, lambda: track(customer_id=other.external_id, feature_code=code, value=9, event_id=key), **duplicate
    )
    assert used(sandbox, wire, customer.id, code) == 5, "counted once"
    assert used(sandbox, wire, other.id, code) == 0

    # a fresh key is a fresh event
    fresh = f"{key}-2"
    again = timed(sandbox, wire, lambda: track(customer_id=customer.id, feature_code=code, value=5, event_id=fresh))
    assert_event(again, customer=customer, code=code, value=5, event_id=fresh)
    assert used(sandbox, wire, customer.id, code) == 10


def test_idempotency_key_header_replays_track_and_set(sandbox, wire):
    cat = metered_catalog(sandbox)
    code = cat.calls.code
    customer = subscribe(sandbox, wire, cat.plan).customer
    header = f"sdk-py-usage-{uuid.uuid4()}"

    first = timed(
        sandbox,
        wire,
        lambda: sandbox.usage.track(customer_id=customer.id, feature_code=code, value=7, idempotency_key=header),
    )
    assert first.exchange.request_headers["idempotency-key"] == header, "the caller's key replaces the auto key"
    assert first.exchange.headers.get("idempotent-replayed") != "true"
    assert_event(first, customer=customer, code=code, value=7)

    again = sandbox.usage.track(customer_id=customer.id, feature_code=code, value=7, idempotency_key=header)
    replay = wire.last
    assert replay.status == 200
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.body == first.body, "the first answer, replayed"
    assert again == first.result
    assert used(sandbox, wire, customer.id, code) == 7, "counted once"

    expect_usage_error(
        wire,
        lambda: sandbox.usage.track(customer_id=customer.id, feature_code=code, value=8, idempotency_key=header),
        status=409,
        code="idempotency_key_mismatch",
        type="conflict_error",
    )
    assert used(sandbox, wire, customer.id, code) == 7

    # usage.set has no event key of its own in P9: the header makes its retries safe
    set_key = f"sdk-py-usage-{uuid.uuid4()}"
    setting = timed(
        sandbox,
        wire,
        lambda: sandbox.usage.set(customer_id=customer.id, feature_code=code, value=3, idempotency_key=set_key),
    )
    assert setting.exchange.request_headers["idempotency-key"] == set_key
    set_again = sandbox.usage.set(customer_id=customer.id, feature_code=code, value=3, idempotency_key=set_key)
    assert wire.last.headers.get("idempotent-replayed") == "true"
    assert wire.last.body == setting.body
    assert set_again == setting.result
    assert setting.body["previousValue"] == 7
    assert used(sandbox, wire, customer.id, code) == 3


def test_check_is_a_dry_run(sandbox, wire):
    cat = metered_catalog(sandbox)
    code = cat.calls.code
    customer = subscribe(sandbox, wire, cat.plan).customer
    figures = {
        "featureCode": code,
        "consumptionModel": "metered",
        "unlimited": False,
        "included": INCLUDED_CALLS,
        "overageEnabled": True,
        "overageUnitPrice": CALL_UNIT_PRICE,
    }

    fresh = check(sandbox, wire, customer_id=customer.id, feature_code=code, quantity=40)
    assert wire.last.request_body == {"customerId": customer.id, "featureCode": code, "quantity": 40}
    assert AUTO_IDEMPOTENCY_KEY.match(wire.last.request_headers.get("idempotency-key", ""))
    assert_check(fresh, {"allowed": True, "quantity": 40, "current": 0, "remaining": INCLUDED_CALLS, **figures})
    # without a quantity the SDK sends none: one unit
    one = check(sandbox, wire, customer_id=customer.external_id, feature_code=code)
    assert wire.last.request_body == {"customerId": customer.external_id, "featureCode": code}
    assert_check(one, {"allowed": True, "quantity": 1, "current": 0, "remaining": INCLUDED_CALLS, **figures})

    sandbox.usage.track(customer_id=customer.id, feature_code=code, value=95)
    near = check(sandbox, wire, customer_id=customer.id, feature_code=code, quantity=40)
    # past the included units with billable overage: allowed
    assert_check(near, {"allowed": True, "quantity": 40, "current": 95, "remaining": 5, **figures})
    assert check(sandbox, wire, customer_id=customer.id, feature_code=code, quantity=40) == near, "the same answer"
    assert used(sandbox, wire, customer.id, code) == 95, "checks count nothing"


def test_hard_limit(sandbox, wire):
    cat = hard_limit_catalog(sandbox)
    code = cat.calls.code
    customer = subscribe(sandbox, wire, cat.plan).customer
    cid = customer.id
    figures = {
        "featureCode": code,
        "consumptionModel": "metered",
        "unlimited": False,
        "included": CAPPED_CALLS,
        "overageEnabled": False,
        "overageUnitPrice": None,
    }

    eight = timed(sandbox, wire, lambda: sandbox.usage.track(customer_id=cid, feature_code=code, value=8))
    assert_event(eight, customer=customer, code=code, value=8)
    assert_check(
        check(sandbox, wire, customer_id=cid, feature_code=code, quantity=3),
        {"allowed": False, "quantity": 3, "reason": "included_limit_reached", "current": 8, "remaining": 2, **figures},
    )
    assert_check(
        check(sandbox, wire, customer_id=cid, feature_code=code, quantity=2),
        {"allowed": True, "quantity": 2, "current": 8, "remaining": 2, **figures},
    )

    expect_usage_error(
        wire,
        lambda: sandbox.usage.track(customer_id=cid, feature_code=code, value=3),
        status=400,
        code="included_limit_reached",
        type="billing_error",
        param="value",
        details={"featureCode": code, "current": 8, "included": CAPPED_CALLS, "remaining": 2, "requested": 3},
    )
    two = timed(
        sandbox, wire, lambda: sandbox.usage.track(customer_id=customer.external_id, feature_code=code, value=2)
    )
    assert_event(two, customer=customer, code=code, value=2)
    expect_usage_error(
        wire,
        lambda: sandbox.usage.track(customer_id=cid, feature_code=code),
        status=400,
        code="included_limit_reached",
        type="billing_error",
        param="value",
        details={"featureCode": code, "current": 10, "included": CAPPED_CALLS, "remaining": 0, "requested": 1},
    )
    assert used(sandbox, wire, cid, code) == CAPPED_CALLS, "the limit is never overshot"


def test_trial_sells_no_overage_and_unlimited_has_no_limit(sandbox, wire):
    calls = new_feature(sandbox, "usage", "calls", "call")
    boundless = new_feature(sandbox, "usage", "boundless", "call")
    plan = new_plan(
        sandbox,
        price={"price": PLAN_PRICE, "trial_days": 14},
        features=[
            (calls, {"included_amount": CAPPED_CALLS, "overage": overage(True, CALL_UNIT_PRICE)}),
            (boundless, {"unlimited": True}),
        ],
    )
    subscribed = subscribe(sandbox, wire, plan, "usage-trial", status="trialing")
    customer = subscribed.customer
    cid = customer.id
    # during a trial the usage period is cut at the trial's end (usage.md §2.2)
    period = {"start": subscribed.start, "end": subscribed.sub["trialEndsAt"]}
    assert instant(period["end"]) - instant(period["start"]) == timedelta(days=14)

    # during a trial no overage is sold: the included amount is a hard limit although overage is on
    assert_check(
        check(sandbox, wire, customer_id=cid, feature_code=calls.code, quantity=CAPPED_CALLS + 1),
        {
            "allowed": False,
            "subscriptionStatus": "trialing",
            "featureCode": calls.code,
            "quantity": CAPPED_CALLS + 1,
            "reason": "included_limit_reached",
            "consumptionModel": "metered",
            "current": 0,
            "remaining": CAPPED_CALLS,
            "unlimited": False,
            "included": CAPPED_CALLS,
            "overageEnabled": False,
            "overageUnitPrice": None,
        },
    )
    expect_usage_error(
        wire,
        lambda: sandbox.usage.track(customer_id=cid, feature_code=calls.code, value=CAPPED_CALLS + 1),
        status=400,
        code="included_limit_reached",
        type="billing_error",
        param="value",
        details={
            "featureCode": calls.code,
            "current": 0,
            "included": CAPPED_CALLS,
            "remaining": CAPPED_CALLS,
            "requested": CAPPED_CALLS + 1,
        },
    )
    sandbox.usage.track(customer_id=cid, feature_code=calls.code, value=CAPPED_CALLS)
    sandbox.feature_access.get(calls.code, customer_id=cid)
    assert wire.last.body == access(
        calls,
        allowed=False,
        consumption=counted_usage(
            model="metered", period=period, used=CAPPED_CALLS, included=CAPPED_CALLS, billable=False
        ),
        reason="included_limit_reached",
    )

    # unlimited: any amount; no remainingUnits
    big = timed(
        sandbox, wire, lambda: sandbox.usage.track(customer_id=cid, feature_code=boundless.code, value=1_000_000)
    )
    assert_event(big, customer=customer, code=boundless.code, value=1_000_000)
    got = sandbox.feature_access.get(boundless.code, customer_id=customer.external_id)
    assert wire.last.body == access(
        boundless,
        consumption={
            "model": "metered",
            "period": period,
            "unitsUsed": 1_000_000,
            "includedUnits": 0,
            "unlimited": True,
            "overage": {"enabled": False, "units": 0},
        },
    )
    assert (got.allowed, got.consumption.unlimited, got.consumption.remaining_units) == (True, True, None)


def test_set_replaces_the_period_count(sandbox, wire):
    cat = metered_catalog(sandbox)
    code = cat.calls.code
    customer = subscribe(sandbox, wire, cat.plan).customer
    sandbox.usage.track(customer_id=customer.id, feature_code=code, value=40)

    def assert_adjustment(call: Timed, *, previous: int, value: int, reason: str | None = None) -> None:
        body = call.body
        assert set(body) == ADJUSTMENT_KEYS, body
        assert USAGE_EVENT_ID.match(body["id"]), body["id"]
        within(body["ts"], call, "ts")
        assert body == {
            "id": body["id"],
            "value": value,
            "previousValue": previous,
            "adjustment": value - previous,
            "customerId": customer.id,
            "reason": reason,
            "ts": body["ts"],
            "createdAt": body["ts"],
            "featureCode": code,
            "object": "usage_adjustment",
            "livemode": False,
        }
        assert call.result == UsageAdjustment(
            id=body["id"],
            value=value,
            previous_value=previous,
            adjustment=value - previous,
            customer_id=customer.id,
            reason=reason,
            ts=body["ts"],
            created_at=body["ts"],
            feature_code=code,
            object="usage_adjustment",
            livemode=False,
        )

    down = timed(
        sandbox, wire, lambda: sandbox.usage.set(customer_id=customer.id, feature_code=code, value=25, reason="recount")
    )
    assert request_line(down.exchange) == "PUT /api/v1/usage"
    assert down.sent == {"customerId": customer.id, "featureCode": code, "value": 25, "reason": "recount"}
    assert AUTO_IDEMPOTENCY_KEY.match(down.exchange.request_headers.get("idempotency-key", ""))
    assert_adjustment(down, previous=40, value=25, reason="recount")
    assert used(sandbox, wire, customer.id, code) == 25

    up = timed(sandbox, wire, lambda: sandbox.usage.set(customer_id=customer.external_id, feature_code=code, value=130))
    assert_adjustment(up, previous=25, value=130)
    zero = timed(sandbox, wire, lambda: sandbox.usage.set(customer_id=customer.id, feature_code=code, value=0))
    assert_adjustment(zero, previous=130, value=0)
    assert len({c.body["id"] for c in (down, up, zero)}) == 3, "one event per set"
    assert used(sandbox, wire, customer.id, code) == 0

    # tracks count on from the value set
    sandbox.usage.track(customer_id=customer.id, feature_code=code, value=4)
    assert used(sandbox, wire, customer.id, code) == 4


def test_credits_plan(sandbox, wire):
    cat = credits_catalog(sandbox)
    code = cat.images.code
    subscribed = subscribe(sandbox, wire, cat.plan, "usage-credits")
    customer = subscribed.customer
    assert subscribed.sub["plan"]["id"] == cat.plan.id
    cid = customer.id

    spent = timed(sandbox, wire, lambda: sandbox.usage.track(customer_id=cid, feature_code=code, value=95))
    assert_event(
        spent,
        customer=customer,
        code=code,
        value=95,
        consumption={"model": "credits", "deducted": 950, "remaining": 50, "blocked": False},
    )

    figures = {
        "featureCode": code,
        "consumptionModel": "credits",
        "creditsPerUnit": CREDITS_PER_UNIT,
        "purchasedCredits": 0,
    }
    assert_check(
        check(sandbox, wire, customer_id=cid, feature_code=code, quantity=6),
        {
            "allowed": False,
            "quantity": 6,
            "reason": "insufficient_credits",
            **figures,
            "estimatedCredits": 60,
            "planCredits": 50,
            "totalCredits": 50,
        },
    )
    assert_check(
        check(sandbox, wire, customer_id=cid, feature_code=code, quantity=5),
        {"allowed": True, "quantity": 5, **figures, "estimatedCredits": 50, "planCredits": 50, "totalCredits": 50},
    )
    expect_usage_error(
        wire,
        lambda: sandbox.usage.track(customer_id=cid, feature_code=code, value=6),
        status=400,
        code="insufficient_credits",
        type="billing_error",
        param="value",
        details={"featureCode": code, "requested": 6, "creditsRequired": 60, "creditsAvailable": 50},
    )
    last = timed(
        sandbox, wire, lambda: sandbox.usage.track(customer_id=customer.external_id, feature_code=code, value=5)
    )
    assert_event(
        last,
        customer=customer,
        code=code,
        value=5,
        consumption={"model": "credits", "deducted": 50, "remaining": 0, "blocked": True},
    )

    got = sandbox.feature_access.get(code, customer_id=cid)
    assert wire.last.body == {
        "code": code,
        "name": cat.images.name,
        "unitName": "image",
        "allowed": False,
        "type": "usage",
        "consumption": {
            "model": "credits",
            "period": subscribed.period,
            "unitsUsed": 100,
            "creditsPerUnit": CREDITS_PER_UNIT,
            "creditsConsumed": 1000,
            "availableUnits": 0,
        },
        "reason": "insufficient_credits",
        "object": "feature_access",
        "livemode": False,
    }
    assert (got.allowed, got.consumption.model, got.consumption.credits_consumed) == (False, "credits", 1000)
    sandbox.subscriptions.get(subscribed.sub["id"])
    assert wire.last.body["credits"] == {"remaining": 0, "included": INCLUDED_CREDITS, "purchased": 0}


def test_balance_plan_blocking(sandbox, wire):
    cat = balance_catalog(sandbox)
    code = cat.renders.code
    subscribed = subscribe(sandbox, wire, cat.plan, "usage-balance")
    customer = subscribed.customer
    cid = customer.id

    # 950 x 500 = 475000 of 500000
    spent = timed(sandbox, wire, lambda: sandbox.usage.track(customer_id=cid, feature_code=code, value=950))
    assert_event(
        spent,
        customer=customer,
        code=code,
        value=950,
        consumption={"model": "balance", "deducted": 475000, "remaining": 25000, "blocked": False},
    )
    figures = {
        "featureCode": code,
        "consumptionModel": "balance",
        "unitPrice": BALANCE_UNIT_PRICE,
        "currentBalance": 25000,
        "blockOnExhaustion": True,
        "currency": "usd",
    }
    assert_check(
        check(sandbox, wire, customer_id=cid, feature_code=code, quantity=100),
        {"allowed": False, "quantity": 100, "reason": "insufficient_balance", **figures, "estimatedAmount": 50000},
    )
    assert_check(
        check(sandbox, wire, customer_id=cid, feature_code=code, quantity=50),
        {"allowed": True, "quantity": 50, **figures, "estimatedAmount": 25000},
    )
    expect_usage_error(
        wire,
        lambda: sandbox.usage.track(customer_id=cid, feature_code=code, value=100),
        status=400,
        code="insufficient_balance",
        type="billing_error",
        param="value",
        details={"featureCode": code, "requested": 100, "amountRequired": 50000, "currentBalance": 25000},
    )
    last = timed(sandbox, wire, lambda: sandbox.usage.track(customer_id=cid, feature_code=code, value=50))
    assert_event(
        last,
        customer=customer,
        code=code,
        value=50,
        consumption={"model": "balance", "deducted": 25000, "remaining": 0, "blocked": True},
    )

    sandbox.feature_access.get(code, customer_id=customer.external_id)
    assert wire.last.body == {
        "code": code,
        "name": cat.renders.name,
        "unitName": "render",
        "allowed": False,
        "type": "usage",
        "consumption": {
            "model": "balance",
            "period": subscribed.period,
            "unitsUsed": 1000,
            "spent": {"amount": 5000, "currency": "usd"},
            "availableUnits": 0,
            "unitPrice": {"amount": BALANCE_UNIT_PRICE, "currency": "usd", "scale": 10000},
        },
        "reason": "insufficient_balance",
        "object": "feature_access",
        "livemode": False,
    }
    sandbox.subscriptions.get(subscribed.sub["id"])
    assert wire.last.body["balance"] == {"remaining": 0, "included": INCLUDED_BALANCE, "currency": "usd"}


def test_usage_errors(sandbox, make_client, wire):
    # on the plan: a disabled usage feature (attached before anyone subscribes); one on no plan
    off = new_feature(sandbox, "usage", "off")
    cat = hard_limit_catalog(sandbox, [(off, {"enabled": False, "included_amount": 10})])
    code = cat.calls.code
    off_plan = new_feature(sandbox, "usage", "other")
    customer = subscribe(sandbox, wire, cat.plan).customer
    cid = customer.id
    ghost = unique("ghost")
    idle = new_customer(sandbox, "usage-idle")  # no subscription
    usage = sandbox.usage

    for call in (
        lambda: usage.track(customer_id=ghost, feature_code=code),
        lambda: usage.check(customer_id=ghost, feature_code=code),
        lambda: usage.set(customer_id=ghost, feature_code=code, value=1),
    ):
        expect_usage_error(wire, call, status=404, code="customer_not_found", type=NOT_FOUND, param="customerId")
    for call in (
        lambda: usage.track(customer_id=idle.id, feature_code=code),
        lambda: usage.check(customer_id=idle.external_id, feature_code=code),
        lambda: usage.set(customer_id=idle.id, feature_code=code, value=1),
    ):
        expect_usage_error(wire, call, status=404, code="no_active_subscription", type=NOT_FOUND, param="customerId")

    # unknown, of another type (a quota on the plan), not on the plan, disabled on it
    for bad in (feature_code("nope", "_"), cat.tasks.code):
        for call in (
            lambda: usage.track(customer_id=cid, feature_code=bad),
            lambda: usage.check(customer_id=cid, feature_code=bad),
            lambda: usage.set(customer_id=cid, feature_code=bad, value=1),
        ):
            expect_usage_error(wire, call, status=404, code="feature_not_found", type=NOT_FOUND, param="featureCode")
    for call in (
        lambda: usage.track(customer_id=cid, feature_code=off_plan.code),
        lambda: usage.check(customer_id=cid, feature_code=off_plan.code),
        lambda: usage.set(customer_id=cid, feature_code=off_plan.code, value=1),
    ):
        expect_usage_error(wire, call, status=400, code="feature_not_in_plan", type=BILLING, param="featureCode")
    for call in (
        lambda: usage.track(customer_id=cid, feature_code=off.code),
        lambda: usage.check(customer_id=cid, feature_code=off.code),
    ):
        expect_usage_error(wire, call, status=400, code="feature_disabled", type=BILLING, param="featureCode")

    # the SDK's AI token form (model + token counts, no value): Tally prices no models
    expect_usage_error(
        wire,
        lambda: usage.track(customer_id=cid, feature_code=code, model="gpt-4o", input_tokens=1200, output_tokens=300),
        status=400,
        code="pricing_mode_mismatch",
        type="billing_error",
        param="model",
    )
    assert wire.last.request_body == {
        "featureCode": code,
        "customerId": cid,
        "model": "gpt-4o",
        "inputTokens": 1200,
        "outputTokens": 300,
    }

    # validation: value 0, negative, fractional; quantity 0; a negative set; an empty event key; a bad timestamp
    expect_validation_error(wire, lambda: usage.track(customer_id=cid, feature_code=code, value=0), "value")
    expect_validation_error(wire, lambda: usage.track(customer_id=cid, feature_code=code, value=-3), "value")
    expect_validation_error(wire, lambda: usage.track(customer_id=cid, feature_code=code, value=1.5), "value")
    expect_validation_error(wire, lambda: usage.track(customer_id=cid, feature_code=code, event_id=""), "eventId")
    expect_validation_error(
        wire, lambda: usage.track(customer_id=cid, feature_code=code, timestamp="yesterday"), "timestamp"
    )
    expect_validation_error(wire, lambda: usage.check(customer_id=cid, feature_code=code, quantity=0), "quantity")
    expect_validation_error(wire, lambda: usage.set(customer_id=cid, feature_code=code, value=-1), "value")
    expect_validation_error(wire, lambda: usage.track(customer_id="", feature_code=code), "customerId")

    # wrong API key
    intruder = make_client("ck_sandbox_" + base62(32))
    expect_usage_error(
        wire,
        lambda: intruder.usage.track(customer_id=cid, feature_code=code),
        status=401,
        code="unauthorized",
        type="authentication_error",
        param=None,
        details=None,
    )
    expect_usage_error(
        wire,
        lambda: intruder.usage.check(customer_id=cid, feature_code=code),
        status=401,
        code="unauthorized",
        type="authentication_error",
    )

    assert used(sandbox, wire, cid, code) == 0, "none of that counted anything"
