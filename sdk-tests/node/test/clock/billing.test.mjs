// Seat billing and invoices through @commet/node 7.10.0 (commet-version 2026-07-11, legacy
// envelope): the worked examples of seats.md §5 (examples.md scenarios 2, 3 and 5) to the cent,
// over three renewals driven by the sandbox test clock.
//
// Runs with the other clock tests, after every non-clock test (sdk-tests/run), one file at a time.
// Nothing assumes a fresh clock: every target is computed from the subscription's own startDate
// (periods from the anchor, catalog.md §6), and the true-up is derived from the actual
// daysLeft / periodDays with the contract's formula; when the first period has 30 days the test
// lands on 15 days left and the amounts are exactly the KB's (1250, 16150).
//
// Wire mapping: invoices.* see ../invoicing.mjs; testClock.advance({frozenTime}) POST /test-clock
// (moves time only, 200 TestClock), then testClock.processBilling() POST
// /test-clock/process-billing renews what is due (a renewal issues the recurring invoice).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addMonths,
  addMs,
  assertLegacyList,
  client,
  DAY_MS,
  daysRemaining,
  expectValidationError,
  lastExchange,
  requestLine,
  SANDBOX_KEY,
  unwrap,
} from "../helpers.mjs";
import {
  assertLegacySubscription,
  INCLUDED_SEATS,
  MONTHLY_PRICE,
  newCustomer,
  SEAT_UNIT_PRICE,
  seatPlan,
} from "../fixtures.mjs";
import {
  assertInvoice,
  assertListItem,
  getInvoice,
  invoiceSeq,
  planBaseLine,
  seatAdvanceLine,
  trueUpCents,
  trueUpLine,
} from "../invoicing.mjs";

async function advanceTo(sdk, target) {
  const clock = unwrap(await sdk.testClock.advance({ frozenTime: target }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/test-clock");
  assert.equal(lastExchange().status, 200);
  assert.equal(clock.simulatedTime, target, "the clock stands at the target");
  assert.equal(clock.now, target);
}

/** Moves the clock to a period end and processes billing (the legacy advance only moves time). */
async function renewAt(sdk, end) {
  await advanceTo(sdk, end);
  const billing = unwrap(await sdk.testClock.processBilling());
  assert.equal(requestLine(lastExchange()), "POST /api/v1/test-clock/process-billing");
  assert.equal(billing.failed, 0, JSON.stringify(billing));
  assert.ok(billing.enqueued >= 1, `our renewal was due: ${JSON.stringify(billing)}`);
}

/** The invoices of one subscription, newest first, through invoices.list (one page). */
async function invoicesOf(sdk, subscriptionId) {
  const res = await sdk.invoices.list({ subscriptionId, limit: 10 });
  assert.equal(requestLine(lastExchange()), `GET /api/v1/invoices?subscriptionId=${subscriptionId}&limit=10`);
  const items = assertLegacyList(res);
  assert.equal(res.hasMore, false);
  return items;
}

async function seatChange(sdk, method, { customer, feature, count, from, to, at }) {
  const event = unwrap(await sdk.seats[method]({ customerId: customer.id, featureCode: feature.code, count }));
  assert.equal(event.previousBalance, from, `${method} ${count}: previousBalance`);
  assert.equal(event.newBalance, to, `${method} ${count}: newBalance`);
  assert.equal(event.ts, at, "the seat event happens at the clock time");
  return event;
}

test("seat billing over three renewals reproduces the worked examples to the cent", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, plan } = await seatPlan(sandbox);
  const customer = await newCustomer(sandbox, "billing");
  const seats = { customer, feature };

  // ---- Scenario 2: 6 seats from the start -> first invoice 9900 + 1 x 2500 = 12400 -------------
  const sub = unwrap(
    await sandbox.subscriptions.create({
      customerId: customer.id,
      planCode: plan.code,
      billingInterval: "monthly",
      initialSeats: { [feature.code]: 6 },
    }),
  );
  const { start, end: end1 } = assertLegacySubscription(sub, { customer, plan, feature, seats: 6 });
  const end2 = addMonths(start, 2);
  const end3 = addMonths(start, 3);
  const end4 = addMonths(start, 4);
  const common = { customer, subscriptionId: sub.id, invoiceType: "recurring", planName: plan.name };

  const [firstItem, ...none] = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(none, [], "one invoice at creation");
  const first = assertInvoice(await getInvoice(sandbox, firstItem.id), {
    ...common,
    periodStart: start,
    periodEnd: end1,
    issuedAt: start,
    lines: [planBaseLine(MONTHLY_PRICE), seatAdvanceLine(feature, { count: 6, included: INCLUDED_SEATS })],
    total: 12400,
  });
  assertListItem(firstItem, first);

  // ---- Scenario 3: one seat added in the middle of the first period -----------------------------
  const periodDays = (Date.parse(end1) - Date.parse(start)) / DAY_MS;
  assert.ok(Number.isInteger(periodDays) && periodDays >= 28 && periodDays <= 31, `period of ${periodDays} days`);
  const daysLeft = Math.floor(periodDays / 2);
  const middle = addMs(end1, -daysLeft * DAY_MS);
  await advanceTo(sandbox, middle);
  assert.equal(daysRemaining(end1, middle), daysLeft, "a whole number of days is left");
  const during = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.equal(during.currentPeriod.daysRemaining, daysLeft);

  const added = await seatChange(sandbox, "add", { ...seats, count: 1, from: 6, to: 7, at: middle });
  const trueUp = trueUpCents(1, SEAT_UNIT_PRICE, daysLeft, periodDays);
  if (periodDays === 30) {
    assert.equal(daysLeft, 15);
    assert.equal(trueUp, 1250, "1 x $25 x 15/30 (seats.md §5 example 2)");
  }
  assert.deepEqual(
    (await invoicesOf(sandbox, sub.id)).map((i) => i.id),
    [first.id],
    "a true-up accrues for the next renewal; nothing is invoiced now",
  );

  // ---- Scenario 5: renewal = plan base + true-up + 2 extra seats in advance ---------------------
  await renewAt(sandbox, end1);
  const afterFirstRenewal = await invoicesOf(sandbox, sub.id);
  assert.equal(afterFirstRenewal.length, 2);
  assert.equal(afterFirstRenewal[1].id, first.id, "newest first");
  const renewal1 = assertInvoice(await getInvoice(sandbox, afterFirstRenewal[0].id), {
    ...common,
    periodStart: end1,
    periodEnd: end2,
    issuedAt: end1,
    lines: [
      planBaseLine(MONTHLY_PRICE),
      trueUpLine(feature, { units: 1, amount: trueUp, seatEventId: added.id }),
      seatAdvanceLine(feature, { count: 7, included: INCLUDED_SEATS }),
    ],
    total: MONTHLY_PRICE + trueUp + 2 * 2500,
  });
  const trueUpDescription = renewal1.lineItems[1].description;
  assert.ok(
    trueUpDescription.includes(`${daysLeft}/${periodDays} days`),
    `the true-up states its day fraction: ${trueUpDescription}`,
  );
  assert.match(trueUpDescription, /^1 × /);
  if (periodDays === 30) assert.equal(renewal1.total, 16150, "9900 + 1250 + 5000 (examples.md scenario 5)");
  assert.ok(invoiceSeq(renewal1.invoiceNumber) > invoiceSeq(first.invoiceNumber), "numbers grow");

  // ---- Second period: remove 2 on day 10, add 2 back on day 20 -> no true-up (example 3) --------
  const day10 = addMs(end1, 10 * DAY_MS);
  const day20 = addMs(end1, 20 * DAY_MS);
  await advanceTo(sandbox, day10);
  await seatChange(sandbox, "remove", { ...seats, count: 2, from: 7, to: 5, at: day10 });
  await advanceTo(sandbox, day20);
  await seatChange(sandbox, "add", { ...seats, count: 2, from: 5, to: 7, at: day20 });
  await renewAt(sandbox, end2);
  const afterSecondRenewal = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(afterSecondRenewal.slice(1).map((i) => i.id), [renewal1.id, first.id]);
  const renewal2 = assertInvoice(await getInvoice(sandbox, afterSecondRenewal[0].id), {
    ...common,
    periodStart: end2,
    periodEnd: end3,
    issuedAt: end2,
    lines: [planBaseLine(MONTHLY_PRICE), seatAdvanceLine(feature, { count: 7, included: INCLUDED_SEATS })],
    total: 14900,
  });
  assert.ok(invoiceSeq(renewal2.invoiceNumber) > invoiceSeq(renewal1.invoiceNumber));

  // ---- Third period: remove 2 -> the next renewal bills the plan base only ----------------------
  const day9 = addMs(end2, 9 * DAY_MS);
  await advanceTo(sandbox, day9);
  await seatChange(sandbox, "remove", { ...seats, count: 2, from: 7, to: 5, at: day9 });
  await renewAt(sandbox, end3);
  const all = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(all.slice(1).map((i) => i.id), [renewal2.id, renewal1.id, first.id]);
  const renewal3 = assertInvoice(await getInvoice(sandbox, all[0].id), {
    ...common,
    periodStart: end3,
    periodEnd: end4,
    issuedAt: end3,
    lines: [planBaseLine(MONTHLY_PRICE)],
    total: MONTHLY_PRICE,
  });
  assert.ok(invoiceSeq(renewal3.invoiceNumber) > invoiceSeq(renewal2.invoiceNumber));

  const renewed = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  const { start: p3 } = assertLegacySubscription(renewed, {
    customer,
    plan,
    feature,
    seats: 5,
    period: 3,
    now: end3,
    overrides: { updatedAt: renewed.updatedAt },
  });
  assert.equal(p3, end3);

  // ---- The list: newest first, legacy items = invoice without lineItems; totals per generation --
  const issued = [renewal3, renewal2, renewal1, first];
  assert.deepEqual(
    all.map((i) => i.total),
    [MONTHLY_PRICE, 14900, MONTHLY_PRICE + trueUp + 5000, 12400],
  );
  all.forEach((item, i) => assertListItem(item, issued[i]));
  const seqs = all.map((i) => invoiceSeq(i.invoiceNumber));
  assert.deepEqual([...seqs].sort((a, b) => b - a), seqs, "newest (highest number) first");
  assert.equal(new Set(seqs).size, 4);

  // paging with limit and cursor
  const page1 = await sandbox.invoices.list({ subscriptionId: sub.id, limit: 3 });
  assert.deepEqual(assertLegacyList(page1).map((i) => i.id), issued.slice(0, 3).map((i) => i.id));
  assert.equal(page1.hasMore, true);
  const page2 = await sandbox.invoices.list({ subscriptionId: sub.id, limit: 3, cursor: page1.nextCursor });
  assert.deepEqual(assertLegacyList(page2).map((i) => i.id), [first.id]);
  assert.equal(page2.hasMore, false);

  // by customer (externalId or cus_ id), with a status filter
  const byExternal = await sandbox.invoices.list({ customerId: customer.externalId, status: "paid" });
  assert.equal(
    requestLine(lastExchange()),
    `GET /api/v1/invoices?customerId=${customer.externalId}&status=paid`,
  );
  assert.deepEqual(assertLegacyList(byExternal).map((i) => i.id), issued.map((i) => i.id));
  const byId = await sandbox.invoices.list({ customerId: customer.id });
  assert.deepEqual(assertLegacyList(byId), all);
  const voided = await sandbox.invoices.list({ customerId: customer.id, status: "void" });
  assert.deepEqual(assertLegacyList(voided), []);

  // ---- Paid invoices are final: PUT /status answers 400 validation_error (param status) ---------
  for (const status of ["void", "paid"]) {
    const wire = await expectValidationError(sandbox.invoices.updateStatus({ id: first.id, status }), "status");
    assert.equal(requestLine(lastExchange()), `PUT /api/v1/invoices/${first.id}/status`);
    assert.deepEqual(JSON.parse(lastExchange().requestBody), { status });
    assert.equal(wire.type, "validation_error");
  }

  // ---- Issued invoices never change: read again, identical ------------------------------------
  for (const invoice of issued) {
    assert.deepEqual(await getInvoice(sandbox, invoice.id), invoice, `${invoice.invoiceNumber} unchanged`);
  }
});
