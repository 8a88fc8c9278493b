"""Invoices as commet-sdk 9.7.0 sees them (commet-version 2026-08-27, direct objects; balance.md §5,
seats.md §5), shared by test_billing.py and test_balance.py.

Wire mapping (commet/resources/invoices.py; base_url <TALLY_URL>/api/v1):
  invoices.list(cursor=, limit=, customer_id=, status=, subscription_id=)
                                     GET   /invoices?...        -> InvoicesListResult (InvoiceListItem)
  invoices.get(id)                   GET   /invoices/{id}       -> Invoice (with line_items)
  invoices.update_status(id, status=)  PATCH /invoices/{id}/status  body {status} -> Invoice
The SDK drops keys its dataclasses do not declare, so Tally's ``seatEventId`` line extension is only
visible on the wire; every check here is made on the raw JSON and then against the SDK object.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from support import assert_direct_list, instant, request_line

INVOICE_ID = re.compile(r"^inv_[0-9A-HJKMNP-TV-Z]{26}$")
INVOICE_NUMBER = re.compile(r"^INV-\d{6}$")
SEAT_UNIT_CENTS = 2500  # SEAT_UNIT_PRICE 250000 on the rate scale

INVOICE_KEYS = {
    "id",
    "customerId",
    "subscriptionId",
    "invoiceNumber",
    "status",
    "invoiceType",
    "currency",
    "subtotal",
    "discountAmount",
    "taxAmount",
    "total",
    "periodStart",
    "periodEnd",
    "issueDate",
    "dueDate",
    "memo",
    "metadata",
    "createdAt",
    "updatedAt",
    "creditApplied",
    "planName",
    "poNumber",
    "reference",
    "lineItems",
    "object",
    "livemode",
}
# Direct InvoiceListItem: no lineItems and none of the get-only fields.
LIST_ITEM_KEYS = INVOICE_KEYS - {"lineItems", "creditApplied", "planName", "poNumber", "reference"}
LINE_KEYS = {
    "lineType",
    "featureName",
    "description",
    "quantity",
    "unitAmount",
    "amount",
    "includedAmount",
    "usedAmount",
    "overageAmount",
    "discountType",
    "discountValue",
    "discountName",
    "chargeType",
}
_NO_DISCOUNT = {"discountType": None, "discountValue": None, "discountName": None}


def invoice_seq(number: str) -> int:
    """The sequence number of ``INV-000042`` (42)."""
    assert INVOICE_NUMBER.match(number), number
    return int(number[4:])


def true_up_cents(units: int, unit_price: int, days_left: int, period_days: int) -> int:
    """seats.md §5: round_half_up(units × unitPrice × daysLeft / periodDays / 100) cents, exactly."""
    numerator = units * unit_price * days_left
    denominator = period_days * 100
    return (2 * numerator + denominator) // (2 * denominator)


# Expected wire lines, without "description" (checked separately).
def plan_base_line(price: int) -> dict[str, Any]:
    return {
        "lineType": "plan_base",
        "featureName": None,
        "quantity": 1,
        "unitAmount": price,
        "amount": price,
        "includedAmount": None,
        "usedAmount": None,
        "overageAmount": None,
        **_NO_DISCOUNT,
        "chargeType": "advance",
    }


def seat_advance_line(feature_name: str, *, count: int, included: int, unit_cents: int = SEAT_UNIT_CENTS) -> dict[str, Any]:
    """Extra seats held going into a period (``count`` held, ``included`` in the plan)."""
    extra = count - included
    return {
        "lineType": "feature_seats",
        "featureName": feature_name,
        "quantity": extra,
        "unitAmount": unit_cents,
        "amount": extra * unit_cents,
        "includedAmount": included,
        "usedAmount": count,
        "overageAmount": extra,
        **_NO_DISCOUNT,
        "chargeType": "advance",
    }


def true_up_line(
    feature_name: str, *, units: int, amount: int, seat_event_id: str, unit_cents: int = SEAT_UNIT_CENTS
) -> dict[str, Any]:
    """A prorated true-up for the seats of one seat event (Tally extension ``seatEventId``)."""
    return {
        "lineType": "feature_seats",
        "featureName": feature_name,
        "quantity": units,
        "unitAmount": unit_cents,
        "amount": amount,
        "includedAmount": None,
        "usedAmount": None,
        "overageAmount": None,
        **_NO_DISCOUNT,
        "chargeType": "true_up",
        "seatEventId": seat_event_id,
    }


def top_up_line(cents: int) -> dict[str, Any]:
    return {
        "lineType": "one_time",
        "featureName": None,
        "quantity": 1,
        "unitAmount": cents,
        "amount": cents,
        "includedAmount": None,
        "usedAmount": None,
        "overageAmount": None,
        **_NO_DISCOUNT,
        "chargeType": "standard",
    }


def assert_line_wire(line: dict[str, Any], expected: dict[str, Any], label: str) -> None:
    keys = LINE_KEYS | ({"seatEventId"} if "seatEventId" in expected else set())
    assert set(line) == keys, f"{label}: line fields {sorted(line)}"
    assert isinstance(line["description"], str) and line["description"], f"{label}: description"
    rest = {k: v for k, v in line.items() if k != "description"}
    assert rest == expected, f"{label}: {line}"


def assert_invoice_wire(
    body: Any,
    *,
    customer: Any,
    subscription_id: str,
    invoice_type: str,
    plan_name: str,
    period_start: str,
    period_end: str,
    issued_at: str,
    lines: list[dict[str, Any]],
    total: int,
) -> dict[str, Any]:
    """Checks a raw direct Invoice (balance.md §5.2) field by field; returns it.
    ``issued_at``: the org time it was issued at (issueDate, dueDate, createdAt, updatedAt)."""
    assert isinstance(body, dict) and "success" not in body, body
    assert set(body) == INVOICE_KEYS, f"Invoice fields: extra {set(body) - INVOICE_KEYS}, missing {INVOICE_KEYS - set(body)}"
    assert INVOICE_ID.match(body["id"]), body["id"]
    assert INVOICE_NUMBER.match(body["invoiceNumber"]), body["invoiceNumber"]
    instant(body["issueDate"], "issueDate")
    instant(body["createdAt"], "createdAt")
    items = body["lineItems"]
    assert isinstance(items, list) and len(items) == len(lines), items
    for i, (line, want) in enumerate(zip(items, lines)):
        assert_line_wire(line, want, f"{body['invoiceNumber']} line {i}")
    assert sum(line["amount"] for line in items) == total, "the lines add up to the expected total"
    head = {k: v for k, v in body.items() if k != "lineItems"}
    assert head == {
        "id": body["id"],
        "customerId": customer.id,
        "subscriptionId": subscription_id,
        "invoiceNumber": body["invoiceNumber"],
        "status": "paid",
        "invoiceType": invoice_type,
        "currency": "usd",
        "subtotal": total,
        "discountAmount": 0,
        "taxAmount": 0,
        "total": total,
        "periodStart": period_start,
        "periodEnd": period_end,
        "issueDate": issued_at,
        "dueDate": issued_at,
        "memo": None,
        "metadata": {},
        "createdAt": issued_at,
        "updatedAt": issued_at,
        "creditApplied": 0,
        "planName": plan_name,
        "poNumber": None,
        "reference": None,
        "object": "invoice",
        "livemode": False,
    }, head
    return body


_SDK_FIELDS = {
    "id": "id",
    "customer_id": "customerId",
    "subscription_id": "subscriptionId",
    "invoice_number": "invoiceNumber",
    "status": "status",
    "invoice_type": "invoiceType",
    "currency": "currency",
    "subtotal": "subtotal",
    "discount_amount": "discountAmount",
    "tax_amount": "taxAmount",
    "total": "total",
    "period_start": "periodStart",
    "period_end": "periodEnd",
    "issue_date": "issueDate",
    "due_date": "dueDate",
    "memo": "memo",
    "metadata": "metadata",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "object": "object",
    "livemode": "livemode",
}
_SDK_GET_ONLY = {
    "credit_applied": "creditApplied",
    "plan_name": "planName",
    "po_number": "poNumber",
    "reference": "reference",
}
_SDK_LINE_FIELDS = {
    "line_type": "lineType",
    "feature_name": "featureName",
    "description": "description",
    "quantity": "quantity",
    "unit_amount": "unitAmount",
    "amount": "amount",
    "included_amount": "includedAmount",
    "used_amount": "usedAmount",
    "overage_amount": "overageAmount",
    "discount_type": "discountType",
    "discount_value": "discountValue",
    "discount_name": "discountName",
    "charge_type": "chargeType",
}


def assert_sdk_invoice(invoice: Any, body: dict[str, Any]) -> None:
    """The SDK's Invoice / InvoiceListItem carries the wire values (snake-cased)."""
    fields = dict(_SDK_FIELDS)
    if "lineItems" in body:
        fields |= _SDK_GET_ONLY
        assert len(invoice.line_items) == len(body["lineItems"])
        for line, raw in zip(invoice.line_items, body["lineItems"]):
            for attr, key in _SDK_LINE_FIELDS.items():
                assert getattr(line, attr) == raw[key], (attr, getattr(line, attr), raw[key])
    for attr, key in fields.items():
        assert getattr(invoice, attr) == body[key], (attr, getattr(invoice, attr), body[key])


def get_invoice(sdk: Any, wire: Any, id: str) -> tuple[Any, dict[str, Any]]:
    """``invoices.get`` through the SDK: (SDK Invoice, raw JSON), checked against each other."""
    invoice = sdk.invoices.get(id)
    assert request_line(wire.last) == f"GET /api/v1/invoices/{id}"
    assert wire.last.status == 200
    body = wire.last.body
    assert_sdk_invoice(invoice, body)
    return invoice, body


def assert_list_item_wire(item: dict[str, Any], full: dict[str, Any]) -> None:
    """A direct list item is the invoice without lineItems and the get-only fields."""
    assert set(item) == LIST_ITEM_KEYS, f"InvoiceListItem fields: {sorted(item)}"
    assert item == {k: v for k, v in full.items() if k in LIST_ITEM_KEYS}


def query_of(exchange: Any) -> dict[str, str]:
    """The query parameters the SDK sent."""
    return dict(httpx.URL(exchange.url).params)


_QUERY_NAMES = {"cursor": "cursor", "limit": "limit", "customer_id": "customerId", "status": "status", "subscription_id": "subscriptionId"}


def list_invoices(sdk: Any, wire: Any, **params: Any) -> tuple[Any, list[dict[str, Any]]]:
    """``invoices.list(**params)``: (SDK InvoicesListResult, raw items), checked against each other
    and against the query the SDK sent."""
    result = sdk.invoices.list(**params)
    assert request_line(wire.last).startswith("GET /api/v1/invoices?"), request_line(wire.last)
    assert query_of(wire.last) == {_QUERY_NAMES[k]: str(v) for k, v in params.items()}
    assert wire.last.status == 200
    items = assert_direct_list(wire.last.body)
    assert result.object == "list"
    assert result.has_more is wire.last.body["hasMore"]
    assert result.next_cursor == wire.last.body.get("nextCursor")
    assert len(result.data) == len(items)
    for sdk_item, raw in zip(result.data, items):
        assert set(raw) == LIST_ITEM_KEYS, f"InvoiceListItem fields: {sorted(raw)}"
        assert_sdk_invoice(sdk_item, raw)
    return result, items
