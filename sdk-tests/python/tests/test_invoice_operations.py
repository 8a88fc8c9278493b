"""Invoice operations through commet-sdk 9.7.0 (`invoices.create_adjustment`, `send`,
`get_download_url`): a credit note and a charge as the SDK parses them and on the wire, the
send, and the signed link to the PDF, fetched without a key until it is changed."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from catalog import new_customer
from support import expect_api_error, expect_validation_error, instant, request_line

INVOICE_ID = re.compile(r"inv_[0-9A-HJKMNP-TV-Z]{26}")


def test_a_credit_note_is_issued_sent_and_downloaded_as_a_pdf(sandbox, wire):
    customer = new_customer(sandbox, "adjust")
    note = sandbox.invoices.create_adjustment(
        customer_id=customer.external_id, amount=-5000, description="Refund for outage", metadata={"ticket": "T-1"}
    )
    assert request_line(wire.last) == "POST /api/v1/invoices"
    assert wire.last.request_body == {
        "customerId": customer.external_id,
        "amount": -5000,
        "description": "Refund for outage",
        "metadata": {"ticket": "T-1"},
    }
    body = wire.last.body
    assert INVOICE_ID.fullmatch(note.id)
    assert (body["customerId"], body["subscriptionId"], body["invoiceType"], body["status"]) == (
        customer.id,
        None,
        "adjustment",
        "paid",
    )
    assert (note.subtotal, note.total, note.memo, note.currency) == (-5000, -5000, "Refund for outage", "usd")
    assert body["metadata"] == {"ticket": "T-1"}
    assert [(l["lineType"], l["chargeType"], l["amount"]) for l in body["lineItems"]] == [("one_time", "standard", -5000)]
    assert sandbox.invoices.get(note.id) == note

    sent = sandbox.invoices.send(note.id)
    assert request_line(wire.last) == f"POST /api/v1/invoices/{note.id}/send"
    assert wire.last.body == {"sent": True, "sentAt": sent.sent_at, "object": "invoice_delivery", "livemode": False}
    assert sent.sent is True

    link = sandbox.invoices.get_download_url(note.id)
    assert request_line(wire.last) == f"POST /api/v1/invoices/{note.id}/download-links"
    assert set(wire.last.body) == {"url", "expiresAt", "object", "livemode"}
    assert (link.object, link.livemode) == ("invoice_download_link", False)
    valid_for = instant(link.expires_at) - instant(sent.sent_at)
    assert abs(valid_for - timedelta(days=7)) < timedelta(minutes=1), valid_for
    assert re.search(rf"/files/invoices/{note.id}\.pdf\?exp=\d+&sig=[0-9a-f]{{64}}$", link.url), link.url

    file = httpx.get(link.url)
    assert file.status_code == 200
    assert file.headers["content-type"] == "application/pdf"
    assert file.headers["content-disposition"] == f'inline; filename="{note.invoice_number}.pdf"'
    assert file.content.startswith(b"%PDF-")
    changed = re.sub(r"sig=([0-9a-f])", lambda m: "sig=" + ("1" if m.group(1) == "0" else "0"), link.url)
    refused = httpx.get(changed)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


def test_bad_adjustments_are_refused_and_other_organizations_see_nothing(sandbox, live, wire):
    customer = new_customer(sandbox, "charge")
    charge = sandbox.invoices.create_adjustment(customer_id=customer.id, amount=12345, description="Consulting")
    assert (charge.status, charge.total, wire.last.body["metadata"]) == ("paid", 12345, {})
    for amount, description, param in [(0, "x", "amount"), (100, "", "description"), (10**11 + 1, "x", "amount")]:
        expect_validation_error(
            wire,
            lambda: sandbox.invoices.create_adjustment(customer_id=customer.id, amount=amount, description=description),
            param,
        )
    expect_api_error(
        wire,
        lambda: sandbox.invoices.create_adjustment(customer_id="nobody-at-all", amount=100, description="x"),
        status=404,
        code="customer_not_found",
        type="not_found_error",
        param="customerId",
    )
    for call in (lambda: live.invoices.send(charge.id), lambda: live.invoices.get_download_url(charge.id)):
        expect_api_error(wire, call, status=404, code="invoice_not_found", type="not_found_error")
    listed = sandbox.invoices.list(customer_id=customer.id)
    assert [i.id for i in listed.data] == [charge.id], "refusals issued nothing"
