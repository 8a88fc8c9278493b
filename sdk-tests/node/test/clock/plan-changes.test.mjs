// Plan changes on the sandbox test clock through @commet/node 7.10.0 (commet-version 2026-07-11,
// legacy envelope): lifecycle.md §12 scenarios 1 (prorated upgrade, $249.50) and 2 (scheduled
// downgrade run at the renewal), to the cent.
//
// Runs with the other clock tests, after every non-clock test (sdk-tests/run), one file at a time.
// The spec's clock starts at 2026-09-01T00:00:00.000Z; the shared clock only moves forward and may
// already be past it, so the test starts at the first 1st-of-a-30-day-month (Apr, Jun, Sep, Nov),
// 00:00 UTC, after the clock's current time (2026-09-01 itself when the clock is before it). That
// keeps the spec's numbers exact: a 30-day first period, d = 15 after 15 days, new periods from the
// 16th.
//
// Wire mapping: testClock.advance({frozenTime}) POST /test-clock (moves time only, 200 TestClock);
// testClock.processBilling() POST /test-clock/process-billing runs what is due — a scheduled plan
// change runs at the renewal deadline, before the recurring invoice (lifecycle.md §4.4, §9).
// subscriptions.previewChange / changePlan: see ../lifecycle.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addMonths,
  addMs,
  assertLegacyList,
  client,
  DAY_MS,
  expectApiError,
  lastExchange,
  requestLine,
  SANDBOX_KEY,
  unwrap,
} from "../helpers.mjs";
import { assertInvoice, getInvoice, planBaseLine, seatAdvanceLine } from "../invoicing.mjs";
import {
  assertLegacyCompleted,
  assertLegacyPreview,
  assertLegacySubscriptionOn,
  assertPlanChangeInvoice,
  BUSINESS,
  changePlan,
  periodDays,
  PRO,
  previewChange,
  prorationCreditLine,
  standardCatalog,
  subscribeToPro,
} from "../lifecycle.mjs";

/** The first 00:00 UTC on the 1st of April, June, September or November strictly after `now`. */
function next30DayMonthStart(now) {
  const d = new Date(now);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth(); // 0-based
  for (;;) {
    month += 1;
    if (month === 12) {
      month = 0;
      year += 1;
    }
    if ([3, 5, 8, 10].includes(month)) return new Date(Date.UTC(year, month, 1)).toISOString();
  }
}

async function advanceTo(sdk, target) {
  const clock = unwrap(await sdk.testClock.advance({ frozenTime: target }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/test-clock");
  assert.equal(lastExchange().status, 200);
  assert.equal(clock.simulatedTime, target, "the clock stands at the target");
  assert.equal(clock.now, target);
}

async function processBilling(sdk) {
  const billing = unwrap(await sdk.testClock.processBilling());
  assert.equal(requestLine(lastExchange()), "POST /api/v1/test-clock/process-billing");
  assert.equal(billing.failed, 0, JSON.stringify(billing));
  return billing;
}

/** The invoices of one subscription, newest first (one page). */
async function invoicesOf(sdk, subscriptionId) {
  const res = await sdk.invoices.list({ subscriptionId, limit: 10 });
  assert.equal(res.hasMore, false);
  return assertLegacyList(res);
}

test("scenarios 1 and 2: prorated upgrade on day 15, downgrade scheduled for the period end", async () => {
  const sandbox = client(SANDBOX_KEY);
  const catalog = await standardCatalog(sandbox);
  const { feature, pro, business } = catalog;

  // ---- Setup: the clock on the 1st of a 30-day month; pro with 8 editor seats -> 17400 ---------
  const clock = unwrap(await sandbox.testClock.get());
  const start = next30DayMonthStart(clock.now);
  await advanceTo(sandbox, start);
  await processBilling(sandbox); // whatever else was due; nothing of ours yet

  const { customer, sub } = await subscribeToPro(sandbox, catalog, 8, "scenario");
  const end0 = addMonths(start, 1);
  assert.equal(periodDays(start, end0), 30);
  assert.equal(sub.startDate, start, "startDate is the simulated time");
  assert.deepEqual(sub.currentPeriod, { start, end: end0, daysRemaining: 30 });
  const [initialItem, ...older] = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(older, [], "one invoice at creation");
  const initial = assertInvoice(await getInvoice(sandbox, initialItem.id), {
    customer,
    subscriptionId: sub.id,
    invoiceType: "recurring",
    planName: pro.name,
    periodStart: start,
    periodEnd: end0,
    issuedAt: start,
    lines: [planBaseLine(PRO.price), seatAdvanceLine(feature, { count: 8, included: PRO.included })],
    total: 17400,
  });

  // ---- Scenario 1: 15 days later, upgrade to business ------------------------------------------
  const day15 = addMs(start, 15 * DAY_MS);
  await advanceTo(sandbox, day15);
  const preview = await previewChange(sandbox, sub.id, business.id);
  assertLegacyPreview(preview, { credit: 4950, charge: 29900, total: 24950, effectiveDate: day15, d: 15, p: 30 });
  assert.deepEqual(
    unwrap(await sandbox.subscriptions.get({ id: sub.id })).plan,
    { id: pro.id, name: pro.name, basePrice: PRO.price },
    "a preview changes nothing",
  );

  const change = await changePlan(sandbox, sub.id, business.id);
  const invoiceId = assertLegacyCompleted(change, {
    sub,
    customer,
    from: pro,
    to: business,
    price: BUSINESS.price,
    billing: { credit: 4950, charge: 29900, netAmount: 24950, totalCharged: 24950 },
  });

  const end1 = addMonths(day15, 1);
  assert.equal(periodDays(day15, end1), 30);
  const upgraded = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assertLegacySubscriptionOn(upgraded, {
    original: sub,
    customer,
    plan: business,
    terms: BUSINESS,
    feature,
    seats: 8,
    start: day15,
    end: end1,
    now: day15,
    updatedAt: day15,
  });
  assert.equal(upgraded.currentPeriod.daysRemaining, 30);
  assert.equal(upgraded.billingDayOfMonth, 16);
  assert.deepEqual(upgraded.features[0].usage, { current: 8, included: 10, overageQuantity: 0, overageUnitPrice: 200000 });

  const planChangeInvoice = assertPlanChangeInvoice(await getInvoice(sandbox, invoiceId), {
    customer,
    subscriptionId: sub.id,
    planName: business.name,
    periodStart: day15,
    periodEnd: end1,
    issuedAt: day15,
    lines: [planBaseLine(BUSINESS.price), prorationCreditLine(4950)],
    subtotal: 29900,
    creditApplied: 4950,
    total: 24950,
    days: "15/30",
  });
  assert.deepEqual(
    (await invoicesOf(sandbox, sub.id)).map((i) => i.id),
    [planChangeInvoice.id, initial.id],
    "newest first",
  );

  // ---- Scenario 2: 4 days later, downgrade to pro -> scheduled for the period end --------------
  const day19 = addMs(day15, 4 * DAY_MS);
  await advanceTo(sandbox, day19);
  const wire = await expectApiError(sandbox.subscriptions.previewChange({ id: sub.id, planId: pro.id }), {
    status: 400,
    code: "plan_change_scheduled",
    type: "validation_error",
  });
  assert.deepEqual(wire.details, { changeType: "plan_downgrade", scheduledFor: end1 });

  const scheduled = await changePlan(sandbox, sub.id, pro.id);
  assert.deepEqual(scheduled, {
    id: sub.id,
    scheduled: true,
    scheduledFor: end1,
    changeType: "subscription.plan_downgrade",
    customerId: customer.id,
    newPlanId: pro.id,
    newPlanName: pro.name,
    object: "subscription",
    livemode: false,
  });
  const pending = {
    changeType: "plan_downgrade",
    newPlanId: pro.id,
    newPlanName: pro.name,
    newBillingInterval: null,
    scheduledFor: end1,
  };
  const waiting = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assertLegacySubscriptionOn(waiting, {
    original: sub,
    customer,
    plan: business,
    terms: BUSINESS,
    feature,
    seats: 8,
    start: day15,
    end: end1,
    now: day19,
    scheduledPlanChange: pending,
  });

  // the same request again: the same answer, nothing changes, nothing is billed
  assert.deepEqual(await changePlan(sandbox, sub.id, pro.id), scheduled);
  assert.deepEqual(unwrap(await sandbox.subscriptions.get({ id: sub.id })), waiting);
  assert.deepEqual((await invoicesOf(sandbox, sub.id)).map((i) => i.id), [planChangeInvoice.id, initial.id]);

  // ---- The period end: the legacy advance only moves time; processBilling runs the change -----
  await advanceTo(sandbox, end1);
  const stale = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.equal(stale.plan.id, business.id, "still business until billing is processed");
  assert.deepEqual(stale.scheduledPlanChange, pending);

  const billing = await processBilling(sandbox);
  assert.ok(billing.enqueued >= 1, `our renewal was due: ${JSON.stringify(billing)}`);

  const end2 = addMonths(day15, 2);
  const downgraded = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assertLegacySubscriptionOn(downgraded, {
    original: sub,
    customer,
    plan: pro,
    terms: PRO,
    feature,
    seats: 8,
    start: end1,
    end: end2,
    now: end1,
  });
  assert.equal(downgraded.billingDayOfMonth, 16);

  // the renewal invoice on the new plan: 9900 + 3 x 2500 = 17400
  const all = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(all.slice(1).map((i) => i.id), [planChangeInvoice.id, initial.id]);
  assert.equal(all.length, 3);
  const renewal = assertInvoice(await getInvoice(sandbox, all[0].id), {
    customer,
    subscriptionId: sub.id,
    invoiceType: "recurring",
    planName: pro.name,
    periodStart: end1,
    periodEnd: end2,
    issuedAt: end1,
    lines: [planBaseLine(PRO.price), seatAdvanceLine(feature, { count: 8, included: PRO.included })],
    total: 17400,
  });
  assert.equal(renewal.total, 17400);

  // the change is done: business is an immediate upgrade again (new period, d = P)
  const p = periodDays(end1, end2);
  const again = await previewChange(sandbox, sub.id, business.id);
  assertLegacyPreview(again, { credit: 9900, charge: 29900, total: 20000, effectiveDate: end1, d: p, p });

  // nothing else is due: a second run bills nothing more for this subscription
  await processBilling(sandbox);
  assert.equal((await invoicesOf(sandbox, sub.id)).length, 3);
  assert.deepEqual(unwrap(await sandbox.subscriptions.get({ id: sub.id })), downgraded);
});
