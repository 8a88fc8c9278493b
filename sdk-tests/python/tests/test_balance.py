"""Balance and credits through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects;
balance.md §1–§3, §5). Nothing here moves the test clock: timestamps are checked against the
sandbox clock read around the calls (equal when the clock is frozen, a window in real time).

Wire mapping (commet/resources/subscriptions.py):
  subscriptions.adjust_balance(id, amount=, reason=, type=)  POST /subscriptions/{id}/balance/adjust
      body {amount, reason?, type?} -> BalanceAdjustment {amount, newBalance, reason,
      object:"balance_transaction", livemode}
  subscriptions.topup_balance(id, amount=)                   POST /subscriptions/{id}/balance/topup
      body {amount} -> BalanceTopup {amount, object:"balance_topup", livemode}
The SDK types ``SubscriptionBalance.remaining/included`` and ``SubscriptionCredits.*`` as floats;
the wire carries integers (rate scale / whole credits), checked on the raw JSON.
Invoices: see invoicing.py.
"""

from __future__ import annotations

from typing import Any

from catalog import new_customer
from invoicing import (
    assert_invoice_wire,
    get_invoice,
    invoice_seq,
    list_invoices,
    plan_base_line,
    top_up_line,
)
from support import add_months, expect_api_error, expect_validation_error, instant, request_line, unique

PLAN_PRICE = 2900  # cents
INCLUDED_BALANCE = 50000  # rate scale: $5.00
INCLUDED_CREDITS = 100
ADJUSTMENT_KEYS = {"amount", "newBalance", "reason", "object", "livemode"}
TOPUP_KEYS = {"amount", "object", "livemode"}
UNKNOWN_SUBSCRIPTION = "sub_01K3ZZZZZZZZZZZZZZZZZZZZZZ"


def clock_now(sdk) -> str:
    return sdk.test_clock.get().now


def subscribe(sdk, wire, model: str) -> tuple[Any, Any, Any]:
    """A plan of one consumption model (monthly price granting balance or credits), a customer and
    an active subscription; returns (plan, customer, subscription)."""
    plan = sdk.plans.create(name=unique(f"{model} plan"), code=unique(model), consumption_model=model)
    assert wire.last.body["consumptionModel"] == model
    grant = {"included_balance": INCLUDED_BALANCE} if model == "balance" else {"included_credits": INCLUDED_CREDITS}
    price = sdk.plans.add_price(plan.id, billing_interval="monthly", price=PLAN_PRICE, **grant)
    assert price.is_default is True
    customer = new_customer(sdk, model)
    sub = sdk.subscriptions.create(customer_id=customer.id, plan_code=plan.code, billing_interval="monthly")
    assert sub.status == "active"
    return plan, customer, sub


def ledgers(sdk, wire, subscription_id: str) -> dict[str, Any]:
    """The raw subscription's consumption fields (get)."""
    sub = sdk.subscriptions.get(subscription_id)
    body = wire.last.body
    if body["balance"] is not None:
        assert sub.balance.remaining == body["balance"]["remaining"]
        assert sub.balance.included == body["balance"]["included"]
    if body["credits"] is not None:
        assert sub.credits.remaining == body["credits"]["remaining"]
    return {k: body[k] for k in ("consumptionModel", "balance", "credits", "features")}


def adjust(sdk, wire, subscription_id: str, **params: Any) -> dict[str, Any]:
    adjusted = sdk.subscriptions.adjust_balance(subscription_id, **params)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{subscription_id}/balance/adjust"
    assert wire.last.request_body == params
    body = wire.last.body
    assert set(body) == ADJUSTMENT_KEYS, body
    assert (adjusted.amount, adjusted.new_balance, adjusted.reason) == (body["amount"], body["newBalance"], body["reason"])
    assert adjusted.object == body["object"] and adjusted.livemode is body["livemode"]
    return body


def test_balance_adjust_overdraw_and_topup_invoice(sandbox, wire):
    plan, customer, sub = subscribe(sandbox, wire, "balance")
    assert ledgers(sandbox, wire, sub.id) == {
        "consumptionModel": "balance",
        "balance": {"remaining": INCLUDED_BALANCE, "included": INCLUDED_BALANCE, "currency": "usd"},
        "credits": None,
        "features": [],
    }

    # the opening invoice bills the plan base only
    _, items = list_invoices(sandbox, wire, subscription_id=sub.id)
    assert len(items) == 1
    _, opening = get_invoice(sandbox, wire, items[0]["id"])
    assert_invoice_wire(
        opening,
        customer=customer,
        subscription_id=sub.id,
        invoice_type="recurring",
        plan_name=plan.name,
        period_start=sub.start_date,
        period_end=add_months(sub.start_date, 1),
        issued_at=sub.start_date,
        lines=[plan_base_line(PLAN_PRICE)],
        total=PLAN_PRICE,
    )

    # adjust -20000 -> 30000 left
    spent = adjust(sandbox, wire, sub.id, amount=-20000, reason="usage correction")
    assert spent == {
        "amount": -20000,
        "newBalance": 30000,
        "reason": "usage correction",
        "object": "balance_transaction",
        "livemode": False,
    }
    balance = {"remaining": 30000, "included": INCLUDED_BALANCE, "currency": "usd"}
    assert ledgers(sandbox, wire, sub.id)["balance"] == balance

    # more than what is left: 400 insufficient_balance, nothing applied
    error = expect_api_error(
        wire,
        lambda: sandbox.subscriptions.adjust_balance(sub.id, amount=-30001),
        status=400,
        code="insufficient_balance",
        type="billing_error",
    )
    assert error["details"] == {"remaining": 30000, "requested": 30001}
    assert ledgers(sandbox, wire, sub.id)["balance"] == balance, "a refused adjustment changes nothing"

    # a reason is optional (null in the answer)
    back = adjust(sandbox, wire, sub.id, amount=5000)
    assert (back["reason"], back["newBalance"]) == (None, 35000)

    # top-up 100000 ($10.00) -> balance +100000 and a paid 1000-cent invoice
    before = clock_now(sandbox)
    topup = sandbox.subscriptions.topup_balance(sub.id, amount=100000)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub.id}/balance/topup"
    assert wire.last.request_body == {"amount": 100000}
    assert wire.last.body == {"amount": 100000, "object": "balance_topup", "livemode": False}
    assert (topup.amount, topup.object, topup.livemode) == (100000, "balance_topup", False)
    after = clock_now(sandbox)
    assert ledgers(sandbox, wire, sub.id)["balance"] == {
        "remaining": 135000,
        "included": INCLUDED_BALANCE,
        "currency": "usd",
    }

    _, items = list_invoices(sandbox, wire, subscription_id=sub.id)
    assert len(items) == 2
    [topup_item] = [i for i in items if i["invoiceType"] == "balance_topup"]
    issued_at = topup_item["issueDate"]
    assert instant(before) <= instant(issued_at) <= instant(after), (before, issued_at, after)
    topup_sdk, topup_invoice = get_invoice(sandbox, wire, topup_item["id"])
    assert_invoice_wire(
        topup_invoice,
        customer=customer,
        subscription_id=sub.id,
        invoice_type="balance_topup",
        plan_name=plan.name,
        period_start=issued_at,
        period_end=issued_at,
        issued_at=issued_at,
        lines=[top_up_line(1000)],
        total=1000,
    )
    assert topup_sdk.invoice_type == "balance_topup" and topup_sdk.line_items[0].line_type == "one_time"
    assert invoice_seq(topup_invoice["invoiceNumber"]) > invoice_seq(opening["invoiceNumber"])

    _, mine = list_invoices(sandbox, wire, customer_id=customer.external_id, status="paid")
    assert sorted(i["id"] for i in mine) == sorted([opening["id"], topup_invoice["id"]])


def test_credits_adjust_and_overdraw(sandbox, wire):
    _, _, sub = subscribe(sandbox, wire, "credits")
    credits = {"remaining": INCLUDED_CREDITS, "included": INCLUDED_CREDITS, "purchased": 0}
    assert ledgers(sandbox, wire, sub.id) == {
        "consumptionModel": "credits",
        "balance": None,
        "credits": credits,
        "features": [],
    }

    granted = adjust(sandbox, wire, sub.id, amount=25, reason="goodwill")
    assert granted == {
        "amount": 25,
        "newBalance": 125,
        "reason": "goodwill",
        "object": "balance_transaction",
        "livemode": False,
    }
    assert adjust(sandbox, wire, sub.id, amount=-5, type="credits")["newBalance"] == 120

    error = expect_api_error(
        wire,
        lambda: sandbox.subscriptions.adjust_balance(sub.id, amount=-121),
        status=400,
        code="insufficient_credits",
        type="billing_error",
    )
    assert error["details"] == {"remaining": 120, "requested": 121}
    left = {"remaining": 120, "included": INCLUDED_CREDITS, "purchased": 0}
    assert ledgers(sandbox, wire, sub.id)["credits"] == left

    # type must match the plan's model; credits plans cannot be topped up
    expect_validation_error(wire, lambda: sandbox.subscriptions.adjust_balance(sub.id, amount=1, type="balance"), "type")
    expect_validation_error(wire, lambda: sandbox.subscriptions.topup_balance(sub.id, amount=10000), "amount")
    assert ledgers(sandbox, wire, sub.id)["credits"] == left


def test_balance_and_invoice_errors(sandbox, wire):
    _, _, sub = subscribe(sandbox, wire, "balance")

    expect_validation_error(wire, lambda: sandbox.subscriptions.adjust_balance(sub.id, amount=0), "amount")
    expect_validation_error(wire, lambda: sandbox.subscriptions.adjust_balance(sub.id, amount=10, type="credits"), "type")
    for amount in (150, 0, -100):
        expect_validation_error(wire, lambda: sandbox.subscriptions.topup_balance(sub.id, amount=amount), "amount")
    assert ledgers(sandbox, wire, sub.id)["balance"] == {
        "remaining": INCLUDED_BALANCE,
        "included": INCLUDED_BALANCE,
        "currency": "usd",
    }, "refused calls change nothing"
    _, items = list_invoices(sandbox, wire, subscription_id=sub.id)
    assert len(items) == 1, "no top-up invoice"

    for call in (
        lambda: sandbox.subscriptions.adjust_balance(UNKNOWN_SUBSCRIPTION, amount=100),
        lambda: sandbox.subscriptions.topup_balance(UNKNOWN_SUBSCRIPTION, amount=100),
    ):
        expect_api_error(wire, call, status=404, code="subscription_not_found", type="not_found_error")
    expect_api_error(
        wire,
        lambda: sandbox.invoices.get("inv_01K3ZZZZZZZZZZZZZZZZZZZZZZ"),
        status=404,
        code="invoice_not_found",
        type="not_found_error",
    )
    expect_api_error(
        wire,
        lambda: sandbox.invoices.list(customer_id=unique("ghost")),
        status=404,
        code="customer_not_found",
        type="not_found_error",
        param="customerId",
    )
