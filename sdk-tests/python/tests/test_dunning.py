"""Collecting subscription invoices, dunning and recovery through commet-sdk 9.7.0 (commet-version
2026-08-27, direct objects; payments.md §5–6), against a Tally server started with
``--billing-mode charge`` (sdk-tests/run points TALLY_URL at $TALLY_CHARGE_URL for the tests marked
``dunning``). Subscription invoices are charged to the customer's default card: at creation
(``first_subscription_payment``; without a card, or after a decline, the subscription waits in
``pending_payment`` with a ``checkoutUrl``), at each renewal (``recurring_billing``); a declined renewal makes
the subscription ``past_due``, retried 1, 3, 5 and 7 days after the decline on the org clock.

Wire mapping (commet/resources/subscriptions.py, transactions.py, test_clock.py; base_url
<TALLY_URL>/api/v1; an empty body is not sent at all; every POST carries the SDK's Idempotency-Key):
  subscriptions.create_recovery_link(id)     POST /subscriptions/{id}/recovery-links  (no body)
                                             -> RecoveryLink {url, token, object:"recovery_link", livemode}
  subscriptions.reactivate(id)               POST /subscriptions/{id}/reactivate       (no body)
                                             past_due, paid -> ReactivatedSubscription {subscriptionId,
                                             invoiceId, status:"succeeded", object:"subscription_reactivation", livemode}
  subscriptions.update_payment_method(id)    POST /subscriptions/{id}/payment-method/update  (no body)
  transactions.retry(id)                     POST /transactions/{id}/retry             (no body)
                                             paid -> TransactionRetry {originalTransactionId, invoiceId,
                                             status:"succeeded", object:"transaction_retry", livemode}
  transactions.list(customer_email=, limit=) GET  /transactions?customerEmail=&limit=
  test_clock.advance(frozen_time=)           POST /test-clock -> 202 TestClockRun: runs every deadline
                                             due up to the target; items have kind "billing_cycle" (a
                                             declined renewal: outcome "past_due") or "dunning_retry"
                                             (outcome "failed", "recovered" or "exhausted")
A transaction's ``paymentContext`` is ``{reason, paymentLinkId, recovery}``: ``recovery`` is null for
the first attempt at an invoice, ``{type:"payment_recovery"}`` for a manual one and
``{type:"dunning_retry", attempt, maxAttempts:4}`` for a scheduled retry. A manual attempt declined
is ``402 charge_failed`` (billing_error) with ``details: {invoiceId, transactionId, failureCode,
failureMessage, recoveryUrl}``, kept in ``CommetAPIError.details``; the fourth manual attempt of a
customer in a day of the org clock is ``429 rate_limited`` with ``details: {limit: 3, resetsAt}``
and no Retry-After, so the SDK (which retries a 429 only after a Retry-After) does not try again.

Hosted pages are used as a browser would, without a key, in JSON (``Accept: application/json``): a
payment link's page saves the first card, the card-update page replaces it, the recovery page
(``GET {url}`` -> state; ``POST {url}`` ``{action:"pay_saved"}`` or ``{action:"pay", card fields}``)
pays the past-due invoice. Sandbox cards: 4242… and 5555… pay; 4000…0341 saves but every charge is
declined (card_declined); 4000…9995 saves but charges fail (insufficient_funds); 4000…0002 is
refused even when saving.

The clock only moves forward and is shared with the Node dunning tests (which run first), so each
test starts on the 1st of the month after the clock's current time. Deliveries are checked with
the SDK's own signature helpers (test_webhooks.py's receiver and ``assert_signed_delivery``).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from typing import Any, Callable

import httpx
import pytest

from commet import CommetAPIError
from commet import types as sdk_types
from commet.types import ReactivatedSubscription, RecoveryLink, TransactionRetry

from catalog import new_customer
from invoicing import INVOICE_ID, list_invoices
from lifecycle import (
    INVALID_STATUS,
    NOT_ACTIVE,
    PlainPlan,
    assert_plain_subscription,
    clock_now,
    deliveries,
    get_subscription,
    plain_plan,
)
from support import (
    DAY,
    add_months,
    assert_direct_list,
    assert_wire_error,
    expect_api_error,
    expect_validation_error,
    instant,
    iso,
    request_line,
    shift,
)
from test_webhooks import assert_signed_delivery, create_endpoint, receiver  # noqa: F401 - receiver is a fixture

pytestmark = pytest.mark.dunning

PRICE = 9900
VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
DECLINES = "4000000000000341"  # saved; every charge card_declined
NO_FUNDS = "4000000000009995"  # saved; every charge insufficient_funds
REFUSED = "4000000000000002"  # refused even when saving
CARD_DECLINED = {"code": "card_declined", "message": "Your card was declined."}
INSUFFICIENT = {"code": "insufficient_funds", "message": "Your card has insufficient funds."}

TALLY_URL = os.environ["TALLY_URL"].rstrip("/")
_ULID = "[0-9A-HJKMNP-TV-Z]{26}"
TRANSACTION_ID = re.compile(f"txn_{_ULID}")
TOKEN = re.compile(r"tok_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# A recovery page: {publicBaseUrl}/recover/tok_…; the tests' server is its own public base.
RECOVER_URL = re.compile(re.escape(TALLY_URL) + r"/recover/tok_[^/?#]+")
CHECKOUT_URL = re.compile(re.escape(TALLY_URL) + r"/checkout/tok_[^/?#]+")
RECOVER_KEYS = {
    "kind",
    "status",
    "livemode",
    "amount",
    "currency",
    "description",
    "invoice",
    "subscription",
    "card",
    "error",
    "redirectUrl",
}
TRANSACTION_ITEM_KEYS = {
    "id",
    "invoiceId",
    "grossAmount",
    "subtotal",
    "taxAmount",
    "presentmentAmount",
    "currency",
    "provider",
    "paymentMethod",
    "subPaymentMethod",
    "status",
    "customerEmail",
    "customerName",
    "paidAt",
    "createdAt",
    "updatedAt",
    "paymentContext",
    "object",
    "livemode",
}
EVENTS = ["subscription.past_due", "payment.failed", "payment.recovered", "payment.retry_failed", "subscription.canceled"]
UNKNOWN_TRANSACTION = "txn_01K00000000000000000000000"
MANUAL = {"type": "payment_recovery"}
NO_OUTSTANDING = {"status": 409, "code": "no_outstanding_invoice", "type": "conflict_error"}


def retry_context(attempt: int) -> dict[str, Any]:
    return {"type": "dunning_retry", "attempt": attempt, "maxAttempts": 4}


def context(reason: str, recovery: Any = None) -> dict[str, Any]:
    """A transaction's paymentContext for an attempt at a subscription invoice."""
    return {"reason": reason, "paymentLinkId": None, "recovery": recovery}


def next_first_of_month(now: str) -> str:
    """00:00 UTC on the 1st of the month after ``now``."""
    t = instant(now)
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return iso(datetime(year, month, 1, tzinfo=timezone.utc))


def saved_card(brand: str, last4: str) -> dict[str, Any]:
    return {"brand": brand, "last4": last4, "expMonth": 12, "expYear": 2034}


def card_fields(number: str) -> dict[str, str]:
    return {"cardNumber": number, "expMonth": "12", "expYear": "34", "cvc": "123"}


def hosted(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """GET (no body) or POST JSON to a hosted page, without a key: (HTTP status, body)."""
    headers = {"Accept": "application/json"}
    response = httpx.get(url, headers=headers) if body is None else httpx.post(url, json=body, headers=headers)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def card_on_file(sdk, customer) -> None:
    """Pays a 10.00 link with a visa on its page: the card becomes the customer's default."""
    link = sdk.payments.create(customer_id=customer.id, amount=1000, currency="usd", description="Card on file")
    status, state = hosted(link.url, {"action": "pay", **card_fields(VISA)})
    assert (status, state["status"], state["card"]) == (200, "succeeded", saved_card("visa", "4242")), state


def subscribe(sdk, wire, plan: PlainPlan, tag: str) -> tuple[Any, dict[str, Any]]:
    """A new customer with a visa on file, subscribed to ``plan`` monthly: charged at once, active.
    Returns the customer and the subscription read back (wire)."""
    customer = new_customer(sdk, tag)
    card_on_file(sdk, customer)
    sdk.subscriptions.create(customer_id=customer.id, plan_code=plan.code, billing_interval="monthly")
    assert wire.last.status == 200, wire.last.body
    body = get_subscription(sdk, wire, wire.last.body["id"])
    assert body["status"] == "active", body
    return customer, body


def save_card(sdk, wire, sub_id: str, number: str) -> dict[str, Any]:
    """The card-update page of ``update_payment_method`` saves ``number`` as the default; its state."""
    update = sdk.subscriptions.update_payment_method(sub_id)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub_id}/payment-method/update"
    assert wire.last.body == {"checkoutUrl": update.checkout_url, "object": "checkout_session", "livemode": False}
    status, state = hosted(update.checkout_url, card_fields(number))
    assert (status, state["kind"], state["status"], state["error"]) == (200, "payment_method", "succeeded", None), state
    return state


def recover_page(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The recovery page's JSON state (GET without ``body``, POST with it), its keys checked."""
    status, state = hosted(url, body)
    assert status == 200, f"{'POST' if body else 'GET'} {url} -> {status}: {state}"
    assert set(state) == RECOVER_KEYS, sorted(state)
    assert (state["kind"], state["livemode"], state["redirectUrl"]) == ("recover", False, None)
    return state


def pay_saved(url: str) -> dict[str, Any]:
    return recover_page(url, {"action": "pay_saved"})


def pay_with(url: str, number: str) -> dict[str, Any]:
    return recover_page(url, {"action": "pay", **card_fields(number)})


def open_page(plan: PlainPlan, sub_id: str, invoice: dict[str, Any], card: dict[str, Any], error: Any = None) -> dict[str, Any]:
    """The state of a recovery page whose invoice is still owed."""
    return {
        "kind": "recover",
        "status": "open",
        "livemode": False,
        "amount": invoice["total"],
        "currency": "usd",
        "description": f"{plan.name} subscription",
        "invoice": {"id": invoice["id"], "invoiceNumber": invoice["invoiceNumber"], "total": invoice["total"]},
        "subscription": {"id": sub_id, "status": "past_due", "planName": plan.name},
        "card": card,
        "error": error,
        "redirectUrl": None,
    }


def recovery_link(sdk, wire, sub_id: str) -> dict[str, Any]:
    """``create_recovery_link`` through the SDK: request line, no body, the exact RecoveryLink."""
    link = sdk.subscriptions.create_recovery_link(sub_id)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub_id}/recovery-links"
    assert wire.last.request_body is None, "P9 sends no body"
    assert wire.last.status == 200, wire.last.body
    body = wire.last.body
    assert TOKEN.fullmatch(body["token"]), body
    assert body == {
        "url": f"{TALLY_URL}/recover/{body['token']}",
        "token": body["token"],
        "object": "recovery_link",
        "livemode": False,
    }
    assert RECOVER_URL.fullmatch(body["url"]), body["url"]
    assert isinstance(link, RecoveryLink)
    assert (link.url, link.token, link.object, link.livemode) == (body["url"], body["token"], "recovery_link", False)
    return body


def attempts(sdk, wire, customer) -> list[dict[str, Any]]:
    """A customer's transactions, newest first (one page, raw list items), each checked."""
    result = sdk.transactions.list(customer_email=customer.email, limit=100)
    assert request_line(wire.last).startswith("GET /api/v1/transactions?"), request_line(wire.last)
    txns = assert_direct_list(wire.last.body)
    assert wire.last.body["hasMore"] is False
    for txn in txns:
        assert set(txn) == TRANSACTION_ITEM_KEYS, sorted(txn)
        assert TRANSACTION_ID.fullmatch(txn["id"]), txn
        instant(txn["createdAt"], "createdAt")
        assert (
            txn["currency"],
            txn["subtotal"],
            txn["taxAmount"],
            txn["presentmentAmount"],
            txn["provider"],
            txn["paymentMethod"],
            txn["subPaymentMethod"],
            txn["customerEmail"],
            txn["object"],
            txn["livemode"],
        ) == ("usd", txn["grossAmount"], 0, None, "commet", "card", "credit_card", customer.email, "transaction", False), txn
        assert txn["paidAt"] == (txn["createdAt"] if txn["status"] == "succeeded" else None), txn
    times = [t["createdAt"] for t in txns]
    assert times == sorted(times, reverse=True), "newest first"
    assert [(t.id, t.status, t.invoice_id, t.gross_amount) for t in result.data] == [
        (t["id"], t["status"], t["invoiceId"], t["grossAmount"]) for t in txns
    ]
    assert [t.payment_context.reason for t in result.data] == [t["paymentContext"]["reason"] for t in txns]
    return txns


def row(txn: dict[str, Any]) -> tuple[Any, ...]:
    """(status, invoiceId, grossAmount, createdAt, paymentContext) of a raw transaction."""
    return (txn["status"], txn["invoiceId"], txn["grossAmount"], txn["createdAt"], txn["paymentContext"])


def rows(txns: list[dict[str, Any]]) -> list[str]:
    """Rows compared as multisets (attempts at one frozen instant share their createdAt)."""
    return sorted(repr(row(t)) for t in txns)


def invoice_rows(sdk, wire, sub_id: str) -> list[tuple[Any, ...]]:
    """The subscription's invoices, newest first: (status, invoiceType, total, periodStart)."""
    result, items = list_invoices(sdk, wire, subscription_id=sub_id, limit=10)
    assert result.has_more is False
    return [(i["status"], i["invoiceType"], i["total"], i["periodStart"]) for i in items]


def renewal_invoice(sdk, wire, sub_id: str, renewal: str) -> dict[str, Any]:
    """The invoice opening the period that starts at ``renewal`` (a raw list item)."""
    _, items = list_invoices(sdk, wire, subscription_id=sub_id, limit=10)
    found = [i for i in items if i["periodStart"] == renewal]
    assert len(found) == 1, items
    assert INVOICE_ID.match(found[0]["id"]), found[0]
    return found[0]


def expect_charge_failed(wire, call: Callable[[], Any], path: str, invoice_id: str, decline: dict[str, str]) -> dict[str, Any]:
    """A manual attempt that must be declined: ``402 charge_failed`` on the SDK error and on the
    wire, the request line (no body) and the details, kept by CommetAPIError. Returns them."""
    try:
        call()
    except CommetAPIError as error:
        assert (error.status_code, error.code, error.type, str(error)) == (
            402,
            "charge_failed",
            "billing_error",
            decline["message"],
        )
        assert request_line(wire.last) == f"POST /api/v1{path}"
        assert wire.last.request_body is None
        wire_error = assert_wire_error(wire.last, 402, "charge_failed", "billing_error")
        assert (wire_error["message"], wire_error["param"]) == (decline["message"], None)
        details = wire_error["details"]
        assert TRANSACTION_ID.fullmatch(details["transactionId"]), details
        assert RECOVER_URL.fullmatch(details["recoveryUrl"]), details
        assert details == {
            "invoiceId": invoice_id,
            "transactionId": details["transactionId"],
            "failureCode": decline["code"],
            "failureMessage": decline["message"],
            "recoveryUrl": details["recoveryUrl"],
        }
        assert error.details == details, "CommetAPIError.details"
        return details
    raise AssertionError(f"expected 402 charge_failed from {path}, the call succeeded")


def expect_limited(wire, call: Callable[[], Any], path: str, resets_at: str) -> None:
    """A manual attempt over the day's three: ``429 rate_limited`` with {limit, resetsAt}, no
    Retry-After, and exactly one request (the SDK did not retry)."""
    before = len(wire.exchanges)
    error = expect_api_error(wire, call, status=429, code="rate_limited", type="rate_limit_error")
    assert error["details"] == {"limit": 3, "resetsAt": resets_at}, error
    assert "retry-after" not in wire.last.headers, "no Retry-After"
    assert [request_line(e) for e in wire.exchanges[before:]] == [f"POST /api/v1{path}"], "sent once: P9 does not retry this 429"


def advance(sdk, wire, target: str) -> list[dict[str, Any]]:
    """Moves the clock to ``target``, every deadline due running; returns the run's items."""
    run = sdk.test_clock.advance(frozen_time=target)
    assert request_line(wire.last) == "POST /api/v1/test-clock"
    assert wire.last.request_body == {"frozenTime": target}
    assert wire.last.status == 202, wire.last.body
    body = wire.last.body
    assert (body["status"], body["targetTime"], body["failedDeadlineCount"], body["error"]) == (
        "completed",
        target,
        0,
        None,
    ), body
    assert isinstance(run, sdk_types.TestClockRun)  # imported as a module: pytest would try to collect Test*
    assert [(i.kind, i.due_at, i.subscription_id, i.outcome, i.invoice_id) for i in run.items] == [
        (i["kind"], i["dueAt"], i["subscriptionId"], i["outcome"], i["invoiceId"]) for i in body["items"]
    ]
    return body["items"]


def items_of(items: list[dict[str, Any]], sub_id: str) -> list[dict[str, Any]]:
    return [i for i in items if i["subscriptionId"] == sub_id]


def run_item(kind: str, due_at: str, customer, sub_id: str, invoice: dict[str, Any], outcome: str) -> dict[str, Any]:
    """A completed run item of one of our subscriptions."""
    return {
        "kind": kind,
        "status": "completed",
        "dueAt": due_at,
        "subscriptionId": sub_id,
        "customerName": customer.full_name,
        "invoiceNumber": invoice["invoiceNumber"],
        "invoiceId": invoice["id"],
        "outcome": outcome,
        "detail": None,
        "error": None,
    }


def signed_deliveries(sdk, receiver, secret: str, sub_id: str, counts: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """Waits until ``receiver`` holds exactly ``counts[event]`` events of each event for this
    subscription (lifecycle.deliveries), verifies each delivery of them with the SDK's signature
    helpers (test_webhooks.assert_signed_delivery) and returns their ``data`` by event."""
    got = deliveries(receiver, sub_id, counts)
    for request in receiver.mine():
        body = request.json or {}
        if body.get("event") in counts and (body.get("data") or {}).get("subscriptionId") == sub_id:
            envelope = assert_signed_delivery(sdk, request, secret=secret, path=receiver.path)
            assert envelope["data"] in got[envelope["event"]]
    return got


def failed_data(
    customer, sub_id: str, invoice: dict[str, Any], decline: dict[str, str], recovery: Any, recovery_url: str
) -> dict[str, Any]:
    """``payment.failed`` data of a declined attempt at ``invoice``."""
    return {
        "invoiceId": invoice["id"],
        "invoiceNumber": invoice["invoiceNumber"],
        "customerId": customer.external_id,
        "subscriptionId": sub_id,
        "provider": "commet",
        "failureCode": decline["code"],
        "failureMessage": decline["message"],
        "recoveryUrl": recovery_url,
        "paymentContext": context("recurring_billing", recovery),
        "paymentMethod": "card",
        "subPaymentMethod": "credit_card",
    }


def recovered_data(customer, sub_id: str, invoice: dict[str, Any]) -> dict[str, Any]:
    """``payment.recovered`` data of a paid past-due invoice."""
    return {
        "invoiceId": invoice["id"],
        "invoiceNumber": invoice["invoiceNumber"],
        "invoiceTotal": invoice["total"],
        "customerId": customer.external_id,
        "subscriptionId": sub_id,
        "provider": "commet",
        "paymentMethod": "card",
        "subPaymentMethod": "credit_card",
    }


def test_a_declined_renewal_is_recovered_by_a_card_saved_while_past_due(sandbox, wire, receiver):
    secret = create_endpoint(sandbox, wire, receiver, EVENTS)["secretKey"]
    plan = plain_plan(sandbox, "Dunning", PRICE)
    start = next_first_of_month(clock_now(sandbox))
    advance(sandbox, wire, start)

    # ---- Creation charges the default card at once; without one the subscription waits for its
    # checkout, and canceling it then voids its invoice ---------------------------------------------
    customer = new_customer(sandbox, "dunning")
    create = {"customer_id": customer.id, "plan_code": plan.code, "billing_interval": "monthly"}
    sandbox.subscriptions.create(**create)
    waiting = wire.last.body
    assert (waiting["status"], waiting["checkoutProvider"], waiting["nextBillingDate"]) == ("pending_payment", "commet", None)
    assert CHECKOUT_URL.fullmatch(waiting["checkoutUrl"] or ""), waiting
    status, checkout = hosted(waiting["checkoutUrl"])
    assert (status, checkout["kind"], checkout["status"], checkout["amount"]) == (200, "checkout", "open", PRICE), checkout
    assert invoice_rows(sandbox, wire, waiting["id"]) == [("outstanding", "recurring", PRICE, start)]
    sandbox.subscriptions.cancel(waiting["id"])
    assert (wire.last.body["status"], wire.last.body["checkoutUrl"]) == ("canceled", None), "a checkout is canceled at once"
    assert invoice_rows(sandbox, wire, waiting["id"]) == [("void", "recurring", PRICE, start)]
    assert hosted(waiting["checkoutUrl"])[0] == 410

    card_on_file(sandbox, customer)
    sandbox.subscriptions.create(**create)
    assert request_line(wire.last) == "POST /api/v1/subscriptions"
    sub_id = wire.last.body["id"]
    sub = get_subscription(sandbox, wire, sub_id)
    end, after = add_months(start, 1), add_months(start, 2)
    view = {"original": sub, "customer": customer, "plan": plan}
    assert_plain_subscription(sub, **view, start=start, end=end, now=start)
    assert sub["startDate"] == start
    assert invoice_rows(sandbox, wire, sub_id) == [("paid", "recurring", PRICE, start)]
    first_invoice = renewal_invoice(sandbox, wire, sub_id, start)
    first_paid, link_paid, *none = attempts(sandbox, wire, customer)
    assert none == []
    assert row(first_paid) == ("succeeded", first_invoice["id"], PRICE, start, context("first_subscription_payment"))
    assert (link_paid["status"], link_paid["grossAmount"], link_paid["paymentContext"]["reason"]) == (
        "succeeded",
        1000,
        "one_time_payment",
    )

    # ---- The default card becomes one that declines; the renewal is declined: past_due ---------------
    on_file = save_card(sandbox, wire, sub_id, DECLINES)
    assert (on_file["card"], on_file["subscription"]) == (
        saved_card("visa", "0341"),
        {"id": sub_id, "status": "active", "planName": plan.name},
    )
    owed_items = items_of(advance(sandbox, wire, end), sub_id)
    owed = renewal_invoice(sandbox, wire, sub_id, end)
    assert owed_items == [run_item("billing_cycle", end, customer, sub_id, owed, "past_due")]
    past_due = get_subscription(sandbox, wire, sub_id)
    assert_plain_subscription(past_due, **view, start=end, end=after, now=end, status="past_due", updatedAt=end)
    assert sandbox.subscriptions.get(sub_id).status == "past_due"
    assert invoice_rows(sandbox, wire, sub_id) == [("outstanding", "recurring", PRICE, end), ("paid", "recurring", PRICE, start)]
    assert (owed["periodEnd"], owed["issueDate"], owed["total"]) == (after, end, PRICE)
    declined, *_ = attempts(sandbox, wire, customer)
    assert row(declined) == (
        "failed",
        owed["id"],
        PRICE,
        end,
        context("recurring_billing"),
    ), "the declined attempt names its invoice"
    txn = sandbox.transactions.get(declined["id"])
    assert {k: v for k, v in wire.last.body.items() if k != "availableAt"} == declined
    assert wire.last.body["availableAt"] is None
    assert (txn.status, txn.invoice_id, txn.payment_context.reason, txn.payment_context.recovery) == (
        "failed",
        owed["id"],
        "recurring_billing",
        None,
    )

    events = signed_deliveries(sandbox, receiver, secret, sub_id, {"subscription.past_due": 1, "payment.failed": 1})
    assert events["subscription.past_due"] == [
        {
            "subscriptionId": sub_id,
            "customerId": customer.external_id,
            "status": "past_due",
            "invoiceId": owed["id"],
            "invoiceNumber": owed["invoiceNumber"],
        }
    ]
    [renewal_failure] = events["payment.failed"]
    assert RECOVER_URL.fullmatch(renewal_failure["recoveryUrl"]), renewal_failure
    assert renewal_failure == failed_data(customer, sub_id, owed, CARD_DECLINED, None, renewal_failure["recoveryUrl"])

    # ---- A recovery link: a fresh token each time; its page shows the invoice and the card ----------
    link = recovery_link(sandbox, wire, sub_id)
    assert recovery_link(sandbox, wire, sub_id)["token"] != link["token"], "each call mints a fresh token"
    page = open_page(plan, sub_id, owed, saved_card("visa", "0341"))
    assert recover_page(link["url"]) == page
    assert recover_page(renewal_failure["recoveryUrl"]) == page, "payment.failed names a working page"

    # ---- Manual attempts from the API, declined: 402 charge_failed and payment.failed ---------------
    retried = expect_charge_failed(
        wire,
        lambda: sandbox.transactions.retry(declined["id"]),
        f"/transactions/{declined['id']}/retry",
        owed["id"],
        CARD_DECLINED,
    )
    reactivated = expect_charge_failed(
        wire, lambda: sandbox.subscriptions.reactivate(sub_id), f"/subscriptions/{sub_id}/reactivate", owed["id"], CARD_DECLINED
    )
    declined_now = attempts(sandbox, wire, customer)
    assert len(declined_now) == 5
    assert sorted(t["id"] for t in declined_now[:3]) == sorted(
        [declined["id"], retried["transactionId"], reactivated["transactionId"]]
    ), "each attempt is a transaction of its own"
    assert [t for t in declined_now[:3] if t["id"] == declined["id"]] == [declined], "the failed one never changes"
    assert [row(t) for t in declined_now[:3] if t["id"] != declined["id"]] == [
        ("failed", owed["id"], PRICE, end, context("recurring_billing", MANUAL))
    ] * 2
    assert get_subscription(sandbox, wire, sub_id)["status"] == "past_due"
    events = signed_deliveries(sandbox, receiver, secret, sub_id, {"payment.failed": 3})
    for details in (retried, reactivated):
        [data] = [d for d in events["payment.failed"] if d["recoveryUrl"] == details["recoveryUrl"]]
        assert data == failed_data(
            customer, sub_id, owed, CARD_DECLINED, MANUAL, details["recoveryUrl"]
        ), "announced with the page of the answer"

    # ---- A card refused on the card-update page changes nothing; a good one pays at once -----------
    update = sandbox.subscriptions.update_payment_method(sub_id)
    status, refused = hosted(update.checkout_url, card_fields(REFUSED))
    assert (status, refused["status"], refused["error"], refused["card"]) == (
        200,
        "open",
        CARD_DECLINED,
        saved_card("visa", "0341"),
    )
    assert len(attempts(sandbox, wire, customer)) == 5, "a refused card makes no attempt"
    saved = save_card(sandbox, wire, sub_id, VISA)  # the day's third manual attempt
    assert saved["card"] == saved_card("visa", "4242")
    recovered = get_subscription(sandbox, wire, sub_id)
    assert_plain_subscription(recovered, **view, start=end, end=after, now=end, updatedAt=end)
    assert invoice_rows(sandbox, wire, sub_id) == [("paid", "recurring", PRICE, end), ("paid", "recurring", PRICE, start)]
    paid, *rest = attempts(sandbox, wire, customer)
    assert row(paid) == ("succeeded", owed["id"], PRICE, end, context("recurring_billing", MANUAL))
    assert rows(rest) == rows(declined_now)
    events = signed_deliveries(
        sandbox, receiver, secret, sub_id, {"payment.recovered": 1, "payment.failed": 3, "subscription.past_due": 1}
    )
    assert events["payment.recovered"] == [recovered_data(customer, sub_id, owed)]

    # ---- Nothing is owed any more --------------------------------------------------------------------
    expect_api_error(wire, lambda: sandbox.transactions.retry(declined["id"]), **NO_OUTSTANDING)
    expect_validation_error(wire, lambda: sandbox.transactions.retry(paid["id"]), "id")
    expect_api_error(
        wire,
        lambda: sandbox.transactions.retry(UNKNOWN_TRANSACTION),
        status=404,
        code="transaction_not_found",
        type="not_found_error",
    )
    assert request_line(wire.last) == f"POST /api/v1/transactions/{UNKNOWN_TRANSACTION}/retry"
    expect_api_error(wire, lambda: sandbox.subscriptions.create_recovery_link(sub_id), **NOT_ACTIVE)
    expect_api_error(wire, lambda: sandbox.subscriptions.reactivate(sub_id), **INVALID_STATUS)
    for url in (link["url"], renewal_failure["recoveryUrl"]):
        assert hosted(url)[0] == 410, "the page has done its work"
    assert len(attempts(sandbox, wire, customer)) == 6, "the refusals charged nothing"

    # ---- The schedule was dropped: nothing runs on the retry days -----------------------------------
    assert items_of(advance(sandbox, wire, shift(end, 7 * DAY)), sub_id) == []
    assert get_subscription(sandbox, wire, sub_id)["status"] == "active"
    signed_deliveries(
        sandbox, receiver, secret, sub_id, {"payment.recovered": 1, "payment.failed": 3, "subscription.past_due": 1}
    )


def test_one_renewal_day_five_customers_page_limit_retry_reactivate_recovered_exhausted(sandbox, wire, receiver):
    secret = create_endpoint(sandbox, wire, receiver, EVENTS)["secretKey"]
    plan = plain_plan(sandbox, "Dunning", PRICE)
    start = next_first_of_month(clock_now(sandbox))
    advance(sandbox, wire, start)
    renewal = add_months(start, 1)

    def day(n: int) -> str:
        return shift(renewal, n * DAY)

    # B pays on the recovery page; C runs out of retries; D and E use up a day, then a retry (D)
    # and a reactivation (E) pay the next day; F's scheduled retry pays.
    names = ["B", "C", "D", "E", "F"]
    tags = {
        "B": "dunning-page",
        "C": "dunning-exhausted",
        "D": "dunning-retry",
        "E": "dunning-reactivate",
        "F": "dunning-scheduled",
    }
    customers: dict[str, Any] = {}
    subs: dict[str, dict[str, Any]] = {}
    for name in names:
        customers[name], subs[name] = subscribe(sandbox, wire, plan, tags[name])
    ids = {name: subs[name]["id"] for name in names}
    assert save_card(sandbox, wire, ids["B"], NO_FUNDS)["card"] == saved_card("visa", "9995")
    for name in "CDEF":
        assert save_card(sandbox, wire, ids[name], DECLINES)["card"] == saved_card("visa", "0341")

    # ---- The renewal day: all five declined --------------------------------------------------------
    items = advance(sandbox, wire, renewal)
    owed = {name: renewal_invoice(sandbox, wire, ids[name], renewal) for name in names}
    for name in names:
        assert items_of(items, ids[name]) == [
            run_item("billing_cycle", renewal, customers[name], ids[name], owed[name], "past_due")
        ]
        assert get_subscription(sandbox, wire, ids[name])["status"] == "past_due"

    # ---- B: the recovery page — a refused card, the saved card declined, a new card pays -----------
    link = recovery_link(sandbox, wire, ids["B"])
    page = open_page(plan, ids["B"], owed["B"], saved_card("visa", "9995"))
    assert recover_page(link["url"]) == page
    assert pay_with(link["url"], REFUSED) == page | {"error": CARD_DECLINED}, "refused when saving: nothing charged"
    assert pay_saved(link["url"]) == page | {"error": INSUFFICIENT}
    assert pay_with(link["url"], MASTERCARD) == page | {
        "status": "succeeded",
        "subscription": page["subscription"] | {"status": "active"},
        "card": saved_card("mastercard", "4444"),
    }
    assert hosted(link["url"])[0] == 410, "paid: the page is gone"
    assert hosted(link["url"], {"action": "pay_saved"})[0] == 410
    assert get_subscription(sandbox, wire, ids["B"])["status"] == "active"
    assert renewal_invoice(sandbox, wire, ids["B"], renewal)["status"] == "paid"
    b_paid, b_declined, b_renewal, *_ = attempts(sandbox, wire, customers["B"])
    assert [row(b_paid), row(b_declined), row(b_renewal)] == [
        ("succeeded", owed["B"]["id"], PRICE, renewal, context("recurring_billing", MANUAL)),
        ("failed", owed["B"]["id"], PRICE, renewal, context("recurring_billing", MANUAL)),
        ("failed", owed["B"]["id"], PRICE, renewal, context("recurring_billing")),
    ]
    events = signed_deliveries(sandbox, receiver, secret, ids["B"], {"payment.recovered": 1, "payment.failed": 1})
    assert events["payment.recovered"] == [recovered_data(customers["B"], ids["B"], owed["B"])]
    assert events["payment.failed"][0]["failureCode"] == "insufficient_funds", "the page's own decline sends no payment.failed"

    # ---- Day 1: the first retry, declined for the four still past due ------------------------------
    items = advance(sandbox, wire, day(1))
    assert items_of(items, ids["B"]) == []
    for name in "CDEF":
        assert items_of(items, ids[name]) == [run_item("dunning_retry", day(1), customers[name], ids[name], owed[name], "failed")]

    # D: three manual attempts declined, then 429 on every way to try again that day
    [d_failed] = [t for t in attempts(sandbox, wire, customers["D"]) if t["status"] == "failed" and t["createdAt"] == renewal]
    assert row(d_failed)[4] == context("recurring_billing")
    retry_path = f"/transactions/{d_failed['id']}/retry"
    expect_charge_failed(wire, lambda: sandbox.transactions.retry(d_failed["id"]), retry_path, owed["D"]["id"], CARD_DECLINED)
    expect_charge_failed(
        wire,
        lambda: sandbox.subscriptions.reactivate(ids["D"]),
        f"/subscriptions/{ids['D']}/reactivate",
        owed["D"]["id"],
        CARD_DECLINED,
    )
    d_link = recovery_link(sandbox, wire, ids["D"])
    d_page = open_page(plan, ids["D"], owed["D"], saved_card("visa", "0341"))
    assert pay_saved(d_link["url"]) == d_page | {"error": CARD_DECLINED}
    d_attempts = attempts(sandbox, wire, customers["D"])
    resets_at = day(2)
    expect_limited(wire, lambda: sandbox.transactions.retry(d_failed["id"]), retry_path, resets_at)
    expect_limited(wire, lambda: sandbox.subscriptions.reactivate(ids["D"]), f"/subscriptions/{ids['D']}/reactivate", resets_at)
    limited = {"code": "rate_limited", "message": f"Too many payment attempts today. Try again after {resets_at}."}
    assert pay_saved(d_link["url"]) == d_page | {"error": limited}
    # a good card is saved all the same, without an attempt: still past due
    d_saved = save_card(sandbox, wire, ids["D"], VISA)
    assert (d_saved["card"], d_saved["subscription"]["status"]) == (saved_card("visa", "4242"), "past_due")
    assert rows(attempts(sandbox, wire, customers["D"])) == rows(d_attempts), "no attempt over the limit"
    assert recover_page(d_link["url"]) == d_page | {"card": saved_card("visa", "4242")}

    # E and F: the day used up on the recovery page, then a good card saved
    for name in "EF":
        x_link = recovery_link(sandbox, wire, ids[name])
        x_page = open_page(plan, ids[name], owed[name], saved_card("visa", "0341"))
        for _ in range(3):
            assert pay_saved(x_link["url"]) == x_page | {"error": CARD_DECLINED}
        assert pay_saved(x_link["url"]) == x_page | {"error": limited}
        assert save_card(sandbox, wire, ids[name], VISA)["subscription"]["status"] == "past_due"

    # ---- Day 2: nothing is due; a retry (D) and a reactivation (E) pay -------------------------------
    items = advance(sandbox, wire, day(2))
    assert [items_of(items, ids[name]) for name in names] == [[]] * 5, "nothing is due on day 2"
    retry = sandbox.transactions.retry(d_failed["id"])
    assert request_line(wire.last) == f"POST /api/v1{retry_path}"
    assert wire.last.request_body is None
    assert wire.last.status == 200, wire.last.body
    assert wire.last.body == {
        "originalTransactionId": d_failed["id"],
        "invoiceId": owed["D"]["id"],
        "status": "succeeded",
        "object": "transaction_retry",
        "livemode": False,
    }
    assert isinstance(retry, TransactionRetry)
    assert (retry.original_transaction_id, retry.invoice_id, retry.status, retry.object, retry.livemode) == (
        d_failed["id"],
        owed["D"]["id"],
        "succeeded",
        "transaction_retry",
        False,
    )
    d_paid, *d_before = attempts(sandbox, wire, customers["D"])
    assert row(d_paid) == ("succeeded", owed["D"]["id"], PRICE, day(2), context("recurring_billing", MANUAL))
    assert d_paid["id"] != d_failed["id"], "a new attempt; the failed one never changes"
    assert d_failed in d_before
    assert get_subscription(sandbox, wire, ids["D"])["status"] == "active"
    assert renewal_invoice(sandbox, wire, ids["D"], renewal)["status"] == "paid"
    assert hosted(d_link["url"])[0] == 410

    reactivated = sandbox.subscriptions.reactivate(ids["E"])
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{ids['E']}/reactivate"
    assert wire.last.request_body is None
    assert wire.last.body == {
        "subscriptionId": ids["E"],
        "invoiceId": owed["E"]["id"],
        "status": "succeeded",
        "object": "subscription_reactivation",
        "livemode": False,
    }, "the answer names the past-due invoice"
    assert isinstance(reactivated, ReactivatedSubscription)
    assert (reactivated.subscription_id, reactivated.invoice_id, reactivated.status, reactivated.offer_application) == (
        ids["E"],
        owed["E"]["id"],
        "succeeded",
        None,
    )
    e_back = get_subscription(sandbox, wire, ids["E"])
    assert_plain_subscription(
        e_back,
        original=subs["E"],
        customer=customers["E"],
        plan=plan,
        start=renewal,
        end=add_months(start, 2),
        now=day(2),
        updatedAt=day(2),
    )
    assert invoice_rows(sandbox, wire, ids["E"]) == [
        ("paid", "recurring", PRICE, renewal),
        ("paid", "recurring", PRICE, start),
    ], "no new invoice: the past-due one is paid"
    assert row(attempts(sandbox, wire, customers["E"])[0]) == (
        "succeeded",
        owed["E"]["id"],
        PRICE,
        day(2),
        context("recurring_billing", MANUAL),
    )

    # ---- Day 3: the second retry — C declined again, F's new card pays ------------------------------
    items = advance(sandbox, wire, day(3))
    assert [items_of(items, ids[name]) for name in "BDE"] == [[], [], []], "the other schedules were dropped"
    assert items_of(items, ids["C"]) == [run_item("dunning_retry", day(3), customers["C"], ids["C"], owed["C"], "failed")]
    assert items_of(items, ids["F"]) == [run_item("dunning_retry", day(3), customers["F"], ids["F"], owed["F"], "recovered")]
    assert get_subscription(sandbox, wire, ids["F"])["status"] == "active"
    assert renewal_invoice(sandbox, wire, ids["F"], renewal)["status"] == "paid"
    assert row(attempts(sandbox, wire, customers["F"])[0]) == (
        "succeeded",
        owed["F"]["id"],
        PRICE,
        day(3),
        context("recurring_billing", retry_context(2)),
    )
    events = signed_deliveries(sandbox, receiver, secret, ids["F"], {"payment.recovered": 1, "payment.failed": 2})
    assert events["payment.recovered"] == [recovered_data(customers["F"], ids["F"], owed["F"])]
    assert get_subscription(sandbox, wire, ids["C"])["status"] == "past_due"

    # ---- Day 7: the third (day 5) and fourth retries declined: C ends, its invoice uncollectible ----
    items = advance(sandbox, wire, day(7))
    assert items_of(items, ids["C"]) == [
        run_item("dunning_retry", day(5), customers["C"], ids["C"], owed["C"], "failed"),
        run_item("dunning_retry", day(7), customers["C"], ids["C"], owed["C"], "exhausted"),
    ]
    assert [items_of(items, ids[name]) for name in "BDEF"] == [[]] * 4
    ended = get_subscription(sandbox, wire, ids["C"])
    assert_plain_subscription(
        ended,
        original=subs["C"],
        customer=customers["C"],
        plan=plan,
        start=renewal,
        end=add_months(start, 2),
        now=day(7),
        status="canceled",
        currentPeriod=None,
        nextBillingDate=None,
        endDate=day(7),
        cancellation={"scheduledAt": day(7), "reason": "dunning_exhausted", "effectiveAt": day(7)},
        updatedAt=day(7),
    )
    assert invoice_rows(sandbox, wire, ids["C"]) == [
        ("uncollectible", "recurring", PRICE, renewal),
        ("paid", "recurring", PRICE, start),
    ]
    c_attempts = attempts(sandbox, wire, customers["C"])
    assert [row(t) for t in c_attempts[:5]] == [
        ("failed", owed["C"]["id"], PRICE, at, context("recurring_billing", recovery))
        for at, recovery in [
            (day(7), retry_context(4)),
            (day(5), retry_context(3)),
            (day(3), retry_context(2)),
            (day(1), retry_context(1)),
            (renewal, None),
        ]
    ], "the renewal and its four retries"
    events = signed_deliveries(
        sandbox,
        receiver,
        secret,
        ids["C"],
        {
            "subscription.past_due": 1,
            "payment.failed": 4,
            "payment.retry_failed": 1,
            "subscription.canceled": 1,
            "payment.recovered": 0,
        },
    )
    failures = sorted(events["payment.failed"], key=lambda d: (d["paymentContext"]["recovery"] or {}).get("attempt", 0))
    assert [d["paymentContext"]["recovery"] for d in failures] == [None, retry_context(1), retry_context(2), retry_context(3)]
    for data in failures:
        assert RECOVER_URL.fullmatch(data["recoveryUrl"]), data
        assert data == failed_data(
            customers["C"], ids["C"], owed["C"], CARD_DECLINED, data["paymentContext"]["recovery"], data["recoveryUrl"]
        )
    assert events["payment.retry_failed"] == [
        {
            "invoiceId": owed["C"]["id"],
            "invoiceNumber": owed["C"]["invoiceNumber"],
            "customerId": customers["C"].external_id,
            "subscriptionId": ids["C"],
            "provider": "commet",
            "reason": "card_declined",
        }
    ]
    [canceled] = events["subscription.canceled"]
    assert (
        canceled["subscriptionId"],
        canceled["customerId"],
        canceled["status"],
        canceled["cancelReason"],
        canceled["endDate"],
    ) == (
        ids["C"],
        customers["C"].external_id,
        "canceled",
        "dunning_exhausted",
        day(7),
    ), canceled
    assert hosted(failures[-1]["recoveryUrl"])[0] == 410, "an ended subscription's page is gone"
    expect_api_error(wire, lambda: sandbox.subscriptions.create_recovery_link(ids["C"]), **NOT_ACTIVE)
    expect_validation_error(wire, lambda: sandbox.transactions.retry(c_attempts[0]["id"]), "id")

    # ---- A declined first charge: C subscribes again with its declining card and waits for its
    # checkout; the declined attempt is kept ---------------------------------------------------------
    sandbox.subscriptions.create(customer_id=customers["C"].id, plan_code=plan.code, billing_interval="monthly")
    again = wire.last.body
    assert (again["status"], again["checkoutProvider"]) == ("pending_payment", "commet"), again
    assert CHECKOUT_URL.fullmatch(again["checkoutUrl"] or ""), again
    first_declined, *earlier = attempts(sandbox, wire, customers["C"])
    assert earlier == c_attempts
    assert (first_declined["status"], first_declined["paymentContext"]["reason"]) == ("failed", "first_subscription_payment")
    sandbox.subscriptions.cancel(again["id"])
    assert wire.last.body["status"] == "canceled"

    # Every other subscription is active and left with a card that pays.
    for name in "BDEF":
        assert get_subscription(sandbox, wire, ids[name])["status"] == "active"
