// The sandbox test clock through @commet/node 7.10.0 (commet-version 2026-07-11).
//
// The clock belongs to the sandbox organization, only moves forward and, once advanced, freezes
// every sandbox timestamp at the simulated time. `sdk-tests/run` therefore runs this directory
// after every other test of both suites (and before the Python clock tests); the tests of this
// file run one after the other (node:test runs a file's top-level tests in sequence). Nothing
// assumes a fresh clock: targets are computed from `GET /test-clock`, periods from the
// subscription's own startDate.
//
// Wire mapping (dist/index.mjs TestClockResource; prefix /api/v1):
//   testClock.get()               GET  /test-clock                      -> TestClock
//   testClock.advance(p)          POST /test-clock  {advanceDays} | {frozenTime}  -> TestClock (200),
//                                 moves the clock only (no billing in this API version)
//   testClock.processBilling()    POST /test-clock/process-billing  body {}  -> TestClockBilling
//                                 {customersFound, enqueued, failed, dunningRetried, dunningFailed}
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addMonths,
  addMs,
  assertTimestamp,
  client,
  DAY_MS,
  daysRemaining,
  expectApiError,
  expectValidationError,
  lastExchange,
  LIVE_KEY,
  requestLine,
  SANDBOX_KEY,
  sortedKeys,
  unwrap,
} from "../helpers.mjs";
import { assertLegacySubscription, newCustomer, seatPlan } from "../fixtures.mjs";

const TEST_CLOCK_KEYS = ["isActive", "livemode", "now", "object", "simulatedTime"];
const BILLING_KEYS = ["customersFound", "dunningFailed", "dunningRetried", "enqueued", "failed", "livemode", "object"];
const HOUR_MS = 60 * 60 * 1000;

function assertTestClock(clock) {
  assert.deepEqual(sortedKeys(clock), TEST_CLOCK_KEYS, "legacy TestClock fields (no latestRun)");
  assert.equal(clock.object, "test_clock");
  assert.equal(clock.livemode, false);
  assert.equal(typeof clock.isActive, "boolean");
  assertTimestamp(clock.now, "now");
  if (clock.isActive) {
    assertTimestamp(clock.simulatedTime, "simulatedTime");
    assert.equal(clock.now, clock.simulatedTime, "an active clock's now is the simulated time");
  } else {
    assert.equal(clock.simulatedTime, null);
    assert.ok(Math.abs(Date.parse(clock.now) - Date.now()) < 5 * 60_000, "an inactive clock's now is real time");
  }
  return clock;
}

async function readClock(sdk) {
  const clock = assertTestClock(unwrap(await sdk.testClock.get()));
  assert.equal(requestLine(lastExchange()), "GET /api/v1/test-clock");
  return clock;
}

test("GET /test-clock shape", async () => {
  const sandbox = client(SANDBOX_KEY);
  const first = await readClock(sandbox);
  const second = await readClock(sandbox);
  assert.equal(second.isActive, first.isActive);
  if (first.isActive) assert.deepEqual(second, first, "a simulated clock is frozen between advances");
});

test("live key -> 403 sandbox_only on every test clock endpoint", async () => {
  const live = client(LIVE_KEY);
  const sandboxBefore = await readClock(client(SANDBOX_KEY));
  const expected = { status: 403, code: "sandbox_only", type: "authentication_error" };
  await expectApiError(live.testClock.get(), expected);
  await expectApiError(live.testClock.advance({ advanceDays: 1 }), expected);
  await expectApiError(live.testClock.processBilling(), expected);
  // and the sandbox clock did not move
  const sandboxAfter = await readClock(client(SANDBOX_KEY));
  if (sandboxBefore.isActive) assert.deepEqual(sandboxAfter, sandboxBefore);
  else assert.equal(sandboxAfter.isActive, false);
});

test("advance by days and to a frozen time; only forward; validation errors", async () => {
  const sandbox = client(SANDBOX_KEY);
  const before = await readClock(sandbox);

  // advanceDays: +1 day from the clock's now (exact once the clock is simulated)
  const advanced = assertTestClock(unwrap(await sandbox.testClock.advance({ advanceDays: 1 })));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/test-clock");
  assert.equal(lastExchange().status, 200, "legacy advance answers 200 with the TestClock");
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { advanceDays: 1 });
  assert.equal(advanced.isActive, true);
  const moved = Date.parse(advanced.simulatedTime) - Date.parse(before.now);
  if (before.isActive) assert.equal(moved, DAY_MS, "advanceDays:1 moves exactly one day");
  else assert.ok(moved >= DAY_MS && moved < DAY_MS + 5 * 60_000, `advanceDays:1 from real time moved ${moved} ms`);
  assert.deepEqual(await readClock(sandbox), advanced);

  // frozenTime: an absolute instant
  const target = addMs(advanced.simulatedTime, 2 * HOUR_MS + 345);
  const frozen = assertTestClock(unwrap(await sandbox.testClock.advance({ frozenTime: target })));
  assert.deepEqual(frozen, { simulatedTime: target, isActive: true, now: target, object: "test_clock", livemode: false });
  assert.deepEqual(await readClock(sandbox), frozen);

  // never backwards, not to the same instant, exactly one of advanceDays / frozenTime
  await expectValidationError(sandbox.testClock.advance({ frozenTime: addMs(target, -DAY_MS) }), "frozenTime");
  await expectValidationError(sandbox.testClock.advance({ frozenTime: target }), "frozenTime");
  await expectValidationError(sandbox.testClock.advance({ advanceDays: 0 }), "advanceDays");
  await expectValidationError(sandbox.testClock.advance({ advanceDays: 1.5 }), "advanceDays");
  await expectValidationError(sandbox.testClock.advance({ advanceDays: 1, frozenTime: addMs(target, DAY_MS) }));
  await expectValidationError(sandbox.testClock.advance({}));
  await expectValidationError(sandbox.testClock.advance());
  assert.deepEqual(await readClock(sandbox), frozen, "rejected advances do not move the clock");
});

test("renewal and scheduled cancellation happen on processBilling, not on advance", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, plan } = await seatPlan(sandbox);
  const renewing = await newCustomer(sandbox, "renew");
  const leaving = await newCustomer(sandbox, "leave");

  const clock = await readClock(sandbox);
  const subA = unwrap(
    await sandbox.subscriptions.create({
      customerId: renewing.id,
      planCode: plan.code,
      billingInterval: "monthly",
      initialSeats: { [feature.code]: 6 },
    }),
  );
  const subB = unwrap(
    await sandbox.subscriptions.create({ customerId: leaving.id, planCode: plan.code, billingInterval: "monthly" }),
  );
  if (clock.isActive) {
    assert.equal(subA.startDate, clock.simulatedTime, "startDate is the simulated time");
    assert.equal(subB.startDate, clock.simulatedTime);
  }
  const { end: endA } = assertLegacySubscription(subA, { customer: renewing, plan, feature, seats: 6 });
  const { end: endB } = assertLegacySubscription(subB, { customer: leaving, plan, feature, seats: 0 });
  const canceled = unwrap(await sandbox.subscriptions.cancel({ id: subB.id }));
  assert.equal(canceled.scheduledCancellationDate, endB);

  // move past both period ends: the legacy advance only moves time
  const target = addMs(endA > endB ? endA : endB, HOUR_MS);
  const advanced = unwrap(await sandbox.testClock.advance({ frozenTime: target }));
  assert.equal(lastExchange().status, 200);
  assert.deepEqual(advanced, { simulatedTime: target, isActive: true, now: target, object: "test_clock", livemode: false });

  const stale = unwrap(await sandbox.subscriptions.get({ id: subA.id }));
  assertLegacySubscription(stale, { customer: renewing, plan, feature, seats: 6, now: target });
  assert.equal(stale.currentPeriod.end, endA, "still the old period until billing is processed");
  assert.equal(stale.currentPeriod.daysRemaining, 0);
  const pending = unwrap(await sandbox.subscriptions.get({ id: subB.id }));
  assert.equal(pending.status, "active", "the scheduled cancellation waits for processBilling too");
  assert.equal(pending.cancelAtPeriodEnd, true);

  // processBilling catches up everything due at the clock time
  const billing = unwrap(await sandbox.testClock.processBilling());
  assert.equal(requestLine(lastExchange()), "POST /api/v1/test-clock/process-billing");
  assert.equal(lastExchange().requestBody, "{}");
  assert.deepEqual(sortedKeys(billing), BILLING_KEYS);
  assert.ok(Number.isInteger(billing.customersFound) && billing.customersFound >= 2, `customersFound ${billing.customersFound}`);
  assert.ok(Number.isInteger(billing.enqueued) && billing.enqueued >= 2, `enqueued ${billing.enqueued}`);
  assert.deepEqual(
    { ...billing, customersFound: 0, enqueued: 0 },
    { customersFound: 0, enqueued: 0, failed: 0, dunningRetried: 0, dunningFailed: 0, object: "test_clock", livemode: false },
  );

  // A renewed: the next period starts at the old end and ends one month after it (from the anchor)
  const renewed = unwrap(await sandbox.subscriptions.get({ id: subA.id }));
  const { start, end } = assertLegacySubscription(renewed, {
    customer: renewing,
    plan,
    feature,
    seats: 6,
    period: 1,
    now: target,
    overrides: { updatedAt: renewed.updatedAt },
  });
  assert.equal(start, endA);
  assert.equal(end, addMonths(subA.startDate, 2));
  assert.equal(renewed.currentPeriod.daysRemaining, daysRemaining(end, target));
  assert.equal(renewed.nextBillingDate, end);
  assert.equal(renewed.billingDayOfMonth, subA.billingDayOfMonth, "the anchor day does not move");
  assertTimestamp(renewed.updatedAt, "updatedAt");
  assert.ok(renewed.updatedAt >= subA.updatedAt && renewed.updatedAt <= target);
  assert.deepEqual(unwrap(await sandbox.subscriptions.getActive({ customerId: renewing.id })), renewed);

  // B canceled at its period end
  const gone = unwrap(await sandbox.subscriptions.get({ id: subB.id }));
  assert.equal(gone.status, "canceled");
  assert.equal(gone.currentPeriod, null);
  assert.equal(gone.nextBillingDate, null);
  assert.equal(gone.endDate, endB);
  assert.deepEqual(await sandbox.subscriptions.getActive({ customerId: leaving.id }), { success: true, data: null });

  // nothing is due any more: a second run finds nothing and renews nothing twice
  const again = unwrap(await sandbox.testClock.processBilling());
  assert.deepEqual(again, {
    customersFound: 0,
    enqueued: 0,
    failed: 0,
    dunningRetried: 0,
    dunningFailed: 0,
    object: "test_clock",
    livemode: false,
  });
  assert.deepEqual(unwrap(await sandbox.subscriptions.get({ id: subA.id })), renewed);
});
