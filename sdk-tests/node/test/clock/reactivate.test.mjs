// Reactivation on the sandbox test clock through @commet/node 7.10.0 (commet-version 2026-07-11,
// legacy envelope; payments.md §6 "Reactivate", lifecycle.md §7), for the default `invoice_only`
// organization: a canceled paid subscription comes back with a `reactivation` invoice (plan base
// at the price's current value + the seat advance for the seats kept on the record) issued paid,
// and a new period anchored at the reactivation instant.
//
// Runs with the other clock tests, after every non-clock test (sdk-tests/run), one file at a time.
// The shared clock only moves forward, so the test starts at the first 1st of a 30-day month
// (Apr, Jun, Sep, Nov), 00:00 UTC, after the clock's current time; it cancels on day 25 and
// reactivates on day 30 (the 30th, so billingDayOfMonth becomes 30).
//
// Wire mapping: subscriptions.reactivate({id}) POST /subscriptions/{id}/reactivate, body {} ->
// legacy ReactivatedSubscription {id, retryInitiated:true, object:"subscription", livemode}.
// plans.updatePrice({id, priceId, price}) PUT /plans/{id}/prices/{priceId}. Clock: ../lifecycle.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addMonths,
  addMs,
  client,
  DAY_MS,
  expectApiError,
  lastExchange,
  requestLine,
  SANDBOX_KEY,
  unique,
  unwrap,
} from "../helpers.mjs";
import { assertLegacySubscription, INCLUDED_SEATS, newCustomer, seatPlan } from "../fixtures.mjs";
import { assertInvoice, getInvoice, planBaseLine, seatAdvanceLine } from "../invoicing.mjs";
import { advanceTo, firstOfMonthAfter, invoicesOf, periodDays, processBilling, renewAt } from "../lifecycle.mjs";

const UNKNOWN_SUBSCRIPTION = "sub_01J0000000000000000000000Z";
const NEW_PRICE = 10900;
const INVALID_STATUS = { status: 409, code: "invalid_subscription_status", type: "conflict_error" };

async function reactivate(sdk, id) {
  const result = unwrap(await sdk.subscriptions.reactivate({ id }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${id}/reactivate`);
  assert.equal(lastExchange().requestBody, "{}", "N7 sends an empty object");
  assert.equal(lastExchange().status, 200);
  return result;
}

test("canceled, then reactivated: the current price, the seats kept, a new period from the reactivation", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, plan, monthly } = await seatPlan(sandbox); // 9900, 5 seats included, $25 each

  // ---- Setup: the 1st of a 30-day month; 6 seats -> 9900 + 2500 = 12400 -------------------------
  const start = firstOfMonthAfter(unwrap(await sandbox.testClock.get()).now, 30);
  await advanceTo(sandbox, start);
  await processBilling(sandbox);
  const customer = await newCustomer(sandbox, "reactivate");
  const sub = unwrap(
    await sandbox.subscriptions.create({
      customerId: customer.id,
      planCode: plan.code,
      billingInterval: "monthly",
      initialSeats: { [feature.code]: 6 },
    }),
  );
  assert.equal(sub.startDate, start, "startDate is the simulated time");
  assertLegacySubscription(sub, { customer, plan, feature, seats: 6 });
  const [initialItem, ...none] = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(none, []);
  assert.equal(initialItem.total, 12400);

  // active -> 409 invalid_subscription_status, nothing billed
  await expectApiError(sandbox.subscriptions.reactivate({ id: sub.id }), INVALID_STATUS);
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${sub.id}/reactivate`);
  assert.equal(lastExchange().requestBody, "{}");

  // ---- Day 25: canceled at once; then the plan's price rises ------------------------------------
  const day25 = addMs(start, 24 * DAY_MS);
  await advanceTo(sandbox, day25);
  assert.equal(unwrap(await sandbox.subscriptions.cancel({ id: sub.id, immediate: true })).status, "canceled");
  const canceled = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.equal(canceled.status, "canceled");
  assert.equal(canceled.currentPeriod, null);
  const raised = unwrap(await sandbox.plans.updatePrice({ id: plan.id, priceId: monthly.id, price: NEW_PRICE }));
  assert.equal(raised.price, NEW_PRICE);

  // ---- Day 30: reactivate -> {id, retryInitiated:true}; a reactivation invoice at 10900 ---------
  const day30 = addMs(start, 29 * DAY_MS);
  await advanceTo(sandbox, day30);
  assert.deepEqual(await reactivate(sandbox, sub.id), {
    id: sub.id,
    retryInitiated: true,
    object: "subscription",
    livemode: false,
  });

  const end1 = addMonths(day30, 1);
  const end2 = addMonths(day30, 2);
  const [reactivationItem, ...before] = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(before.map((i) => i.id), [initialItem.id], "newest first");
  const common = { customer, subscriptionId: sub.id, planName: plan.name };
  const seatAdvance = seatAdvanceLine(feature, { count: 6, included: INCLUDED_SEATS });
  const reactivation = assertInvoice(await getInvoice(sandbox, reactivationItem.id), {
    ...common,
    invoiceType: "reactivation",
    periodStart: day30,
    periodEnd: end1,
    issuedAt: day30,
    lines: [planBaseLine(NEW_PRICE), seatAdvance],
    total: NEW_PRICE + 2500,
  });

  // active again: a new period anchored at the reactivation, cancellation cleared
  const back = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.equal(back.startDate, sub.startDate, "startDate is the original start");
  assert.equal(back.createdAt, sub.createdAt);
  const reactivated = {
    currentPeriod: { start: day30, end: end1, daysRemaining: periodDays(day30, end1) },
    billingDayOfMonth: new Date(day30).getUTCDate(),
    nextBillingDate: end1,
    updatedAt: day30,
  };
  assert.equal(reactivated.billingDayOfMonth, 30);
  assertLegacySubscription(back, {
    customer,
    plan,
    feature,
    basePrice: NEW_PRICE,
    seats: 6,
    now: day30,
    overrides: reactivated,
  });
  assert.deepEqual(unwrap(await sandbox.subscriptions.getActive({ customerId: customer.externalId })), back);

  // active again -> 409; nothing more billed
  await expectApiError(sandbox.subscriptions.reactivate({ id: sub.id }), INVALID_STATUS);
  assert.deepEqual((await invoicesOf(sandbox, sub.id)).map((i) => i.id), [reactivation.id, initialItem.id]);

  // ---- The next renewal runs from the new anchor, at the current price --------------------------
  await renewAt(sandbox, end1);
  const all = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(all.slice(1).map((i) => i.id), [reactivation.id, initialItem.id]);
  assert.equal(all.length, 3);
  assertInvoice(await getInvoice(sandbox, all[0].id), {
    ...common,
    invoiceType: "recurring",
    periodStart: end1,
    periodEnd: end2,
    issuedAt: end1,
    lines: [planBaseLine(NEW_PRICE), seatAdvance],
    total: NEW_PRICE + 2500,
  });
  const renewed = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assertLegacySubscription(renewed, {
    customer,
    plan,
    feature,
    basePrice: NEW_PRICE,
    seats: 6,
    now: end1,
    overrides: {
      currentPeriod: { start: end1, end: end2, daysRemaining: periodDays(end1, end2) },
      billingDayOfMonth: 30,
      nextBillingDate: end2,
      updatedAt: renewed.updatedAt,
    },
  });
});

test("reactivation refusals: unknown subscription, another live subscription, a canceled free plan", async () => {
  const sandbox = client(SANDBOX_KEY);
  await expectApiError(sandbox.subscriptions.reactivate({ id: UNKNOWN_SUBSCRIPTION }), {
    status: 404,
    code: "subscription_not_found",
    type: "not_found_error",
  });

  // canceled, but the customer subscribed again meanwhile -> 409 already_has_active_subscription
  const { feature, plan } = await seatPlan(sandbox);
  const customer = await newCustomer(sandbox, "reactivate-taken");
  const first = unwrap(
    await sandbox.subscriptions.create({ customerId: customer.id, planCode: plan.code, billingInterval: "monthly" }),
  );
  unwrap(await sandbox.subscriptions.cancel({ id: first.id, immediate: true }));
  const second = unwrap(
    await sandbox.subscriptions.create({
      customerId: customer.id,
      planCode: plan.code,
      billingInterval: "monthly",
      initialSeats: { [feature.code]: 2 },
    }),
  );
  const firstInvoices = (await invoicesOf(sandbox, first.id)).map((i) => i.id);
  await expectApiError(sandbox.subscriptions.reactivate({ id: first.id }), {
    status: 409,
    code: "already_has_active_subscription",
    type: "conflict_error",
  });
  assert.equal(unwrap(await sandbox.subscriptions.get({ id: first.id })).status, "canceled");
  assert.deepEqual((await invoicesOf(sandbox, first.id)).map((i) => i.id), firstInvoices, "nothing billed");
  assert.equal(unwrap(await sandbox.subscriptions.getActive({ customerId: customer.id })).id, second.id);

  // a canceled free plan has nothing to reactivate -> 409 invalid_subscription_status
  const free = unwrap(await sandbox.plans.create({ name: unique("Free"), code: unique("free"), isFree: true }));
  const freeCustomer = await newCustomer(sandbox, "reactivate-free");
  const freeSub = unwrap(await sandbox.subscriptions.create({ customerId: freeCustomer.id, planCode: free.code }));
  assert.equal(freeSub.status, "active");
  unwrap(await sandbox.subscriptions.cancel({ id: freeSub.id, immediate: true }));
  assert.equal(unwrap(await sandbox.subscriptions.get({ id: freeSub.id })).status, "canceled");
  await expectApiError(sandbox.subscriptions.reactivate({ id: freeSub.id }), INVALID_STATUS);
  assert.equal(unwrap(await sandbox.subscriptions.get({ id: freeSub.id })).status, "canceled");
});
