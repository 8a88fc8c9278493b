"""Payments and transactions through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects).

Wire mapping (commet/resources/payments.py, transactions.py; base_url <TALLY_URL>/api/v1):
  payments.create(amount=, currency=, description=, customer_id=, success_url=, metadata=)
                                              POST /payments                JSON body, None dropped
  payments.list(cursor=, limit=, customer_id=)
                                              GET  /payments?customerId=&limit=&cursor=
  payments.get(id)                            GET  /payments/{id}
  payments.cancel(id)                         POST /payments/{id}/cancel    no body
  payments.charge(customer_id=, amount=, currency=, description=, metadata=)
                                              POST /payments/charge
  transactions.list(cursor=, limit=, status=, customer_email=)
                                              GET  /transactions?status=&customerEmail=
  transactions.get(id)                        GET  /transactions/{id}
  transactions.refund(id)                     POST /transactions/{id}/refund  no body -> Refund
Body keys are camel-cased recursively (metadata keys too), so the metadata keys here are single
words.

A link is paid on Tally's hosted page, as a browser would, without a key: ``POST {url}`` with
``{action:"pay", cardNumber, expMonth, expYear, cvc, attempt}`` answers the page's JSON state.
Sandbox cards: 4242… pays, 4000…0002 is declined.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx

from catalog import new_customer, seat_plan
from support import (
    CUSTOMER_ID,
    assert_direct_list,
    expect_api_error,
    expect_validation_error,
    instant,
    request_line,
    unique,
)

_ULID = "[0-9A-HJKMNP-TV-Z]{26}"
PAYMENT_ID = re.compile(f"pay_{_ULID}")
TRANSACTION_ID = re.compile(f"txn_{_ULID}")
REFUND_ID = re.compile(f"re_{_ULID}")
INVOICE_ID = re.compile(f"inv_{_ULID}")
TALLY_URL = os.environ["TALLY_URL"].rstrip("/")
# A link's page: {publicBaseUrl}/pay/tok_…, and the tests' server is its own public base.
PAY_URL = re.compile(re.escape(TALLY_URL) + r"/pay/tok_[^/?#]+")

VISA = "4242424242424242"
DECLINED = "4000000000000002"

PAGE_KEYS = {"kind", "status", "livemode", "amount", "currency", "description", "invoice", "subscription", "card", "error", "redirectUrl"}
NO_PAYMENT = "pay_01JAAAAAAAAAAAAAAAAAAAAAAA"
NO_TRANSACTION = "txn_01JAAAAAAAAAAAAAAAAAAAAAAA"


def page(url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POSTs JSON to the hosted page (no API key) and returns its checked JSON state."""
    response = httpx.post(url, json=body, headers={"Accept": "application/json"})
    assert response.status_code == 200, f"POST {url} -> {response.status_code}: {response.text}"
    state = response.json()
    assert set(state) == PAGE_KEYS, sorted(state)
    assert (state["kind"], state["livemode"], state["subscription"]) == ("pay", False, None)
    return state


def pay(url: str, card_number: str, **extra: str) -> dict[str, Any]:
    """Pays a link on its page with a card; every attempt carries its own nonce."""
    body = {"action": "pay", "cardNumber": card_number, "expMonth": "12", "expYear": "34", "cvc": "123"}
    return page(url, {**body, "attempt": uuid.uuid4().hex, **extra})


def email_params(exchange: Any) -> dict[str, str]:
    return dict(httpx.URL(exchange.url).params)


def assert_transaction_wire(body: Any, *, status: str, amount: int, email: str, invoice_id: str | None, item: bool) -> None:
    """A direct Transaction (``item``: a list item, which has no availableAt), field by field."""
    assert TRANSACTION_ID.fullmatch(body["id"]), body
    instant(body["createdAt"], "createdAt")
    instant(body["updatedAt"], "updatedAt")
    paid = status in ("succeeded", "refunded")
    if paid:
        instant(body["paidAt"], "paidAt")
    expected = {
        "id": body["id"],
        "invoiceId": invoice_id,
        "grossAmount": amount,
        "subtotal": amount,
        "taxAmount": 0,
        "presentmentAmount": None,
        "currency": "usd",
        "provider": "commet",
        "paymentMethod": "card",
        "subPaymentMethod": "credit_card",
        "status": status,
        "customerEmail": email,
        "customerName": body["customerName"],
        "paidAt": body["paidAt"] if paid else None,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
        "paymentContext": body["paymentContext"],
        "object": "transaction",
        "livemode": False,
    }
    if not item:
        expected["availableAt"] = body["paidAt"] if paid else None
    assert set(body) == set(expected), f"extra {set(body) - set(expected)}, missing {set(expected) - set(body)}"
    assert body == expected
    assert body["customerName"] is None or isinstance(body["customerName"], str)
    if paid:
        assert body["paymentContext"]["reason"] == "one_time_payment", body["paymentContext"]


def test_a_link_is_paid_after_a_decline_listed_refunded_once_and_not_canceled(sandbox, wire):
    customer = new_customer(sandbox, "pay-link")
    success_url = "https://example.test/thanks"
    created = sandbox.payments.create(
        customer_id=customer.id,
        amount=2500,
        currency="usd",
        description="Annual report",
        success_url=success_url,
        metadata={"order": "A-1"},
    )
    assert request_line(wire.last) == "POST /api/v1/payments"
    assert wire.last.request_body == {
        "customerId": customer.id,
        "amount": 2500,
        "currency": "usd",
        "description": "Annual report",
        "successUrl": success_url,
        "metadata": {"order": "A-1"},
    }
    assert wire.last.status == 200, wire.last.body
    body = wire.last.body
    assert PAYMENT_ID.fullmatch(created.id), created.id
    assert PAY_URL.fullmatch(body["url"]), body["url"]
    assert instant(body["expiresAt"], "expiresAt") - instant(body["createdAt"], "createdAt") == timedelta(days=1)
    assert body == {
        "id": created.id,
        "customerId": customer.id,
        "kind": "link",
        "status": "pending",
        "provider": "commet",
        "amountSubtotal": 2500,
        "taxAmount": 0,
        "amountTotal": 2500,
        "currency": "usd",
        "description": "Annual report",
        "metadata": {"order": "A-1"},
        "url": body["url"],
        "expiresAt": body["expiresAt"],
        "paymentContext": body["paymentContext"],
        "createdAt": body["createdAt"],
        "updatedAt": body["createdAt"],
        "object": "payment",
        "livemode": False,
    }
    assert body["paymentContext"] is None or body["paymentContext"]["reason"] == "one_time_payment"
    assert (created.kind, created.status, created.amount_total, created.url) == ("link", "pending", 2500, body["url"])
    assert sandbox.payments.get(created.id) == created
    assert request_line(wire.last) == f"GET /api/v1/payments/{created.id}"
    listed = sandbox.payments.list(customer_id=customer.id)
    assert request_line(wire.last) == f"GET /api/v1/payments?customerId={customer.id}"
    assert assert_direct_list(wire.last.body) == [body]
    assert [p.id for p in listed.data] == [created.id]

    # A declined card: the page stays open with the error, the payment is failed and still payable.
    declined = pay(created.url, DECLINED)
    assert (declined["status"], declined["amount"], declined["currency"], declined["description"], declined["invoice"]) == (
        "open",
        2500,
        "usd",
        "Annual report",
        None,
    )
    assert declined["error"]["code"] == "card_declined", declined["error"]
    assert sandbox.payments.get(created.id).status == "failed"

    # A good card: paid, with a one-time invoice.
    paid = pay(created.url, VISA)
    assert (paid["status"], paid["error"]) == ("succeeded", None), paid
    invoice_ref = paid["invoice"]
    assert set(invoice_ref) == {"id", "invoiceNumber", "total"}, invoice_ref
    assert INVOICE_ID.fullmatch(invoice_ref["id"]) and invoice_ref["invoiceNumber"], invoice_ref
    assert invoice_ref["total"] == 2500
    assert (paid["card"]["brand"], paid["card"]["last4"]) == ("visa", "4242"), paid["card"]
    assert paid["redirectUrl"] in (None, success_url)
    succeeded = sandbox.payments.get(created.id)
    assert (succeeded.status, succeeded.kind, succeeded.amount_total, succeeded.customer_id) == ("succeeded", "link", 2500, customer.id)
    assert wire.last.body["paymentContext"]["reason"] == "one_time_payment", wire.last.body["paymentContext"]
    sandbox.invoices.get(invoice_ref["id"])
    invoice = wire.last.body
    assert (invoice["customerId"], invoice["invoiceType"], invoice["status"], invoice["total"], invoice["invoiceNumber"]) == (
        customer.id,
        "one_time_payment",
        "paid",
        2500,
        invoice_ref["invoiceNumber"],
    )

    # Both attempts, newest first.
    listed_txns = sandbox.transactions.list(customer_email=customer.email)
    assert request_line(wire.last).startswith("GET /api/v1/transactions?")
    assert email_params(wire.last) == {"customerEmail": customer.email}
    items = assert_direct_list(wire.last.body)
    assert len(items) == 2, items
    won, lost = items
    assert_transaction_wire(won, status="succeeded", amount=2500, email=customer.email, invoice_id=invoice_ref["id"], item=True)
    assert_transaction_wire(lost, status="failed", amount=2500, email=customer.email, invoice_id=None, item=True)
    assert [(t.id, t.status) for t in listed_txns.data] == [(won["id"], "succeeded"), (lost["id"], "failed")]
    failed_only = sandbox.transactions.list(status="failed", customer_email=customer.email.upper())
    assert email_params(wire.last) == {"status": "failed", "customerEmail": customer.email.upper()}
    assert [t.id for t in failed_only.data] == [lost["id"]], "customerEmail matches without regard to case"
    txn = sandbox.transactions.get(won["id"])
    assert request_line(wire.last) == f"GET /api/v1/transactions/{won['id']}"
    assert_transaction_wire(wire.last.body, status="succeeded", amount=2500, email=customer.email, invoice_id=invoice_ref["id"], item=False)
    assert {k: v for k, v in wire.last.body.items() if k != "availableAt"} == won
    assert (txn.id, txn.status, txn.gross_amount, txn.payment_method, txn.sub_payment_method) == (
        won["id"],
        "succeeded",
        2500,
        "card",
        "credit_card",
    )

    # Refunds: never a failed attempt; the paid one once.
    expect_validation_error(wire, lambda: sandbox.transactions.refund(lost["id"]), "id")
    refund = sandbox.transactions.refund(won["id"])
    assert request_line(wire.last) == f"POST /api/v1/transactions/{won['id']}/refund"
    assert REFUND_ID.fullmatch(refund.id), refund.id
    assert wire.last.body == {
        "id": refund.id,
        "transactionId": won["id"],
        "amount": 2500,
        "currency": "usd",
        "chargeId": wire.last.body["chargeId"],
        "status": "succeeded",
        "reason": "requested_by_customer",
        "object": "refund",
        "livemode": False,
    }
    assert wire.last.body["chargeId"].startswith("ch_sandbox_"), wire.last.body["chargeId"]
    assert (refund.transaction_id, refund.amount, refund.status, refund.reason) == (won["id"], 2500, "succeeded", "requested_by_customer")
    assert sandbox.transactions.get(won["id"]).status == "refunded"
    error = expect_api_error(wire, lambda: sandbox.transactions.refund(won["id"]), status=409, code="duplicate", type="conflict_error")
    assert error["details"]["refundId"] == refund.id, error

    # A paid link cannot be canceled.
    expect_api_error(
        wire, lambda: sandbox.payments.cancel(created.id), status=409, code="payment_not_cancelable", type="conflict_error"
    )
    assert sandbox.payments.get(created.id).status == "succeeded"


def test_an_open_link_is_canceled_once_and_stays_canceled(sandbox, wire):
    customer = new_customer(sandbox, "pay-cancel")
    # By externalId, currency in any case.
    link = sandbox.payments.create(customer_id=customer.external_id, amount=990, currency="USD", description="Sticker pack")
    created = wire.last.body
    assert (link.customer_id, link.currency, link.status, link.kind) == (customer.id, "usd", "pending", "link")
    canceled = sandbox.payments.cancel(link.id)
    assert request_line(wire.last) == f"POST /api/v1/payments/{link.id}/cancel"
    assert wire.last.request_body is None
    body = wire.last.body
    instant(body["updatedAt"], "updatedAt")
    assert body == {**created, "status": "canceled", "updatedAt": body["updatedAt"], "paymentContext": body["paymentContext"]}
    assert canceled.status == "canceled"
    again = sandbox.payments.cancel(link.id)
    assert wire.last.status == 200
    assert wire.last.body == body, "canceling a canceled link changes nothing"
    assert again == canceled
    assert sandbox.payments.get(link.id) == canceled

    retried = sandbox.payments.create(customer_id=customer.id, amount=1200, currency="usd", description="Poster")
    assert pay(retried.url, DECLINED)["error"]["code"] == "card_declined"
    assert sandbox.payments.get(retried.id).status == "failed"
    assert sandbox.payments.cancel(retried.id).status == "canceled"
    listed = sandbox.payments.list(customer_id=customer.id)
    assert [(p.id, p.status) for p in listed.data] == [(retried.id, "canceled"), (link.id, "canceled")], "newest first"


def test_a_charge_needs_a_subscription_and_a_saved_card(sandbox, wire):
    sp = seat_plan(sandbox)
    customer = new_customer(sandbox, "pay-charge")
    sandbox.subscriptions.create(customer_id=customer.id, plan_id=sp.plan.id)
    params: dict[str, Any] = {"amount": 1500, "currency": "usd", "description": "Extra report", "metadata": {"report": "R-7"}}
    expect_api_error(
        wire,
        lambda: sandbox.payments.charge(customer_id=customer.id, **params),
        status=422,
        code="no_payment_method",
        type="conflict_error",
    )

    # Paying a link saves the card as the customer's default.
    link = sandbox.payments.create(customer_id=customer.id, amount=1000, currency="usd", description="Card on file")
    assert pay(link.url, VISA)["status"] == "succeeded"

    charge = sandbox.payments.charge(customer_id=customer.id, **params)
    assert request_line(wire.last) == "POST /api/v1/payments/charge"
    assert wire.last.request_body == {"customerId": customer.id, **params}
    body = wire.last.body
    assert PAYMENT_ID.fullmatch(charge.id), charge.id
    instant(body["createdAt"], "createdAt")
    instant(body["updatedAt"], "updatedAt")
    assert body == {
        "id": charge.id,
        "customerId": customer.id,
        "kind": "charge",
        "status": "succeeded",
        "provider": "commet",
        "amountSubtotal": 1500,
        "taxAmount": 0,
        "amountTotal": 1500,
        "currency": "usd",
        "description": "Extra report",
        "metadata": {"report": "R-7"},
        "url": None,
        "expiresAt": None,
        "paymentContext": body["paymentContext"],
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
        "object": "payment",
        "livemode": False,
    }
    assert (charge.kind, charge.status, charge.url, charge.expires_at) == ("charge", "succeeded", None, None)
    assert sandbox.payments.get(charge.id) == charge
    assert [p.id for p in sandbox.payments.list(customer_id=customer.id).data] == [charge.id, link.id], "newest first"
    newest = sandbox.transactions.list(customer_email=customer.email, limit=1).data
    assert [(t.status, t.gross_amount, t.customer_email) for t in newest] == [("succeeded", 1500, customer.email)]
    expect_api_error(
        wire, lambda: sandbox.payments.cancel(charge.id), status=409, code="payment_not_cancelable", type="conflict_error"
    )

    # A saved card but no subscription.
    loner = new_customer(sandbox, "pay-nosub")
    loner_link = sandbox.payments.create(customer_id=loner.id, amount=1000, currency="usd", description="Card on file")
    assert pay(loner_link.url, VISA)["status"] == "succeeded"
    expect_api_error(
        wire,
        lambda: sandbox.payments.charge(customer_id=loner.id, **params),
        status=409,
        code="subscription_required",
        type="conflict_error",
    )
    assert [p.id for p in sandbox.payments.list(customer_id=loner.id).data] == [loner_link.id], "no charge was recorded"


def test_bad_payments_are_refused(sandbox, wire):
    customer = new_customer(sandbox, "pay-bad")
    link: dict[str, Any] = {"amount": 5000, "currency": "usd", "description": "Consulting"}
    for change, param in [({"amount": 49}, "amount"), ({"amount": 100_000_000}, "amount"), ({"currency": "eur"}, "currency"), ({"description": ""}, "description")]:
        expect_validation_error(wire, lambda: sandbox.payments.create(**{**link, **change}), param)
    for change, param in [({"amount": 49}, "amount"), ({"currency": "eur"}, "currency")]:
        expect_validation_error(wire, lambda: sandbox.payments.charge(customer_id=customer.id, **{**link, **change}), param)
    nobody = unique("nobody")
    for call in (lambda: sandbox.payments.create(customer_id=nobody, **link), lambda: sandbox.payments.charge(customer_id=nobody, **link)):
        expect_api_error(wire, call, status=404, code="customer_not_found", type="not_found_error")
    for call in (lambda: sandbox.payments.get(NO_PAYMENT), lambda: sandbox.payments.cancel(NO_PAYMENT)):
        expect_api_error(wire, call, status=404, code="payment_not_found", type="not_found_error")
    for call in (lambda: sandbox.transactions.get(NO_TRANSACTION), lambda: sandbox.transactions.refund(NO_TRANSACTION)):
        expect_api_error(wire, call, status=404, code="transaction_not_found", type="not_found_error")
    assert sandbox.payments.list(customer_id=customer.id).data == [], "refusals created nothing"


def test_a_live_organization_has_no_payment_processor(sandbox, live, wire):
    message = "No payment processor is configured for this live organization."
    link: dict[str, Any] = {"amount": 5000, "currency": "usd", "description": "Live link"}
    error = expect_api_error(wire, lambda: live.payments.create(**link), status=409, code="provider_unsupported", type="conflict_error")
    assert (error["message"], error["details"]) == (message, {"mode": "live", "operation": "payments.create"})
    customer = live.customers.create(email=f"{unique('live-pay')}@example.test")
    assert CUSTOMER_ID.match(customer.id)
    error = expect_api_error(
        wire,
        lambda: live.payments.charge(customer_id=customer.id, **link),
        status=409,
        code="provider_unsupported",
        type="conflict_error",
    )
    assert (error["message"], error["details"]) == (message, {"mode": "live", "operation": "payments.charge"})

    sandbox_link = sandbox.payments.create(**link)
    assert sandbox_link.customer_id is None
    live.payments.list(limit=100)
    assert request_line(wire.last) == "GET /api/v1/payments?limit=100"
    listed = assert_direct_list(wire.last.body)
    assert all(p["livemode"] is True for p in listed), "only live payments"
    assert sandbox_link.id not in [p["id"] for p in listed], "the sandbox link is not listed"
    expect_api_error(wire, lambda: live.payments.get(sandbox_link.id), status=404, code="payment_not_found", type="not_found_error")


# Payouts (payments.md §9):
#   payouts.add_bank_account(account_number, account_holder_name, routing_number, account_type, set_default)
#   payouts.request(amount, description)
#   payouts.complete_verification()   -> 410 endpoint_deprecated from 2026-07-24


def account_number() -> str:
    """An account number no other test uses."""
    return "8" + uuid.uuid4().int.__str__()[:11]


def test_payouts_go_to_the_default_account_and_never_above_what_is_available(sandbox, wire):
    number = account_number()
    account = sandbox.payouts.add_bank_account(
        account_number=number, account_holder_name="Jane Doe", routing_number="110000000", account_type="savings", set_default=True
    )
    assert request_line(wire.last) == "POST /api/v1/payouts/bank-accounts"
    assert re.fullmatch(r"pba_[0-9A-HJKMNP-TV-Z]{26}", account.id)
    body = wire.last.body
    assert (body["last4"], body["isDefault"], body["accountType"], body["holderName"], body["object"]) == (
        number[-4:],
        True,
        "savings",
        "Jane Doe",
        "payout_bank_account",
    )
    expect_api_error(
        wire,
        lambda: sandbox.payouts.add_bank_account(account_number=number, account_holder_name="Jane Doe"),
        status=409,
        code="duplicate",
        type="conflict_error",
    )
    customer = new_customer(sandbox, "payout")
    link = sandbox.payments.create(amount=2500, currency="usd", description=unique("Payout source"), customer_id=customer.id)
    assert pay(link.url, "4242424242424242")["status"] == "succeeded"
    payout = sandbox.payouts.request(amount=1000)
    assert request_line(wire.last) == "POST /api/v1/payouts"
    assert (payout.status, payout.amount, payout.fee, payout.net_amount, payout.currency) == ("pending", 1000, 0, 1000, "usd")
    assert wire.last.body["providerTransferId"].startswith("tr_sandbox_")
    error = expect_api_error(
        wire,
        lambda: sandbox.payouts.request(amount=100_000_000_000),
        status=400,
        code="insufficient_balance",
        type="billing_error",
    )
    assert error["details"]["requested"] == 100_000_000_000
    assert error["details"]["available"] < 100_000_000_000
    expect_validation_error(wire, lambda: sandbox.payouts.request(amount=999), "amount")


def test_payout_verification_moved_to_the_dashboard(sandbox, wire):
    expect_api_error(
        wire,
        lambda: sandbox.payouts.complete_verification(),
        status=410,
        code="endpoint_deprecated",
        type="not_found_error",
    )


# The customer portal (payments.md §10.1): portal.get_url(customer_id | email, return_url)
def test_a_portal_link_opens_the_customers_billing_page(sandbox, wire):
    customer = new_customer(sandbox, "portal")
    access = sandbox.portal.get_url(customer_id=customer.id)
    assert request_line(wire.last) == "POST /api/v1/portal/sessions"
    assert wire.last.body == {"portalUrl": access.portal_url, "object": "portal_session", "livemode": False}
    assert re.search(r"/portal/tok_[^/?#]+$", access.portal_url), access.portal_url
    state = httpx.get(access.portal_url, headers={"Accept": "application/json"}).json()
    assert (state["kind"], state["customer"]["email"], state["subscription"], state["invoices"]) == ("portal", customer.email, None, [])
    assert sandbox.portal.get_url(email=customer.email).portal_url.startswith(access.portal_url.split("/portal/")[0])
    expect_validation_error(wire, lambda: sandbox.portal.get_url(), "customerId")
    expect_api_error(
        wire,
        lambda: sandbox.portal.get_url(email=f"{unique('nobody')}@example.test"),
        status=404,
        code="customer_not_found",
        type="not_found_error",
    )


# subscriptions.update_payment_method(id, success_url)
def test_a_card_update_page_saves_the_default_card(sandbox, wire):
    sp = seat_plan(sandbox)
    customer = new_customer(sandbox, "card-update")
    sub = sandbox.subscriptions.create(customer_id=customer.id, plan_id=sp.plan.id)
    update = sandbox.subscriptions.update_payment_method(sub.id, success_url="https://example.test/done")
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub.id}/payment-method/update"
    assert wire.last.body == {"checkoutUrl": update.checkout_url, "object": "checkout_session", "livemode": False}
    assert re.search(r"/payment-method/tok_[^/?#]+$", update.checkout_url), update.checkout_url
    state = httpx.post(
        update.checkout_url,
        json={"cardNumber": "4242424242424242", "expMonth": "12", "expYear": "34", "cvc": "123"},
        headers={"Accept": "application/json"},
    ).json()
    assert (state["status"], state["card"]["last4"], state["redirectUrl"]) == ("succeeded", "4242", "https://example.test/done")
    sandbox.subscriptions.cancel(sub.id, immediate=True)
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.update_payment_method(sub.id),
        status=409,
        code="subscription_not_active",
        type="conflict_error",
    )
