"""Usage, quota and feature-access catalogs as commet-sdk 9.7.0 builds them (commet-version
2026-08-27, direct objects), shared by test_usage.py, test_quota.py, test_feature_access.py and
test_usage_billing.py. Every call creates fresh, uniquely coded data (both suites share one sandbox
organization).

The four plans of the area (usage.md §2):
  metered_catalog     paid metered plan ($99/month): a usage feature with 100 included calls and
                      billable overage at $0.25 a call (rate 2500), a quota feature with 5 included
                      tasks and extra tasks at $25 (rate 250000), a boolean feature
  hard_limit_catalog  paid metered plan ($19/month) with overage off: 10 included calls and 3
                      included tasks are hard limits (no extra units are sold)
  credits_catalog     credits plan ($20/month, 1000 credits): a usage feature at 10 credits a unit
  balance_catalog     balance plan ($50/month, $50.00 balance, blockOnExhaustion): a usage feature
                      at $0.05 a unit (rate 500)

Every subscription ``subscribe`` makes is canceled (immediately) when its test ends, by the
``cancel_subscriptions`` fixture each module imports. The clock tests advance the one sandbox
clock over every live subscription's deadlines, and a test-clock run lists at most 100 of them
(catalog.md §5), so subscriptions left running would crowd those tests' own renewals out of the
run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from typing import Any, Iterator

import pytest

from commet import Commet
from commet.types import AddPlanFeatureParamsOverage, Customer, Feature, Plan

from catalog import new_customer
from support import add_months, feature_code, instant, unique

_ULID = "[0-9A-HJKMNP-TV-Z]{26}"
USAGE_EVENT_ID = re.compile(f"^evt_{_ULID}$")
QUOTA_EVENT_ID = re.compile(f"^qev_{_ULID}$")
AUTO_IDEMPOTENCY_KEY = re.compile(
    r"^commet-python-retry-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)

PLAN_PRICE = 9900  # cents
INCLUDED_CALLS = 100
CALL_UNIT_PRICE = 2500  # rate scale (10000 = $1): $0.25 a call past the included ones
INCLUDED_TASKS = 5
TASK_UNIT_PRICE = 250000  # rate scale: $25 a task past the included ones
CAPPED_PRICE = 1900
CAPPED_CALLS = 10
CAPPED_TASKS = 3
CREDITS_PRICE = 2000
INCLUDED_CREDITS = 1000
CREDITS_PER_UNIT = 10
BALANCE_PRICE = 5000
INCLUDED_BALANCE = 500000  # rate scale: $50.00
BALANCE_UNIT_PRICE = 500  # rate scale: $0.05 a unit


_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


def to_snake_keys(value: Any) -> Any:
    """``value`` with every dict key snake-cased, recursively (what P9 does to a response)."""
    if isinstance(value, dict):
        return {_CAMEL_HUMP.sub(r"_\1", k).lower(): to_snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_snake_keys(v) for v in value]
    return value


def as_wire(value: Any) -> Any:
    """An SDK object back in wire form, by each dataclass field's ``wire_name``: required fields
    always, optional ones when set. Equal to the raw JSON when the SDK parsed it losslessly."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.metadata["wire_name"]: as_wire(getattr(value, f.name))
            for f in fields(value)
            if f.metadata["required"] or getattr(value, f.name) is not None
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [as_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: as_wire(v) for k, v in value.items()}
    return value


def clock_now(sdk: Commet) -> str:
    """The sandbox clock's "now" (real time until the clock is first advanced)."""
    return sdk.test_clock.get().now


def new_feature(sdk: Commet, type: str, tag: str, unit_name: str | None = None) -> Feature:
    """A feature of ``type`` with a unique code ``<tag>_<16 hex>``."""
    return sdk.features.create(name=unique(tag), code=feature_code(tag, "_"), type=type, unit_name=unit_name)


def new_plan(
    sdk: Commet,
    *,
    plan: dict[str, Any] | None = None,
    price: dict[str, Any] | None = None,
    features: list[tuple[Feature, dict[str, Any]]] = (),
) -> Plan:
    """A plan (``plan`` merged into the create params), a monthly ``price`` when given (first, so
    the default) and ``features``: (feature, add_feature params) pairs, attached in order."""
    created = sdk.plans.create(name=unique("Usage plan"), code=unique("usage-plan"), **(plan or {}))
    if price is not None:
        added = sdk.plans.add_price(created.id, billing_interval="monthly", **price)
        assert added.is_default is True
    for feature, params in features:
        sdk.plans.add_feature(created.id, feature_id=feature.id, **params)
    return created


def overage(enabled: bool, unit_price: int) -> AddPlanFeatureParamsOverage:
    return AddPlanFeatureParamsOverage(enabled=enabled, unit_price=unit_price)


@dataclass
class Subscribed:
    customer: Customer
    sub: dict[str, Any]  # the raw created subscription

    @property
    def start(self) -> str:
        return self.sub["startDate"]

    @property
    def period(self) -> dict[str, str]:
        """The first (usage and billing) period on the wire: {start, end}."""
        return {"start": self.start, "end": add_months(self.start, 1)}


_live: list[str] = []  # ids of the subscriptions ``subscribe`` made in the running test


def subscribe(sdk: Commet, wire: Any, plan: Plan, tag: str = "usage-cust", status: str = "active") -> Subscribed:
    """A new customer (with an externalId) and a subscription to ``plan``, in ``status``."""
    customer = new_customer(sdk, tag)
    sdk.subscriptions.create(customer_id=customer.id, plan_code=plan.code)
    body = wire.last.body
    assert body["status"] == status, body
    instant(body["startDate"], "startDate")
    _live.append(body["id"])
    return Subscribed(customer=customer, sub=body)


@pytest.fixture(autouse=True)
def cancel_subscriptions(sandbox: Commet) -> Iterator[None]:
    """Autouse in the modules that import it: after each test, cancels every subscription
    ``subscribe`` made, immediately."""
    yield
    while _live:
        canceled = sandbox.subscriptions.cancel(_live.pop(), immediate=True)
        assert canceled.status == "canceled"


@dataclass
class Catalog:
    """A plan and the features of one of the catalogs (the ones it has are set)."""

    plan: Plan
    calls: Feature | None = None
    tasks: Feature | None = None
    sso: Feature | None = None
    images: Feature | None = None
    renders: Feature | None = None


def metered_catalog(sdk: Commet, extra: list[tuple[Feature, dict[str, Any]]] = ()) -> Catalog:
    """The paid metered plan (calls, tasks, sso); ``extra`` pairs are attached after the three."""
    calls = new_feature(sdk, "usage", "calls", "call")
    tasks = new_feature(sdk, "quota", "tasks", "task")
    sso = new_feature(sdk, "boolean", "sso")
    plan = new_plan(
        sdk,
        price={"price": PLAN_PRICE},
        features=[
            (calls, {"included_amount": INCLUDED_CALLS, "overage": overage(True, CALL_UNIT_PRICE)}),
            (tasks, {"included_amount": INCLUDED_TASKS, "overage": overage(True, TASK_UNIT_PRICE)}),
            (sso, {}),
            *extra,
        ],
    )
    return Catalog(plan=plan, calls=calls, tasks=tasks, sso=sso)


def hard_limit_catalog(sdk: Commet, extra: list[tuple[Feature, dict[str, Any]]] = ()) -> Catalog:
    """The plan with hard limits (overage off: calls, tasks); ``extra`` pairs attached after."""
    calls = new_feature(sdk, "usage", "calls", "call")
    tasks = new_feature(sdk, "quota", "tasks", "task")
    plan = new_plan(
        sdk,
        price={"price": CAPPED_PRICE},
        features=[(calls, {"included_amount": CAPPED_CALLS}), (tasks, {"included_amount": CAPPED_TASKS}), *extra],
    )
    return Catalog(plan=plan, calls=calls, tasks=tasks)


def credits_catalog(sdk: Commet) -> Catalog:
    images = new_feature(sdk, "usage", "images", "image")
    plan = new_plan(
        sdk,
        plan={"consumption_model": "credits"},
        price={"price": CREDITS_PRICE, "included_credits": INCLUDED_CREDITS},
        features=[(images, {"included_amount": 0, "credits_per_unit": CREDITS_PER_UNIT})],
    )
    return Catalog(plan=plan, images=images)


def balance_catalog(sdk: Commet) -> Catalog:
    renders = new_feature(sdk, "usage", "renders", "render")
    plan = new_plan(
        sdk,
        plan={"consumption_model": "balance", "block_on_exhaustion": True},
        price={"price": BALANCE_PRICE, "included_balance": INCLUDED_BALANCE},
        features=[(renders, {"included_amount": 0, "overage": overage(False, BALANCE_UNIT_PRICE)})],
    )
    return Catalog(plan=plan, renders=renders)


def rate(amount: int) -> dict[str, Any]:
    """A price on the rate scale as feature access shows it."""
    return {"amount": amount, "currency": "usd", "scale": 10000}


def counted_usage(
    *,
    period: dict[str, str],
    used: int,
    included: int,
    billable: bool,
    unit_price: int | None = None,
    billed: int | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """The ``consumption`` (metered usage: ``model`` "metered") or ``usage`` (seats, quota:
    ``billed`` units) object of a direct FeatureAccess of a counted feature."""
    out: dict[str, Any] = {} if model is None else {"model": model}
    out |= {
        "period": period,
        "unitsUsed": used,
        "includedUnits": included,
        "remainingUnits": max(0, included - used),
        "unlimited": False,
        "overage": {
            "enabled": billable,
            "units": max(0, used - included),
            **({} if unit_price is None else {"unitPrice": rate(unit_price)}),
        },
    }
    if billed is not None:
        out["billedUnits"] = billed
    return out


def access(feature: Feature, *, allowed: bool = True, **rest: Any) -> dict[str, Any]:
    """A direct FeatureAccess: the common fields, then ``rest`` (enabled / consumption / usage /
    reason), then object and livemode."""
    return {
        "code": feature.code,
        "name": feature.name,
        "unitName": feature.unit_name,
        "allowed": allowed,
        "type": feature.type.value if hasattr(feature.type, "value") else feature.type,
        **rest,
        "object": "feature_access",
        "livemode": False,
    }
