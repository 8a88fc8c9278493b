"""Seats through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects; seats.md).

Nothing here moves the test clock. Timestamps are checked against the sandbox clock read just
before and just after each call (equal when the clock is frozen, a short window in real time).

Wire mapping (commet/resources/seats.py; base_url <TALLY_URL>/api/v1):
  seats.add(customer_id=, feature_code=, count=, idempotency_key=)     POST /seats          -> SeatEvent
  seats.set(customer_id=, feature_code=, count=, idempotency_key=)     PUT  /seats          -> SeatEvent
  seats.remove(customer_id=, feature_code=, count=, idempotency_key=)  POST /seats/remove   -> SeatEvent
  seats.set_all(customer_id=, seats={code: n}, idempotency_key=)       PUT  /seats/bulk     -> SeatsSetAllResult
  seats.get_balance(customer_id=, feature_code=)      GET /seats/balance?customerId=&featureCode=  -> SeatBalance
  seats.get_all_balances(customer_id=)                GET /seats/balances?customerId=  -> SeatBalanceCollection
Bodies are {customerId, featureCode, count} / {customerId, seats}; every dict key is camel-cased
recursively, so a ``seats`` key ``team_member_ab12`` goes out as ``teamMemberAb12`` while a
``feature_code`` value is sent verbatim (wire.md §2.3). POST/PUT get an auto
``Idempotency-Key: commet-python-retry-<uuid4>`` unless ``idempotency_key=`` is given. Responses are
snake-cased recursively (the ``balances`` map keys too; feature codes are lowercase, so they
survive), unknown keys dropped and missing ones defaulted, so every test also checks the raw JSON.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from commet import CommetAPIError
from commet.types import (
    AddPlanFeatureParamsOverage,
    Feature,
    Plan,
    SeatBalance,
    SeatBalanceCollection,
    SeatBalanceCollectionBalancesValue,
    SeatEvent,
    SeatsSetAllResult,
)

from catalog import INCLUDED_SEATS, SEAT_UNIT_PRICE, new_customer, seat_plan
from support import (
    assert_direct_list,
    base62,
    expect_api_error,
    expect_validation_error,
    feature_code,
    instant,
    request_line,
    unique,
)

SEAT_EVENT_ID = re.compile(r"^sev_[0-9A-HJKMNP-TV-Z]{26}$")
SEAT_EVENT_KEYS = {
    "id",
    "customerId",
    "featureCode",
    "previousBalance",
    "newBalance",
    "ts",
    "createdAt",
    "object",
    "livemode",
}
AUTO_IDEMPOTENCY_KEY = re.compile(
    r"^commet-python-retry-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


def clock_now(sdk) -> str:
    """The sandbox clock's "now" (real time until the clock is first advanced)."""
    return sdk.test_clock.get().now


@dataclass
class Timed:
    result: Any  # what the SDK returned
    exchange: Any  # the recorded exchange of the call
    before: str  # clock read just before the call
    after: str  # clock read just after it

    @property
    def body(self) -> Any:
        return self.exchange.body


def timed(sdk, wire, call: Callable[[], Any]) -> Timed:
    before = clock_now(sdk)
    result = call()
    exchange = wire.last
    after = clock_now(sdk)
    assert exchange.status == 200, f"{request_line(exchange)} -> {exchange.status}: {exchange.body}"
    return Timed(result=result, exchange=exchange, before=before, after=after)


def add_seats_feature(sdk, plan: Plan, *, code: str | None = None, enabled: bool | None = None) -> Feature:
    """A seats feature attached to ``plan`` like the fixture's: 5 included, overage at $25."""
    feature = sdk.features.create(
        name=unique("Viewer seats"), code=code or feature_code("seat"), type="seats", unit_name="seat"
    )
    sdk.plans.add_feature(
        plan.id,
        feature_id=feature.id,
        enabled=enabled,
        included_amount=INCLUDED_SEATS,
        overage=AddPlanFeatureParamsOverage(enabled=True, unit_price=SEAT_UNIT_PRICE),
    )
    return feature


def seat_catalog(sdk, extra: int = 0) -> tuple[list[Feature], Plan]:
    """catalog.seat_plan (a seats feature on a plan with a monthly and a yearly price, 5 included,
    overage at $25) plus ``extra`` more seats features attached the same way. Codes have no
    underscore, so P9's key camel-casing leaves them alone."""
    sp = seat_plan(sdk)
    features = [sp.feature] + [add_seats_feature(sdk, sp.plan) for _ in range(extra)]
    return features, sp.plan


def subscribe(sdk, wire, plan: Plan, initial_seats: dict[str, int]) -> tuple[Any, dict[str, Any]]:
    """A new customer (with an externalId) and an active monthly subscription to ``plan`` with
    ``initial_seats``. Returns the customer and the raw CreatedSubscription."""
    customer = new_customer(sdk, "seat-cust")
    before = clock_now(sdk)
    sdk.subscriptions.create(
        customer_id=customer.id, plan_code=plan.code, billing_interval="monthly", initial_seats=initial_seats
    )
    created = wire.last
    after = clock_now(sdk)
    assert request_line(created) == "POST /api/v1/subscriptions" and created.status == 200, created.body
    sub = created.body
    assert sub["status"] == "active"
    instant(sub["startDate"], "startDate")
    assert before <= sub["startDate"] <= after, (before, sub["startDate"], after)
    return customer, sub


def seat_subscription(sdk, wire):
    """seat_catalog + subscribe with 6 seats of the feature."""
    [feature], plan = seat_catalog(sdk)
    customer, sub = subscribe(sdk, wire, plan, {feature.code: 6})
    return feature, plan, customer, sub


def assert_seat_event(
    body: Any, *, customer, code: str, previous: int, new: int, before: str, after: str, sdk_event: Any = None
) -> None:
    """A raw direct SeatEvent, field by field (ts == createdAt == the clock at the change), and the
    SDK's SeatEvent built from it."""
    assert isinstance(body, dict) and set(body) == SEAT_EVENT_KEYS, body
    assert SEAT_EVENT_ID.match(body["id"]), body["id"]
    instant(body["ts"], "ts")
    assert body["createdAt"] == body["ts"], "createdAt is the same clock instant as ts"
    assert before <= body["ts"] <= after, f"ts {body['ts']} is the clock at the change ({before} .. {after})"
    assert body == {
        "id": body["id"],
        "customerId": customer.id,
        "featureCode": code,
        "previousBalance": previous,
        "newBalance": new,
        "ts": body["ts"],
        "createdAt": body["ts"],
        "object": "seat_event",
        "livemode": False,
    }
    if sdk_event is not None:
        assert isinstance(sdk_event, SeatEvent)
        assert sdk_event == SeatEvent(
            id=body["id"],
            customer_id=customer.id,
            feature_code=code,
            previous_balance=previous,
            new_balance=new,
            ts=body["ts"],
            created_at=body["ts"],
            object="seat_event",
            livemode=False,
        )


def assert_balance(sdk, wire, customer_id: str, code: str, current: int, as_of: str) -> None:
    """get_balance: raw exactly {current, asOf, object:"seat_balance", livemode}; the SDK's too."""
    balance = sdk.seats.get_balance(customer_id=customer_id, feature_code=code)
    exchange = wire.last
    assert request_line(exchange) == f"GET /api/v1/seats/balance?customerId={customer_id}&featureCode={code}"
    assert exchange.status == 200, exchange.body
    instant(exchange.body["asOf"], "asOf")
    assert exchange.body == {"current": current, "asOf": as_of, "object": "seat_balance", "livemode": False}
    assert balance == SeatBalance(current=current, as_of=as_of, object="seat_balance", livemode=False)


def all_balances(sdk, wire, customer_id: str) -> dict[str, dict[str, Any]]:
    """get_all_balances: checks the raw SeatBalanceCollection frame and the SDK object; returns
    the raw ``balances`` map (values must be exactly {current, asOf})."""
    collection = sdk.seats.get_all_balances(customer_id=customer_id)
    exchange = wire.last
    assert request_line(exchange) == f"GET /api/v1/seats/balances?customerId={customer_id}"
    assert exchange.status == 200, exchange.body
    body = exchange.body
    assert set(body) == {"balances", "object", "livemode"}, body
    assert body["object"] == "seat_balance_collection"
    assert body["livemode"] is False
    for code, value in body["balances"].items():
        assert set(value) == {"current", "asOf"}, (code, value)
        instant(value["asOf"], f"balances.{code}.asOf")
    assert isinstance(collection, SeatBalanceCollection)
    assert collection == SeatBalanceCollection(
        balances={
            code: SeatBalanceCollectionBalancesValue(current=value["current"], as_of=value["asOf"])
            for code, value in body["balances"].items()
        },
        object="seat_balance_collection",
        livemode=False,
    )
    return body["balances"]


def expect_seat_error(wire, call: Callable[[], Any], *, details: Any = ..., **expected: Any) -> dict[str, Any]:
    """expect_api_error plus ``details`` (on the wire and on the SDK error, which keeps them raw)."""
    caught: list[CommetAPIError] = []

    def run() -> Any:
        try:
            return call()
        except CommetAPIError as error:
            caught.append(error)
            raise

    wire_error = expect_api_error(wire, run, **expected)
    assert isinstance(wire_error["message"], str) and wire_error["message"]
    if details is not ...:
        assert wire_error["details"] == details, wire_error
        assert caught[0].details == details, caught[0].details
    return wire_error


def test_add_one_and_three(sandbox, wire):
    feature, _, customer, sub = seat_subscription(sandbox, wire)
    code = feature.code

    # by externalId: the event names the cus_ id
    one = timed(sandbox, wire, lambda: sandbox.seats.add(customer_id=customer.external_id, feature_code=code, count=1))
    assert request_line(one.exchange) == "POST /api/v1/seats"
    assert one.exchange.request_body == {"customerId": customer.external_id, "featureCode": code, "count": 1}
    assert AUTO_IDEMPOTENCY_KEY.match(one.exchange.request_headers.get("idempotency-key", ""))
    assert_seat_event(
        one.body, customer=customer, code=code, previous=6, new=7, before=one.before, after=one.after, sdk_event=one.result
    )

    # by cus_ id
    three = timed(sandbox, wire, lambda: sandbox.seats.add(customer_id=customer.id, feature_code=code, count=3))
    assert three.exchange.request_body == {"customerId": customer.id, "featureCode": code, "count": 3}
    assert_seat_event(
        three.body, customer=customer, code=code, previous=7, new=10, before=three.before, after=three.after,
        sdk_event=three.result,
    )
    assert three.body["id"] != one.body["id"]
    assert one.body["ts"] <= three.body["ts"], "events in call order"

    # the balance by either identifier; asOf = the latest event's ts
    assert_balance(sandbox, wire, customer.external_id, code, 10, three.body["ts"])
    assert_balance(sandbox, wire, customer.id, code, 10, three.body["ts"])
    assert all_balances(sandbox, wire, customer.id) == {code: {"current": 10, "asOf": three.body["ts"]}}

    # the subscription's seats feature follows the balance (10 held, 5 included, 5 overage)
    got = sandbox.subscriptions.get(sub["id"])
    [seats] = got.features
    assert seats.code == code
    assert seats.usage.current == 10
    assert seats.usage.overage_quantity == 10 - INCLUDED_SEATS


def test_set_up_down_same_and_remove(sandbox, wire):
    feature, _, customer, sub = seat_subscription(sandbox, wire)
    code = feature.code
    assert_balance(sandbox, wire, customer.id, code, 6, sub["startDate"])

    up = timed(sandbox, wire, lambda: sandbox.seats.set(customer_id=customer.id, feature_code=code, count=8))
    assert request_line(up.exchange) == "PUT /api/v1/seats"
    assert up.exchange.request_body == {"customerId": customer.id, "featureCode": code, "count": 8}
    assert AUTO_IDEMPOTENCY_KEY.match(up.exchange.request_headers.get("idempotency-key", ""))
    assert_seat_event(up.body, customer=customer, code=code, previous=6, new=8, before=up.before, after=up.after,
                      sdk_event=up.result)

    down = timed(sandbox, wire, lambda: sandbox.seats.set(customer_id=customer.external_id, feature_code=code, count=3))
    assert_seat_event(down.body, customer=customer, code=code, previous=8, new=3, before=down.before, after=down.after,
                      sdk_event=down.result)
    assert_balance(sandbox, wire, customer.id, code, 3, down.body["ts"])

    # setting the current value still records an event, with equal balances
    same = timed(sandbox, wire, lambda: sandbox.seats.set(customer_id=customer.id, feature_code=code, count=3))
    assert_seat_event(same.body, customer=customer, code=code, previous=3, new=3, before=same.before, after=same.after,
                      sdk_event=same.result)
    assert same.body["id"] != down.body["id"]
    assert_balance(sandbox, wire, customer.id, code, 3, same.body["ts"])

    # remove: POST /seats/remove (2026-07-24+ spelling) with an auto Idempotency-Key
    removed = timed(
        sandbox, wire, lambda: sandbox.seats.remove(customer_id=customer.external_id, feature_code=code, count=2)
    )
    assert request_line(removed.exchange) == "POST /api/v1/seats/remove"
    assert removed.exchange.request_body == {"customerId": customer.external_id, "featureCode": code, "count": 2}
    assert AUTO_IDEMPOTENCY_KEY.match(removed.exchange.request_headers.get("idempotency-key", ""))
    assert_seat_event(removed.body, customer=customer, code=code, previous=3, new=1, before=removed.before,
                      after=removed.after, sdk_event=removed.result)
    # lower at once (seats.md §3.3: only billing waits for the period end)
    assert_balance(sandbox, wire, customer.id, code, 1, removed.body["ts"])

    last = timed(sandbox, wire, lambda: sandbox.seats.remove(customer_id=customer.id, feature_code=code, count=1))
    assert_seat_event(last.body, customer=customer, code=code, previous=1, new=0, before=last.before, after=last.after)
    assert_balance(sandbox, wire, customer.external_id, code, 0, last.body["ts"])
    ids = [call.body["id"] for call in (up, down, same, removed, last)]
    assert len(set(ids)) == len(ids), "one new event per call"


def test_set_all_two_features_one_unchanged(sandbox, wire):
    [a, b], plan = seat_catalog(sandbox, 1)
    customer, sub = subscribe(sandbox, wire, plan, {a.code: 6, b.code: 2})

    # a: 6 -> 9, b: 2 -> 2; named in descending code order, answered in ascending code order
    expected = {a.code: (6, 9), b.code: (2, 2)}
    low, high = sorted(expected)
    seats = {high: expected[high][1], low: expected[low][1]}

    bulk = timed(sandbox, wire, lambda: sandbox.seats.set_all(customer_id=customer.external_id, seats=seats))
    assert request_line(bulk.exchange) == "PUT /api/v1/seats/bulk"
    assert bulk.exchange.request_body == {"customerId": customer.external_id, "seats": seats}
    assert list(bulk.exchange.request_body["seats"]) == [high, low], "sent as given"
    assert AUTO_IDEMPOTENCY_KEY.match(bulk.exchange.request_headers.get("idempotency-key", ""))
    items = assert_direct_list(bulk.body)
    assert bulk.body["hasMore"] is False
    assert [item["featureCode"] for item in items] == [low, high], "one item per named feature, ascending code"
    for item in items:
        previous, new = expected[item["featureCode"]]
        assert_seat_event(item, customer=customer, code=item["featureCode"], previous=previous, new=new,
                          before=bulk.before, after=bulk.after)
    assert items[0]["id"] != items[1]["id"]
    assert isinstance(bulk.result, SeatsSetAllResult)
    assert bulk.result == SeatsSetAllResult(
        object="list",
        data=[
            SeatEvent(
                id=item["id"],
                customer_id=customer.id,
                feature_code=item["featureCode"],
                previous_balance=item["previousBalance"],
                new_balance=item["newBalance"],
                ts=item["ts"],
                created_at=item["createdAt"],
                object="seat_event",
                livemode=False,
            )
            for item in items
        ],
        has_more=False,
    )
    event = {item["featureCode"]: item for item in items}

    # asOf = each feature's latest event, the unchanged feature's too
    assert all_balances(sandbox, wire, customer.id) == {
        a.code: {"current": 9, "asOf": event[a.code]["ts"]},
        b.code: {"current": 2, "asOf": event[b.code]["ts"]},
    }
    assert_balance(sandbox, wire, customer.id, a.code, 9, event[a.code]["ts"])
    assert_balance(sandbox, wire, customer.external_id, b.code, 2, event[b.code]["ts"])
    assert sub["startDate"] <= event[a.code]["ts"]

    # a feature that is not named is left alone (not zeroed)
    only_b = timed(sandbox, wire, lambda: sandbox.seats.set_all(customer_id=customer.id, seats={b.code: 4}))
    [item] = assert_direct_list(only_b.body)
    assert_seat_event(item, customer=customer, code=b.code, previous=2, new=4, before=only_b.before, after=only_b.after)
    assert_balance(sandbox, wire, customer.id, a.code, 9, event[a.code]["ts"])
    assert_balance(sandbox, wire, customer.id, b.code, 4, item["ts"])


def test_get_all_balances_every_enabled_seats_feature(sandbox, wire):
    [feature, never], plan = seat_catalog(sandbox, 1)
    # on the plan but not balances: a disabled seats feature and a boolean feature
    disabled = add_seats_feature(sandbox, plan, enabled=False)
    sso = sandbox.features.create(name=unique("Single sign-on"), code=feature_code("sso"), type="boolean")
    sandbox.plans.add_feature(plan.id, feature_id=sso.id)
    customer, sub = subscribe(sandbox, wire, plan, {feature.code: 6})
    start = sub["startDate"]

    balances = all_balances(sandbox, wire, customer.external_id)
    assert balances == {
        feature.code: {"current": 6, "asOf": start},
        never.code: {"current": 0, "asOf": start},
    }, "enabled seats features only, the never-set one at 0"
    assert disabled.code not in balances and sso.code not in balances
    assert_balance(sandbox, wire, customer.id, never.code, 0, start)
    assert_balance(sandbox, wire, customer.external_id, feature.code, 6, start)

    # the never-set feature gets its first event
    added = timed(sandbox, wire, lambda: sandbox.seats.add(customer_id=customer.id, feature_code=never.code, count=3))
    assert_seat_event(added.body, customer=customer, code=never.code, previous=0, new=3, before=added.before,
                      after=added.after, sdk_event=added.result)
    assert all_balances(sandbox, wire, customer.id) == {
        feature.code: {"current": 6, "asOf": start},
        never.code: {"current": 3, "asOf": added.body["ts"]},
    }


def test_set_all_key_with_underscore_is_camel_cased_by_the_sdk(sandbox, wire):
    """P9 sends ``{"seats": {"teamMemberAb12…": 7}}`` for the code ``team_member_ab12…``; Tally
    matches the key to the feature whose code camel-cases to it and answers with the real code
    (wire.md §2.3, seats.md §2 step 5)."""
    [plain], plan = seat_catalog(sandbox)
    team_code = feature_code("team_member", "_")
    team = add_seats_feature(sandbox, plan, code=team_code)
    assert team.code == team_code
    first, *rest = team_code.split("_")
    camel = first + "".join(part.capitalize() for part in rest)
    assert camel != team_code and "_" not in camel
    assert plain.code < team_code, "plain codes start with 'seat', so the result order is [plain, team]"
    customer, sub = subscribe(sandbox, wire, plan, {plain.code: 6})
    assert all_balances(sandbox, wire, customer.id) == {
        plain.code: {"current": 6, "asOf": sub["startDate"]},
        team_code: {"current": 0, "asOf": sub["startDate"]},
    }

    bulk = timed(
        sandbox, wire, lambda: sandbox.seats.set_all(customer_id=customer.id, seats={team_code: 7, plain.code: 6})
    )
    assert bulk.exchange.request_body == {"customerId": customer.id, "seats": {camel: 7, plain.code: 6}}, (
        "what the SDK really sent"
    )
    items = assert_direct_list(bulk.body)
    assert [item["featureCode"] for item in items] == [plain.code, team_code], "canonical codes, ascending"
    assert_seat_event(items[0], customer=customer, code=plain.code, previous=6, new=6, before=bulk.before,
                      after=bulk.after)
    assert_seat_event(items[1], customer=customer, code=team_code, previous=0, new=7, before=bulk.before,
                      after=bulk.after)
    assert [event.feature_code for event in bulk.result.data] == [plain.code, team_code]

    # feature_code values are sent verbatim
    assert_balance(sandbox, wire, customer.id, team_code, 7, items[1]["ts"])
    added = timed(sandbox, wire, lambda: sandbox.seats.add(customer_id=customer.id, feature_code=team_code, count=1))
    assert added.exchange.request_body == {"customerId": customer.id, "featureCode": team_code, "count": 1}
    assert_seat_event(added.body, customer=customer, code=team_code, previous=7, new=8, before=added.before,
                      after=added.after, sdk_event=added.result)

    # the SDK snake-cases response map keys: the underscore code survives unchanged
    collection = sandbox.seats.get_all_balances(customer_id=customer.external_id)
    assert set(collection.balances) == {plain.code, team_code}
    assert collection.balances[team_code].current == 8
    assert collection.balances[team_code].as_of == added.body["ts"]
    assert wire.last.body["balances"][team_code] == {"current": 8, "asOf": added.body["ts"]}


def test_seat_errors(sandbox, make_client, wire):
    [feature], plan = seat_catalog(sandbox)
    # on the plan: a boolean feature and a disabled seats feature; a seats feature on no plan
    sso = sandbox.features.create(name=unique("Single sign-on"), code=feature_code("sso"), type="boolean")
    sandbox.plans.add_feature(plan.id, feature_id=sso.id)
    disabled = add_seats_feature(sandbox, plan, enabled=False)
    off_plan = sandbox.features.create(
        name=unique("Guest seats"), code=feature_code("seat"), type="seats", unit_name="seat"
    )
    customer, sub = subscribe(sandbox, wire, plan, {feature.code: 6})
    ghost = feature_code("ghost")
    cid = customer.id
    seats = sandbox.seats

    # remove more than held (examples.md scenario 4)
    expect_seat_error(
        wire,
        lambda: seats.remove(customer_id=customer.external_id, feature_code=feature.code, count=50),
        status=400,
        code="insufficient_seats",
        type="billing_error",
        param="count",
        details={"featureCode": feature.code, "current": 6, "requested": 50},
    )
    assert request_line(wire.last) == "POST /api/v1/seats/remove"
    expect_seat_error(
        wire,
        lambda: seats.remove(customer_id=cid, feature_code=feature.code, count=7),
        status=400,
        code="insufficient_seats",
        type="billing_error",
        param="count",
        details={"featureCode": feature.code, "current": 6, "requested": 7},
    )

    # a seats feature the plan does not have, or has disabled
    for code in (off_plan.code, disabled.code):
        expect_seat_error(
            wire,
            lambda: seats.add(customer_id=cid, feature_code=code, count=1),
            status=400,
            code="feature_not_in_plan",
            type="billing_error",
            param="featureCode",
        )
    expect_seat_error(
        wire,
        lambda: seats.get_balance(customer_id=cid, feature_code=off_plan.code),
        status=400,
        code="feature_not_in_plan",
        type="billing_error",
        param="featureCode",
    )

    # not a seats feature (although on the plan), or no such feature
    for code in (sso.code, ghost):
        expect_seat_error(
            wire,
            lambda: seats.add(customer_id=cid, feature_code=code, count=1),
            status=404,
            code="feature_not_found",
            type="not_found_error",
            param="featureCode",
        )
    expect_seat_error(
        wire,
        lambda: seats.set(customer_id=cid, feature_code=ghost, count=2),
        status=404,
        code="feature_not_found",
        type="not_found_error",
        param="featureCode",
    )
    expect_seat_error(
        wire,
        lambda: seats.get_balance(customer_id=cid, feature_code=sso.code),
        status=404,
        code="feature_not_found",
        type="not_found_error",
        param="featureCode",
    )

    # unknown customer
    stranger = unique("ghost")
    expect_seat_error(
        wire,
        lambda: seats.add(customer_id=stranger, feature_code=feature.code, count=1),
        status=404,
        code="customer_not_found",
        type="not_found_error",
        param="customerId",
    )
    expect_seat_error(
        wire,
        lambda: seats.get_all_balances(customer_id=stranger),
        status=404,
        code="customer_not_found",
        type="not_found_error",
        param="customerId",
    )

    # a customer without a live subscription
    idle = new_customer(sandbox, "seat-idle")
    expect_seat_error(
        wire,
        lambda: seats.add(customer_id=idle.id, feature_code=feature.code, count=1),
        status=404,
        code="no_active_subscription",
        type="not_found_error",
        param="customerId",
    )
    expect_seat_error(
        wire,
        lambda: seats.get_all_balances(customer_id=idle.external_id),
        status=404,
        code="no_active_subscription",
        type="not_found_error",
        param="customerId",
    )

    # validation: count 0 on add (examples.md scenario 4), a negative set, 0 on remove
    zero = expect_validation_error(wire, lambda: seats.add(customer_id=cid, feature_code=feature.code, count=0), "count")
    assert zero["details"][0]["field"] == "count"
    expect_validation_error(wire, lambda: seats.set(customer_id=cid, feature_code=feature.code, count=-1), "count")
    expect_validation_error(wire, lambda: seats.remove(customer_id=cid, feature_code=feature.code, count=0), "count")

    # wrong API key
    intruder = make_client("ck_sandbox_" + base62(32))
    expect_seat_error(
        wire,
        lambda: intruder.seats.add(customer_id=cid, feature_code=feature.code, count=1),
        status=401,
        code="unauthorized",
        type="authentication_error",
        param=None,
        details=None,
    )
    expect_seat_error(
        wire,
        lambda: intruder.seats.get_balance(customer_id=cid, feature_code=feature.code),
        status=401,
        code="unauthorized",
        type="authentication_error",
    )

    # none of that changed anything
    assert all_balances(sandbox, wire, cid) == {feature.code: {"current": 6, "asOf": sub["startDate"]}}


def test_set_all_with_one_bad_key_applies_nothing(sandbox, wire):
    [a, b], plan = seat_catalog(sandbox, 1)
    off_plan = sandbox.features.create(
        name=unique("Guest seats"), code=feature_code("zzseat"), type="seats", unit_name="seat"
    )
    customer, sub = subscribe(sandbox, wire, plan, {a.code: 6})
    initial = {
        a.code: {"current": 6, "asOf": sub["startDate"]},
        b.code: {"current": 0, "asOf": sub["startDate"]},
    }
    assert all_balances(sandbox, wire, customer.id) == initial

    # an unknown code that sorts after the good ones (a non-atomic server would apply those first)
    ghost = feature_code("zzghost")
    assert ghost > a.code and ghost > b.code
    expect_seat_error(
        wire,
        lambda: sandbox.seats.set_all(customer_id=customer.id, seats={a.code: 9, b.code: 3, ghost: 1}),
        status=404,
        code="feature_not_found",
        type="not_found_error",
        param=f"seats.{ghost}",
    )
    assert request_line(wire.last) == "PUT /api/v1/seats/bulk"

    # a seats feature that is not on the plan
    assert off_plan.code > a.code and off_plan.code > b.code
    expect_seat_error(
        wire,
        lambda: sandbox.seats.set_all(customer_id=customer.external_id, seats={a.code: 9, off_plan.code: 1}),
        status=400,
        code="feature_not_in_plan",
        type="billing_error",
    )

    # a negative count for one of them
    expect_validation_error(wire, lambda: sandbox.seats.set_all(customer_id=customer.id, seats={a.code: 9, b.code: -1}))

    assert all_balances(sandbox, wire, customer.id) == initial, "no count changed, no event recorded"


def test_idempotency_key_replays_an_add_once(sandbox, wire):
    feature, _, customer, _ = seat_subscription(sandbox, wire)
    code = feature.code
    key = f"sdk-py-seats-{uuid.uuid4()}"

    first = timed(
        sandbox, wire, lambda: sandbox.seats.add(customer_id=customer.id, feature_code=code, count=2, idempotency_key=key)
    )
    assert first.exchange.request_headers["idempotency-key"] == key, "the caller's key replaces the auto key"
    assert first.exchange.headers.get("idempotent-replayed") != "true"
    assert_seat_event(first.body, customer=customer, code=code, previous=6, new=8, before=first.before,
                      after=first.after, sdk_event=first.result)

    again = sandbox.seats.add(customer_id=customer.id, feature_code=code, count=2, idempotency_key=key)
    replay = wire.last
    assert replay.request_headers["idempotency-key"] == key
    assert replay.status == 200
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.body == first.body, "the first response, replayed"
    assert again == first.result
    assert_balance(sandbox, wire, customer.id, code, 8, first.body["ts"])

    # same key, another count
    expect_seat_error(
        wire,
        lambda: sandbox.seats.add(customer_id=customer.id, feature_code=code, count=3, idempotency_key=key),
        status=409,
        code="idempotency_key_mismatch",
        type="conflict_error",
    )
    assert_balance(sandbox, wire, customer.id, code, 8, first.body["ts"])

    # remove (POST /seats/remove) with a caller's key: a retry is applied once too
    remove_key = f"sdk-py-seats-{uuid.uuid4()}"
    removed = timed(
        sandbox,
        wire,
        lambda: sandbox.seats.remove(customer_id=customer.id, feature_code=code, count=1, idempotency_key=remove_key),
    )
    assert removed.exchange.request_headers["idempotency-key"] == remove_key
    assert_seat_event(removed.body, customer=customer, code=code, previous=8, new=7, before=removed.before,
                      after=removed.after)
    removed_again = sandbox.seats.remove(customer_id=customer.id, feature_code=code, count=1, idempotency_key=remove_key)
    assert wire.last.headers.get("idempotent-replayed") == "true"
    assert wire.last.body == removed.body
    assert removed_again == removed.result
    assert_balance(sandbox, wire, customer.id, code, 7, removed.body["ts"])
