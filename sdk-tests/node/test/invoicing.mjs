// Invoices as @commet/node 7.10.0 sees them (commet-version 2026-07-11, legacy envelope;
// balance.md §5, seats.md §5), shared by test/clock/billing.test.mjs and test/balance.test.mjs.
//
// Wire mapping (dist/index.mjs InvoicesResource; prefix /api/v1):
//   invoices.list({customerId?, status?, subscriptionId?, cursor?, limit?})
//                                     GET /invoices?...   -> legacy paginated list, data = Invoice
//                                     without lineItems (declared ApiResponse<Invoice[]>)
//   invoices.get({id})                GET /invoices/{id}  -> Invoice with lineItems
//   invoices.updateStatus({id, status})  PUT /invoices/{id}/status  body {status}
//                                     -> InvoiceStatus {id, status, updatedAt, object, livemode}
import assert from "node:assert/strict";
import { assertTimestamp, lastExchange, requestLine, sortedKeys, unwrap } from "./helpers.mjs";

export const INVOICE_ID = /^inv_[0-9A-HJKMNP-TV-Z]{26}$/;
export const INVOICE_NUMBER = /^INV-\d{6}$/;
export const SEAT_UNIT_CENTS = 2500; // SEAT_UNIT_PRICE 250000 on the rate scale

export const INVOICE_KEYS = [
  "createdAt",
  "creditApplied",
  "currency",
  "customerId",
  "discountAmount",
  "dueDate",
  "id",
  "invoiceNumber",
  "invoiceType",
  "issueDate",
  "lineItems",
  "livemode",
  "memo",
  "metadata",
  "object",
  "periodEnd",
  "periodStart",
  "planName",
  "poNumber",
  "reference",
  "status",
  "subscriptionId",
  "subtotal",
  "taxAmount",
  "total",
  "updatedAt",
];
/** Legacy list items: the invoice without lineItems (the get-only fields stay). */
export const LEGACY_LIST_ITEM_KEYS = INVOICE_KEYS.filter((k) => k !== "lineItems");
export const LINE_KEYS = [
  "amount",
  "chargeType",
  "description",
  "discountName",
  "discountType",
  "discountValue",
  "featureName",
  "includedAmount",
  "lineType",
  "overageAmount",
  "quantity",
  "unitAmount",
  "usedAmount",
];

/** The sequence number of `INV-000042` (42). */
export function invoiceSeq(number) {
  assert.match(number, INVOICE_NUMBER);
  return Number(number.slice(4));
}

/**
 * seats.md §5: round_half_up(units × unitPrice × daysLeft / periodDays / 100) cents, in exact
 * integer arithmetic (unitPrice on the rate scale, 10000 = $1).
 */
export function trueUpCents(units, unitPrice, daysLeft, periodDays) {
  const numerator = BigInt(units) * BigInt(unitPrice) * BigInt(daysLeft);
  const denominator = BigInt(periodDays) * 100n;
  return Number((2n * numerator + denominator) / (2n * denominator));
}

// Expected lines, without `description` (checked separately).
const NO_DISCOUNT = { discountType: null, discountValue: null, discountName: null };

export function planBaseLine(price) {
  return {
    lineType: "plan_base",
    featureName: null,
    quantity: 1,
    unitAmount: price,
    amount: price,
    includedAmount: null,
    usedAmount: null,
    overageAmount: null,
    ...NO_DISCOUNT,
    chargeType: "advance",
  };
}

/** Extra seats held going into a period (`count` held, `included` of them in the plan). */
export function seatAdvanceLine(feature, { count, included, unitCents = SEAT_UNIT_CENTS }) {
  const extra = count - included;
  return {
    lineType: "feature_seats",
    featureName: feature.name,
    quantity: extra,
    unitAmount: unitCents,
    amount: extra * unitCents,
    includedAmount: included,
    usedAmount: count,
    overageAmount: extra,
    ...NO_DISCOUNT,
    chargeType: "advance",
  };
}

/** A prorated true-up for `units` seats of one seat event (Tally extension `seatEventId`). */
export function trueUpLine(feature, { units, amount, seatEventId, unitCents = SEAT_UNIT_CENTS }) {
  return {
    lineType: "feature_seats",
    featureName: feature.name,
    quantity: units,
    unitAmount: unitCents,
    amount,
    includedAmount: null,
    usedAmount: null,
    overageAmount: null,
    ...NO_DISCOUNT,
    chargeType: "true_up",
    seatEventId,
  };
}

export function topUpLine(cents) {
  return {
    lineType: "one_time",
    featureName: null,
    quantity: 1,
    unitAmount: cents,
    amount: cents,
    includedAmount: null,
    usedAmount: null,
    overageAmount: null,
    ...NO_DISCOUNT,
    chargeType: "standard",
  };
}

/** Checks one invoice line against an expected line (all fields but the description). */
export function assertLine(line, expected, label) {
  const keys = expected.seatEventId === undefined ? LINE_KEYS : [...LINE_KEYS, "seatEventId"].sort();
  assert.deepEqual(sortedKeys(line), keys, `${label}: line fields`);
  const { description, ...rest } = line;
  assert.equal(typeof description, "string", `${label}: description`);
  assert.ok(description.length > 0, `${label}: description is not empty`);
  assert.deepEqual(rest, expected, label);
}

/**
 * Checks a full legacy Invoice (balance.md §5.2) field by field and returns it.
 *   lines:       expected lines (planBaseLine, seatAdvanceLine, trueUpLine, topUpLine), in order
 *   total:       expected total in cents (also checked against the sum of the lines)
 *   issuedAt:    the org time it was issued at (issueDate, dueDate, createdAt, updatedAt)
 */
export function assertInvoice(
  invoice,
  { customer, subscriptionId, invoiceType, planName, periodStart, periodEnd, issuedAt, lines, total },
) {
  assert.deepEqual(sortedKeys(invoice), INVOICE_KEYS, "legacy Invoice fields");
  assert.match(invoice.id, INVOICE_ID);
  assert.match(invoice.invoiceNumber, INVOICE_NUMBER);
  assertTimestamp(invoice.issueDate, "issueDate");
  assertTimestamp(invoice.createdAt, "createdAt");
  assert.ok(Array.isArray(invoice.lineItems), "lineItems");
  assert.equal(invoice.lineItems.length, lines.length, `lines: ${JSON.stringify(invoice.lineItems)}`);
  invoice.lineItems.forEach((line, i) => assertLine(line, lines[i], `${invoice.invoiceNumber} line ${i}`));
  const sum = invoice.lineItems.reduce((acc, line) => acc + line.amount, 0);
  assert.equal(sum, total, "the lines add up to the expected total");
  const { lineItems, ...head } = invoice;
  assert.deepEqual(head, {
    id: invoice.id,
    customerId: customer.id,
    subscriptionId,
    invoiceNumber: invoice.invoiceNumber,
    status: "paid",
    invoiceType,
    currency: "usd",
    subtotal: total,
    discountAmount: 0,
    taxAmount: 0,
    total,
    periodStart,
    periodEnd,
    issueDate: issuedAt,
    dueDate: issuedAt,
    memo: null,
    metadata: {},
    createdAt: issuedAt,
    updatedAt: issuedAt,
    creditApplied: 0,
    planName,
    poNumber: null,
    reference: null,
    object: "invoice",
    livemode: false,
  });
  return invoice;
}

/** `invoices.get` through the SDK, checking the request line; returns the legacy Invoice. */
export async function getInvoice(sdk, id) {
  const invoice = unwrap(await sdk.invoices.get({ id }));
  assert.equal(requestLine(lastExchange()), `GET /api/v1/invoices/${id}`);
  return invoice;
}

/** A legacy list item is the full invoice without lineItems. */
export function assertListItem(item, full) {
  assert.deepEqual(sortedKeys(item), LEGACY_LIST_ITEM_KEYS, "legacy invoice list item fields");
  const { lineItems, ...head } = full;
  assert.deepEqual(item, head);
}
