// Invoice operations through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope).
//
//   invoices.createAdjustment({customerId,amount,description,metadata})  POST /invoices
//   invoices.send({id})                                                   POST /invoices/{id}/send
//   invoices.getDownloadUrl({id})                                         GET  /invoices/{id}/download
//
// The download link is fetched as a browser would, without a key: a PDF while the signature
// holds, 403 once it is changed.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assertTimestamp,
  client,
  DAY_MS,
  expectApiError,
  expectValidationError,
  lastExchange,
  LIVE_KEY,
  requestLine,
  SANDBOX_KEY,
  unwrap,
} from "./helpers.mjs";
import { newCustomer } from "./fixtures.mjs";

const sdk = client(SANDBOX_KEY);
const INVOICE_ID = /^inv_[0-9A-HJKMNP-TV-Z]{26}$/;

test("a credit note is issued, sent and downloaded as a PDF", async () => {
  const customer = await newCustomer(sdk, "adjust");
  const res = await sdk.invoices.createAdjustment({
    customerId: customer.externalId,
    amount: -5000,
    description: "Refund for outage",
    metadata: { ticket: "T-1" },
  });
  assert.equal(requestLine(lastExchange()), "POST /api/v1/invoices");
  assert.deepEqual(JSON.parse(lastExchange().requestBody), {
    customerId: customer.externalId,
    amount: -5000,
    description: "Refund for outage",
    metadata: { ticket: "T-1" },
  });
  assert.equal(res.success, true);
  const note = res.data;
  assert.match(note.id, INVOICE_ID);
  assertTimestamp(note.issueDate);
  assert.deepEqual(
    [note.customerId, note.subscriptionId, note.invoiceType, note.status, note.currency],
    [customer.id, null, "adjustment", "paid", "usd"],
  );
  assert.deepEqual([note.subtotal, note.taxAmount, note.total, note.memo], [-5000, 0, -5000, "Refund for outage"]);
  assert.deepEqual(note.metadata, { ticket: "T-1" });
  assert.deepEqual(
    note.lineItems.map((l) => [l.lineType, l.chargeType, l.quantity, l.unitAmount, l.amount, l.description]),
    [["one_time", "standard", 1, -5000, -5000, "Refund for outage"]],
  );
  assert.deepEqual([note.object, note.livemode], ["invoice", false]);
  const read = unwrap(await sdk.invoices.get({ id: note.id }));
  assert.deepEqual(read, note);

  const sent = unwrap(await sdk.invoices.send({ id: note.id }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/invoices/${note.id}/send`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), {});
  assertTimestamp(sent.sentAt);
  assert.deepEqual(sent, { sent: true, sentAt: sent.sentAt, object: "invoice", livemode: false });

  const link = unwrap(await sdk.invoices.getDownloadUrl({ id: note.id }));
  assert.equal(requestLine(lastExchange()), `GET /api/v1/invoices/${note.id}/download`);
  assert.deepEqual(Object.keys(link).sort(), ["expiresAt", "livemode", "object", "url"]);
  assert.deepEqual([link.object, link.livemode], ["invoice", false]);
  const validFor = Date.parse(link.expiresAt) - Date.parse(sent.sentAt);
  assert.ok(Math.abs(validFor - 7 * DAY_MS) < 60_000, `valid for seven days, got ${validFor} ms`);
  assert.match(link.url, new RegExp(`/files/invoices/${note.id}\\.pdf\\?exp=\\d+&sig=[0-9a-f]{64}$`));

  const file = await fetch(link.url);
  assert.equal(file.status, 200);
  assert.equal(file.headers.get("content-type"), "application/pdf");
  assert.equal(file.headers.get("content-disposition"), `inline; filename="${note.invoiceNumber}.pdf"`);
  const pdf = Buffer.from(await file.arrayBuffer());
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
  const changed = link.url.replace(/sig=([0-9a-f])/, (_, c) => `sig=${c === "0" ? "1" : "0"}`);
  const refused = await fetch(changed);
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error.code, "forbidden");
});

test("a charge is issued paid and bad adjustments are refused", async () => {
  const customer = await newCustomer(sdk, "charge");
  const charge = unwrap(await sdk.invoices.createAdjustment({ customerId: customer.id, amount: 12345, description: "Consulting" }));
  assert.deepEqual([charge.status, charge.total, charge.metadata], ["paid", 12345, {}]);
  await expectValidationError(sdk.invoices.createAdjustment({ customerId: customer.id, amount: 0, description: "x" }), "amount");
  await expectValidationError(sdk.invoices.createAdjustment({ customerId: customer.id, amount: 1.5, description: "x" }), "amount");
  await expectValidationError(sdk.invoices.createAdjustment({ customerId: customer.id, amount: 100, description: "" }), "description");
  await expectApiError(sdk.invoices.createAdjustment({ customerId: "nobody-at-all", amount: 100, description: "x" }), {
    status: 404,
    code: "customer_not_found",
    type: "not_found_error",
    param: "customerId",
  });
  // The live organization sees neither the customer nor the invoice.
  const live = client(LIVE_KEY);
  await expectApiError(live.invoices.createAdjustment({ customerId: customer.id, amount: 100, description: "x" }), {
    status: 404,
    code: "customer_not_found",
    type: "not_found_error",
  });
  // One at a time: each check reads the wire of its own call.
  for (const call of [() => live.invoices.send({ id: charge.id }), () => live.invoices.getDownloadUrl({ id: charge.id })]) {
    await expectApiError(call(), { status: 404, code: "invoice_not_found", type: "not_found_error" });
  }
  const listed = (await sdk.invoices.list({ customerId: customer.id })).data;
  assert.deepEqual(listed.map((i) => i.id), [charge.id], "refusals issued nothing");
});
