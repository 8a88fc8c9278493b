// Usage and quota billing through @commet/node 7.10.0 (commet-version 2026-07-11, legacy
// envelope; usage.md §2, §5): metered units past the included amount are billed in arrears on
// the renewal invoice and the period counter starts again at zero; a quota's extra units are
// billed like seats (a prorated true-up for units added during the period, extra units held in
// advance), and billedQuantity (the period's peak) starts again at the balance held.
//
// Runs with the other clock tests, after every non-clock test (sdk-tests/run), one file at a time.
// Nothing assumes a fresh clock: targets are computed from the subscription's own startDate, and
// the true-up from the actual daysLeft / periodDays with the contract's formula.
//
// Wire mapping: usage.* see ../usage.test.mjs, quota.* ../quota.test.mjs, invoices.* ../invoicing.mjs;
// testClock.advance({frozenTime}) POST /test-clock moves time only, testClock.processBilling()
// POST /test-clock/process-billing renews what is due.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  addMonths,
  addMs,
  assertLegacyList,
  client,
  DAY_MS,
  daysRemaining,
  lastExchange,
  requestLine,
  SANDBOX_KEY,
  unwrap,
} from "../helpers.mjs";
import { assertInvoice, getInvoice, planBaseLine, seatAdvanceLine, trueUpCents, trueUpLine } from "../invoicing.mjs";
import {
  CALL_UNIT_PRICE,
  cancelSubscriptions,
  INCLUDED_CALLS,
  INCLUDED_TASKS,
  legacyCounted,
  meteredCatalog,
  PLAN_PRICE,
  subscribe,
  TASK_UNIT_PRICE,
} from "../metering.mjs";

after(cancelSubscriptions);

const TASK_UNIT_CENTS = TASK_UNIT_PRICE / 100; // 2500
const CALL_UNIT_CENTS = CALL_UNIT_PRICE / 100; // 25

async function advanceTo(sdk, target) {
  const clock = unwrap(await sdk.testClock.advance({ frozenTime: target }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/test-clock");
  assert.equal(clock.now, target, "the clock stands at the target");
}

/** Moves the clock to a period end and processes billing (the legacy advance only moves time). */
async function renewAt(sdk, end) {
  await advanceTo(sdk, end);
  const billing = unwrap(await sdk.testClock.processBilling());
  assert.equal(requestLine(lastExchange()), "POST /api/v1/test-clock/process-billing");
  assert.equal(billing.failed, 0, JSON.stringify(billing));
  assert.ok(billing.enqueued >= 1, `our renewal was due: ${JSON.stringify(billing)}`);
}

async function invoicesOf(sdk, subscriptionId) {
  const res = await sdk.invoices.list({ subscriptionId, limit: 10 });
  const items = assertLegacyList(res);
  assert.equal(res.hasMore, false);
  return items;
}

async function used(sdk, customerId, feature) {
  return unwrap(await sdk.featureAccess.get({ customerId, code: feature.code })).current;
}

test("a renewal bills metered overage in arrears and quota extras like seats; the usage counter resets, the quota lasts", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { calls, tasks, plan } = await meteredCatalog(sandbox);
  const { customer, sub } = await subscribe(sandbox, plan, "usage-billing");
  const cid = customer.id;
  const start = sub.startDate;
  const end1 = addMonths(start, 1);
  const end2 = addMonths(start, 2);
  const common = { customer, subscriptionId: sub.id, invoiceType: "recurring", planName: plan.name };

  const [opening, ...none] = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(none, []);
  assertInvoice(await getInvoice(sandbox, opening.id), {
    ...common,
    periodStart: start,
    periodEnd: end1,
    issuedAt: start,
    lines: [planBaseLine(PLAN_PRICE)],
    total: PLAN_PRICE,
  });

  // ---- the middle of the first period: 130 calls (30 past the 100 included), 7 tasks (2 extra)
  const periodDays = (Date.parse(end1) - Date.parse(start)) / DAY_MS;
  assert.ok(Number.isInteger(periodDays) && periodDays >= 28 && periodDays <= 31, `period of ${periodDays} days`);
  const daysLeft = Math.floor(periodDays / 2);
  const middle = addMs(end1, -daysLeft * DAY_MS);
  await advanceTo(sandbox, middle);
  assert.equal(daysRemaining(end1, middle), daysLeft);

  const tracked = unwrap(await sandbox.usage.track({ customerId: cid, feature: calls.code, value: 130, timestamp: middle }));
  assert.equal(tracked.ts, middle);
  assert.equal(tracked.createdAt, middle, "the event is recorded at the clock time");
  const added = unwrap(await sandbox.quota.set({ customerId: cid, featureCode: tasks.code, count: INCLUDED_TASKS + 2 }));
  assert.deepEqual([added.previousBalance, added.newBalance, added.ts], [0, 7, middle]);
  assert.equal(await used(sandbox, cid, calls), 130);
  // back down to 6 before the period ends: the peak (7) is what the period is billed for
  unwrap(await sandbox.quota.remove({ customerId: cid, featureCode: tasks.code }));
  const quota = unwrap(await sandbox.quota.get({ customerId: cid, featureCode: tasks.code }));
  assert.deepEqual([quota.current, quota.billedQuantity], [6, 7]);
  assert.deepEqual(
    (await invoicesOf(sandbox, sub.id)).map((i) => i.id),
    [opening.id],
    "usage and true-ups accrue for the renewal; nothing is invoiced now",
  );

  // ---- the renewal: plan base, the quota's true-up, its extra units in advance, the calls' overage
  await renewAt(sandbox, end1);
  const [renewalItem, ...older] = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(older.map((i) => i.id), [opening.id]);
  const trueUp = trueUpCents(2, TASK_UNIT_PRICE, daysLeft, periodDays);
  const overageLine = {
    lineType: "feature_overage",
    featureName: calls.name,
    quantity: 30,
    unitAmount: CALL_UNIT_CENTS,
    amount: 30 * CALL_UNIT_CENTS,
    includedAmount: INCLUDED_CALLS,
    usedAmount: 130,
    overageAmount: 30,
    discountType: null,
    discountValue: null,
    discountName: null,
    chargeType: "standard",
  };
  const renewal = assertInvoice(await getInvoice(sandbox, renewalItem.id), {
    ...common,
    periodStart: end1,
    periodEnd: end2,
    issuedAt: end1,
    lines: [
      planBaseLine(PLAN_PRICE),
      {
        ...trueUpLine(tasks, { units: 2, amount: trueUp, seatEventId: added.id, unitCents: TASK_UNIT_CENTS }),
        lineType: "feature_quota",
      },
      { ...seatAdvanceLine(tasks, { count: 6, included: INCLUDED_TASKS, unitCents: TASK_UNIT_CENTS }), lineType: "feature_quota" },
      overageLine,
    ],
    total: PLAN_PRICE + trueUp + TASK_UNIT_CENTS + 30 * CALL_UNIT_CENTS,
  });
  const [, trueUpOut, advanceOut, overageOut] = renewal.lineItems;
  assert.ok(trueUpOut.description.includes(`${daysLeft}/${periodDays} days`), trueUpOut.description);
  assert.equal(advanceOut.description, `1 × ${tasks.code} above ${INCLUDED_TASKS} included`);
  assert.equal(overageOut.description, `30 × ${calls.code} above ${INCLUDED_CALLS} included, at $0.25 per unit`);

  // ---- the new period: calls start again at zero, the quota balance stays, its peak restarts
  const access = unwrap(await sandbox.featureAccess.list({ customerId: cid }));
  const byCode = Object.fromEntries(access.map((a) => [a.code, a]));
  assert.deepEqual(
    byCode[calls.code],
    legacyCounted(calls, { current: 0, included: INCLUDED_CALLS, billable: true, unitPrice: CALL_UNIT_PRICE }),
  );
  assert.deepEqual(
    byCode[tasks.code],
    legacyCounted(tasks, {
      current: 6,
      included: INCLUDED_TASKS,
      billable: true,
      unitPrice: TASK_UNIT_PRICE,
      billedQuantity: 6,
    }),
  );
  const check = unwrap(await sandbox.usage.check({ customerId: cid, featureCode: calls.code, quantity: 100 }));
  assert.deepEqual([check.allowed, check.current, check.remaining], [true, 0, INCLUDED_CALLS]);
  unwrap(await sandbox.usage.track({ customerId: cid, feature: calls.code, value: 20 }));
  assert.equal(await used(sandbox, cid, calls), 20, "the new period counts from zero");
  const quotaNow = unwrap(await sandbox.quota.get({ customerId: cid, featureCode: tasks.code }));
  assert.deepEqual([quotaNow.current, quotaNow.billedQuantity, quotaNow.asOf], [6, 6, quota.asOf]);
});
