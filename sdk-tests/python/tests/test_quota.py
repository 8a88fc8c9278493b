"""Quota features through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects;
usage.md §3.5).

Nothing here moves the test clock: timestamps are checked against the sandbox clock read just
before and just after each call.

Wire mapping (commet/resources/quota.py; base_url <TALLY_URL>/api/v1):
  quota.add(feature_code=, count=, customer_id= | external_id=, idempotency_key=)
                                      POST /usage/quota         -> UsageQuotaEvent
  quota.set(feature_code=, count=, customer_id= | external_id=, idempotency_key=)
                                      PUT  /usage/quota         -> UsageQuotaEvent
  quota.remove(feature_code=, count=, customer_id= | external_id=, idempotency_key=)
                                      POST /usage/quota/remove  -> UsageQuotaEvent
  quota.get(customer_id=, feature_code=)  GET /usage/quota?customerId=&featureCode=  -> UsageQuota
  quota.get_all(customer_id=)             GET /usage/quota/all?customerId=  -> QuotaGetAllResult
Bodies are {featureCode, count?, customerId? / externalId?} (None is left out; count defaults to 1
on add and remove). Events are {id qev_…, customerId, featureCode, previousBalance, newBalance, ts,
createdAt, object: "usage_quota_event", livemode}. A quota balance lasts across periods;
billedQuantity is the period's peak (included units counted), what the period is billed for.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

from commet import CommetAPIError
from commet.types import QuotaGetAllResult, UsageQuota, UsageQuotaEvent

from catalog import new_customer
from metering import (  # cancel_subscriptions: an autouse fixture
    AUTO_IDEMPOTENCY_KEY,
    CAPPED_TASKS,
    INCLUDED_TASKS,
    QUOTA_EVENT_ID,
    cancel_subscriptions,
    clock_now,
    hard_limit_catalog,
    metered_catalog,
    new_feature,
    subscribe,
)
from support import base62, expect_api_error, expect_validation_error, feature_code, instant, request_line, unique

EVENT_KEYS = {
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
NOT_FOUND, BILLING = "not_found_error", "billing_error"
QUOTA_KEYS = {
    "featureCode",
    "current",
    "included",
    "remaining",
    "billedQuantity",
    "unlimited",
    "overageEnabled",
    "asOf",
    "object",
    "livemode",
}


class Change:
    """One quota write between two clock reads."""

    def __init__(self, sdk, wire, method: str, **params: Any) -> None:
        self.before = clock_now(sdk)
        self.result = getattr(sdk.quota, method)(**params)
        self.exchange = wire.last
        self.after = clock_now(sdk)
        assert self.exchange.status == 200, f"{request_line(self.exchange)}: {self.exchange.body}"

    @property
    def body(self) -> dict[str, Any]:
        return self.exchange.body

    @property
    def sent(self) -> Any:
        return self.exchange.request_body


def assert_event(change: Change, *, customer, code: str, previous: int, new: int) -> None:
    """A raw direct UsageQuotaEvent, field by field (ts == createdAt == the clock at the change),
    and the SDK's UsageQuotaEvent built from it."""
    body = change.body
    assert set(body) == EVENT_KEYS, body
    assert QUOTA_EVENT_ID.match(body["id"]), body["id"]
    instant(body["ts"], "ts")
    assert change.before <= body["ts"] <= change.after, (change.before, body["ts"], change.after)
    assert body == {
        "id": body["id"],
        "customerId": customer.id,
        "featureCode": code,
        "previousBalance": previous,
        "newBalance": new,
        "ts": body["ts"],
        "createdAt": body["ts"],
        "object": "usage_quota_event",
        "livemode": False,
    }
    assert change.result == UsageQuotaEvent(
        id=body["id"],
        customer_id=customer.id,
        feature_code=code,
        previous_balance=previous,
        new_balance=new,
        ts=body["ts"],
        created_at=body["ts"],
        object="usage_quota_event",
        livemode=False,
    )


def quota(
    code: str,
    *,
    current: int,
    billed: int,
    as_of: str | None,
    included: int = INCLUDED_TASKS,
    overage_enabled: bool = True,
    unlimited: bool = False,
) -> dict[str, Any]:
    """A raw UsageQuota."""
    return {
        "featureCode": code,
        "current": current,
        "included": included,
        "remaining": None if unlimited else max(0, included - current),
        "billedQuantity": billed,
        "unlimited": unlimited,
        "overageEnabled": overage_enabled,
        "asOf": as_of,
        "object": "usage_quota",
        "livemode": False,
    }


def sdk_quota(raw: dict[str, Any]) -> UsageQuota:
    return UsageQuota(
        feature_code=raw["featureCode"],
        current=raw["current"],
        included=raw["included"],
        remaining=raw["remaining"],
        billed_quantity=raw["billedQuantity"],
        unlimited=raw["unlimited"],
        overage_enabled=raw["overageEnabled"],
        as_of=raw["asOf"],
        object="usage_quota",
        livemode=False,
    )


def get_quota(sdk, wire, customer_id: str, code: str) -> dict[str, Any]:
    """quota.get: the raw UsageQuota (exact keys); the SDK's matches it."""
    got = sdk.quota.get(customer_id=customer_id, feature_code=code)
    assert request_line(wire.last) == f"GET /api/v1/usage/quota?customerId={customer_id}&featureCode={code}"
    body = wire.last.body
    assert set(body) == QUOTA_KEYS, body
    assert got == sdk_quota(body)
    return body


def all_quotas(sdk, wire, customer_id: str) -> list[dict[str, Any]]:
    """quota.get_all: a direct list {object, data, hasMore} (never paged); the SDK's matches it."""
    result = sdk.quota.get_all(customer_id=customer_id)
    assert request_line(wire.last) == f"GET /api/v1/usage/quota/all?customerId={customer_id}"
    body = wire.last.body
    assert body["object"] == "list" and body["hasMore"] is False and set(body) == {"object", "data", "hasMore"}, body
    for item in body["data"]:
        assert set(item) == QUOTA_KEYS, item
    assert result == QuotaGetAllResult(object="list", data=[sdk_quota(q) for q in body["data"]], has_more=False)
    return body["data"]


def expect_quota_error(wire, call: Callable[[], Any], *, details: Any = ..., **expected: Any) -> dict[str, Any]:
    """expect_api_error plus ``details`` (on the wire and on the SDK error)."""
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


def test_add_set_remove_get_and_billed_quantity(sandbox, wire):
    cat = metered_catalog(sandbox)
    code = cat.tasks.code
    customer = subscribe(sandbox, wire, cat.plan, "quota-cust").customer
    cid = customer.id

    # never changed: asOf null
    assert get_quota(sandbox, wire, cid, code) == quota(code, current=0, billed=0, as_of=None)

    # add without a count: one task; the body carries no count
    one = Change(sandbox, wire, "add", customer_id=cid, feature_code=code)
    assert request_line(one.exchange) == "POST /api/v1/usage/quota"
    assert one.sent == {"featureCode": code, "customerId": cid}
    assert AUTO_IDEMPOTENCY_KEY.match(one.exchange.request_headers.get("idempotency-key", ""))
    assert_event(one, customer=customer, code=code, previous=0, new=1)

    # by externalId, past the 5 included (extra tasks are sold on this plan)
    seven = Change(sandbox, wire, "add", external_id=customer.external_id, feature_code=code, count=7)
    assert seven.sent == {"featureCode": code, "count": 7, "externalId": customer.external_id}
    assert_event(seven, customer=customer, code=code, previous=1, new=8)

    setting = Change(sandbox, wire, "set", customer_id=cid, feature_code=code, count=4)
    assert request_line(setting.exchange) == "PUT /api/v1/usage/quota"
    assert setting.sent == {"featureCode": code, "count": 4, "customerId": cid}
    assert AUTO_IDEMPOTENCY_KEY.match(setting.exchange.request_headers.get("idempotency-key", ""))
    assert_event(setting, customer=customer, code=code, previous=8, new=4)

    # remove: POST /usage/quota/remove (the direct spelling), with an auto Idempotency-Key
    removed = Change(sandbox, wire, "remove", customer_id=cid, feature_code=code, count=2)
    assert request_line(removed.exchange) == "POST /api/v1/usage/quota/remove"
    assert removed.sent == {"featureCode": code, "count": 2, "customerId": cid}
    assert AUTO_IDEMPOTENCY_KEY.match(removed.exchange.request_headers.get("idempotency-key", ""))
    assert_event(removed, customer=customer, code=code, previous=4, new=2)

    last = Change(sandbox, wire, "remove", external_id=customer.external_id, feature_code=code)
    assert last.sent == {"featureCode": code, "externalId": customer.external_id}
    assert_event(last, customer=customer, code=code, previous=2, new=1)
    ids = [c.body["id"] for c in (one, seven, setting, removed, last)]
    assert len(set(ids)) == len(ids), "one event per change"

    # 1 held, 4 of the 5 included left; the period's peak was 8; asOf = the latest change
    expected = quota(code, current=1, billed=8, as_of=last.body["ts"])
    assert get_quota(sandbox, wire, cid, code) == expected
    assert get_quota(sandbox, wire, customer.external_id, code) == expected
    assert all_quotas(sandbox, wire, cid) == [expected]

    # setting 0 is allowed; the peak stays
    zero = Change(sandbox, wire, "set", customer_id=cid, feature_code=code, count=0)
    assert_event(zero, customer=customer, code=code, previous=1, new=0)
    assert get_quota(sandbox, wire, cid, code) == quota(code, current=0, billed=8, as_of=zero.body["ts"])


def test_get_all_unlimited_and_capped(sandbox, wire):
    boundless = new_feature(sandbox, "quota", "zzboundless", "project")
    disabled = new_feature(sandbox, "quota", "zzoff", "task")
    cat = metered_catalog(
        sandbox, [(boundless, {"unlimited": True}), (disabled, {"enabled": False, "included_amount": 2})]
    )
    customer = subscribe(sandbox, wire, cat.plan, "quota-all").customer
    added = Change(sandbox, wire, "add", customer_id=customer.id, feature_code=boundless.code, count=40)
    assert_event(added, customer=customer, code=boundless.code, previous=0, new=40)

    # enabled quota features only (not the usage, boolean or disabled ones), by code
    unlimited = quota(
        boundless.code, current=40, billed=40, as_of=added.body["ts"], included=0, overage_enabled=False, unlimited=True
    )
    assert all_quotas(sandbox, wire, customer.external_id) == sorted(
        [quota(cat.tasks.code, current=0, billed=0, as_of=None), unlimited], key=lambda q: q["featureCode"]
    )
    assert get_quota(sandbox, wire, customer.id, boundless.code) == unlimited

    # overage off: no extra units are sold, overageEnabled false
    capped = hard_limit_catalog(sandbox)
    capped_customer = subscribe(sandbox, wire, capped.plan, "quota-capped").customer
    three = Change(
        sandbox, wire, "set", customer_id=capped_customer.id, feature_code=capped.tasks.code, count=CAPPED_TASKS
    )
    assert_event(three, customer=capped_customer, code=capped.tasks.code, previous=0, new=CAPPED_TASKS)
    assert all_quotas(sandbox, wire, capped_customer.id) == [
        quota(
            capped.tasks.code,
            current=CAPPED_TASKS,
            billed=CAPPED_TASKS,
            as_of=three.body["ts"],
            included=CAPPED_TASKS,
            overage_enabled=False,
        )
    ]


def test_quota_errors(sandbox, make_client, wire):
    disabled = new_feature(sandbox, "quota", "qoff", "task")
    cat = hard_limit_catalog(sandbox, [(disabled, {"enabled": False})])
    code = cat.tasks.code
    off_plan = new_feature(sandbox, "quota", "qother", "task")
    customer = subscribe(sandbox, wire, cat.plan, "quota-err").customer
    cid = customer.id
    q = sandbox.quota
    start = Change(sandbox, wire, "add", customer_id=cid, feature_code=code, count=2)
    assert_event(start, customer=customer, code=code, previous=0, new=2)

    # remove more than held
    expect_quota_error(
        wire,
        lambda: q.remove(customer_id=cid, feature_code=code, count=3),
        status=400,
        code="insufficient_balance",
        type="billing_error",
        param="count",
        details={"featureCode": code, "current": 2, "requested": 3},
    )
    assert request_line(wire.last) == "POST /api/v1/usage/quota/remove"

    # past the included amount of a plan that sells no extra units (overage off)
    def limit(requested: int) -> dict[str, Any]:
        return {
            "status": 400,
            "code": "included_limit_reached",
            "type": "billing_error",
            "param": "count",
            "details": {"featureCode": code, "current": 2, "included": CAPPED_TASKS, "requested": requested},
        }

    expect_quota_error(wire, lambda: q.add(customer_id=cid, feature_code=code, count=2), **limit(4))
    expect_quota_error(wire, lambda: q.set(external_id=customer.external_id, feature_code=code, count=5), **limit(5))

    # not a quota feature (a usage feature on the plan), no such feature, off the plan, disabled
    for bad in (cat.calls.code, feature_code("nope", "_")):
        for call in (
            lambda: q.add(customer_id=cid, feature_code=bad),
            lambda: q.get(customer_id=cid, feature_code=bad),
        ):
            expect_quota_error(wire, call, status=404, code="feature_not_found", type=NOT_FOUND, param="featureCode")
    for call in (
        lambda: q.add(customer_id=cid, feature_code=off_plan.code),
        lambda: q.get(customer_id=cid, feature_code=off_plan.code),
    ):
        expect_quota_error(wire, call, status=400, code="feature_not_in_plan", type=BILLING, param="featureCode")
    for call in (
        lambda: q.set(customer_id=cid, feature_code=disabled.code, count=1),
        lambda: q.get(customer_id=cid, feature_code=disabled.code),
    ):
        expect_quota_error(wire, call, status=400, code="feature_disabled", type=BILLING, param="featureCode")

    # unknown customer (cus_ id, externalId), a customer without a subscription
    for call in (
        lambda: q.add(customer_id="cus_01K3ZZZZZZZZZZZZZZZZZZZZZZ", feature_code=code),
        lambda: q.add(external_id=unique("ghost"), feature_code=code),
        lambda: q.get_all(customer_id=unique("ghost")),
    ):
        expect_quota_error(wire, call, status=404, code="customer_not_found", type=NOT_FOUND, param="customerId")
    idle = new_customer(sandbox, "quota-idle")
    for call in (
        lambda: q.add(customer_id=idle.id, feature_code=code),
        lambda: q.get(customer_id=idle.external_id, feature_code=code),
        lambda: q.get_all(customer_id=idle.id),
    ):
        expect_quota_error(wire, call, status=404, code="no_active_subscription", type=NOT_FOUND, param="customerId")

    # validation: both or neither customer field, count 0 on add and remove, a negative or too big set
    expect_validation_error(
        wire, lambda: q.add(customer_id=cid, external_id=customer.external_id, feature_code=code), "customerId"
    )
    expect_validation_error(wire, lambda: q.add(feature_code=code), "customerId")
    expect_validation_error(wire, lambda: q.add(customer_id=cid, feature_code=code, count=0), "count")
    expect_validation_error(wire, lambda: q.remove(customer_id=cid, feature_code=code, count=0), "count")
    expect_validation_error(wire, lambda: q.set(customer_id=cid, feature_code=code, count=-1), "count")
    expect_validation_error(wire, lambda: q.set(customer_id=cid, feature_code=code, count=1_000_001), "count")

    # wrong API key
    intruder = make_client("ck_sandbox_" + base62(32))
    expect_quota_error(
        wire,
        lambda: intruder.quota.add(customer_id=cid, feature_code=code),
        status=401,
        code="unauthorized",
        type="authentication_error",
        param=None,
        details=None,
    )
    expect_quota_error(
        wire,
        lambda: intruder.quota.get_all(customer_id=cid),
        status=401,
        code="unauthorized",
        type="authentication_error",
    )

    # none of that changed anything
    assert all_quotas(sandbox, wire, cid) == [
        quota(code, current=2, billed=2, as_of=start.body["ts"], included=CAPPED_TASKS, overage_enabled=False)
    ]


def test_idempotency_key_replays_quota_changes(sandbox, wire):
    cat = metered_catalog(sandbox)
    code = cat.tasks.code
    customer = subscribe(sandbox, wire, cat.plan, "quota-idem").customer
    key = f"sdk-py-quota-{uuid.uuid4()}"

    first = Change(sandbox, wire, "add", customer_id=customer.id, feature_code=code, count=6, idempotency_key=key)
    assert first.exchange.request_headers["idempotency-key"] == key, "the caller's key replaces the auto key"
    assert_event(first, customer=customer, code=code, previous=0, new=6)

    again = sandbox.quota.add(customer_id=customer.id, feature_code=code, count=6, idempotency_key=key)
    replay = wire.last
    assert replay.status == 200
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.body == first.body, "the first answer, replayed"
    assert again == first.result

    expect_quota_error(
        wire,
        lambda: sandbox.quota.add(customer_id=customer.id, feature_code=code, count=1, idempotency_key=key),
        status=409,
        code="idempotency_key_mismatch",
        type="conflict_error",
    )

    remove_key = f"sdk-py-quota-{uuid.uuid4()}"
    remove = {"customer_id": customer.id, "feature_code": code, "count": 2, "idempotency_key": remove_key}
    removed = Change(sandbox, wire, "remove", **remove)
    assert removed.exchange.request_headers["idempotency-key"] == remove_key
    assert_event(removed, customer=customer, code=code, previous=6, new=4)
    assert sandbox.quota.remove(**remove) == removed.result
    assert wire.last.headers.get("idempotent-replayed") == "true"

    assert get_quota(sandbox, wire, customer.id, code) == quota(code, current=4, billed=6, as_of=removed.body["ts"]), (
        "each change applied once"
    )
