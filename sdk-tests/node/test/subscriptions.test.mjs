// Subscriptions through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope).
// Nothing here moves the test clock (that is test/clock/, run after every other test), but the
// assertions hold whether the sandbox clock is real time or already advanced and frozen: periods
// are checked against the subscription's own startDate and the clock read around the call.
//
// Wire mapping (dist/index.mjs SubscriptionsResource; prefix /api/v1):
//   subscriptions.create(p)               POST /subscriptions             body p
//   subscriptions.get({id})               GET  /subscriptions/{id}
//   subscriptions.getActive({customerId}) GET  /subscriptions/active?customerId=
//   subscriptions.list({customerId?, status?})  GET /subscriptions?customerId=&status=
//                                         (no limit/cursor in the SDK type; typed as a plain array)
//   subscriptions.cancel({id, reason?, immediate?})  POST /subscriptions/{id}/cancel  {reason?, immediate?}
//   subscriptions.uncancel({id})          POST /subscriptions/{id}/uncancel   body {} (always)
// Results: Subscription for create/get/getActive/list items, the small CanceledSubscription and
// UncanceledSubscription for cancel/uncancel (catalog.md §5.4).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assertLegacyList,
  assertTimestamp,
  client,
  exchanges,
  expectApiError,
  expectValidationError,
  featureCode,
  lastExchange,
  requestLine,
  SANDBOX_KEY,
  sortedKeys,
  unique,
  unwrap,
} from "./helpers.mjs";
import {
  assertLegacySubscription,
  MONTHLY_PRICE,
  newCustomer,
  seatPlan,
  YEARLY_PRICE,
} from "./fixtures.mjs";

/** Reads the sandbox clock's "now" (real time until the clock is first advanced). */
async function clockNow(sdk) {
  return unwrap(await sdk.testClock.get()).now;
}

/** The most recent recorded exchange with this request line (e.g. "POST /api/v1/subscriptions"). */
function lastCall(line) {
  const found = exchanges.findLast((e) => requestLine(e) === line);
  assert.ok(found, `no ${line} recorded`);
  return found;
}

/** Creates a subscription and checks startDate against the clock read around the call. */
async function subscribe(sdk, params) {
  const before = await clockNow(sdk);
  const sub = unwrap(await sdk.subscriptions.create(params));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/subscriptions");
  assert.equal(lastExchange().status, 200);
  const after = await clockNow(sdk);
  assertTimestamp(sub.startDate, "startDate");
  assert.ok(before <= sub.startDate && sub.startDate <= after, `startDate ${sub.startDate} is the clock at creation (${before} .. ${after})`);
  assert.equal(sub.createdAt, sub.startDate, "createdAt is the same clock instant as startDate");
  assert.equal(sub.updatedAt, sub.createdAt);
  return sub;
}

const CANCELED_KEYS = [
  "cancelReason",
  "canceledAt",
  "customerId",
  "id",
  "livemode",
  "object",
  "scheduledCancellationDate",
  "status",
  "updatedAt",
];

test("create with planCode, billingInterval and initialSeats -> get -> getActive -> list", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, plan } = await seatPlan(sandbox);
  const customer = await newCustomer(sandbox);

  // the customer is referenced by externalId; the subscription answers with the cus_ id
  const sub = await subscribe(sandbox, {
    customerId: customer.externalId,
    planCode: plan.code,
    billingInterval: "monthly",
    initialSeats: { [feature.code]: 6 },
  });
  assert.deepEqual(JSON.parse(lastCall("POST /api/v1/subscriptions").requestBody), {
    customerId: customer.externalId,
    planCode: plan.code,
    billingInterval: "monthly",
    initialSeats: { [feature.code]: 6 },
  });
  const expected = { customer, plan, feature, seats: 6 };
  const { start, end } = assertLegacySubscription(sub, expected);
  assert.equal(start, sub.startDate, "currentPeriod.start == startDate");
  assert.equal(sub.nextBillingDate, end);

  // get
  assert.deepEqual(unwrap(await sandbox.subscriptions.get({ id: sub.id })), sub);
  assert.equal(requestLine(lastExchange()), `GET /api/v1/subscriptions/${sub.id}`);

  // get active, by externalId and by cus_ id
  assert.deepEqual(unwrap(await sandbox.subscriptions.getActive({ customerId: customer.externalId })), sub);
  assert.equal(
    requestLine(lastExchange()),
    `GET /api/v1/subscriptions/active?customerId=${encodeURIComponent(customer.externalId)}`,
  );
  assert.deepEqual(unwrap(await sandbox.subscriptions.getActive({ customerId: customer.id })), sub);

  // list filtered by customer, and by status
  const listed = await sandbox.subscriptions.list({ customerId: customer.id });
  assert.equal(requestLine(lastExchange()), `GET /api/v1/subscriptions?customerId=${customer.id}`);
  assert.deepEqual(assertLegacyList(listed), [sub]);
  assert.equal(listed.hasMore, false);
  assert.deepEqual(assertLegacyList(await sandbox.subscriptions.list({ customerId: customer.externalId })), [sub]);
  assert.deepEqual(
    assertLegacyList(await sandbox.subscriptions.list({ customerId: customer.id, status: "active" })),
    [sub],
  );
  assert.deepEqual(
    assertLegacyList(await sandbox.subscriptions.list({ customerId: customer.id, status: "canceled" })),
    [],
  );

  // a second live subscription is refused
  await expectApiError(
    sandbox.subscriptions.create({ customerId: customer.id, planCode: plan.code, billingInterval: "monthly" }),
    { status: 409, code: "already_has_active_subscription", type: "conflict_error" },
  );
  assert.deepEqual(assertLegacyList(await sandbox.subscriptions.list({ customerId: customer.id })), [sub]);
});

test("getActive without a subscription -> {success:true, data:null}; unknown customer -> 404", async () => {
  const sandbox = client(SANDBOX_KEY);
  const customer = await newCustomer(sandbox, "no-sub");

  const res = await sandbox.subscriptions.getActive({ customerId: customer.id });
  assert.deepEqual(res, { success: true, data: null });
  assert.equal(lastExchange().status, 200);
  assert.deepEqual(assertLegacyList(await sandbox.subscriptions.list({ customerId: customer.id })), []);

  await expectApiError(sandbox.subscriptions.getActive({ customerId: unique("ghost") }), {
    status: 404,
    code: "customer_not_found",
    type: "not_found_error",
  });
  await expectApiError(sandbox.subscriptions.get({ id: "sub_01J0000000000000000000000Z" }), {
    status: 404,
    code: "subscription_not_found",
    type: "not_found_error",
  });
});

test("planId without billingInterval takes the default price; yearly interval; no initial seats", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, plan } = await seatPlan(sandbox);

  // default price (monthly, the first one added)
  const first = await newCustomer(sandbox);
  const monthly = await subscribe(sandbox, { customerId: first.id, planId: plan.id });
  assertLegacySubscription(monthly, { customer: first, plan, feature, seats: 0 });

  // explicit yearly interval: basePrice from the yearly price, period of 12 months
  const second = await newCustomer(sandbox);
  const yearly = await subscribe(sandbox, { customerId: second.id, planId: plan.id, billingInterval: "yearly" });
  assertLegacySubscription(yearly, {
    customer: second,
    plan,
    feature,
    seats: 0,
    interval: "yearly",
    basePrice: YEARLY_PRICE,
  });
  assert.notEqual(YEARLY_PRICE, MONTHLY_PRICE);

  // an interval the plan has no price for
  const third = await newCustomer(sandbox);
  await expectApiError(
    sandbox.subscriptions.create({ customerId: third.id, planId: plan.id, billingInterval: "weekly" }),
    { status: 409, code: "no_prices_configured", type: "conflict_error" },
  );
  assert.deepEqual(await sandbox.subscriptions.getActive({ customerId: third.id }), { success: true, data: null });
});

test("cancel at period end -> uncancel (legacy small shapes)", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, plan } = await seatPlan(sandbox);
  const customer = await newCustomer(sandbox);
  const sub = await subscribe(sandbox, {
    customerId: customer.id,
    planCode: plan.code,
    billingInterval: "monthly",
    initialSeats: { [feature.code]: 6 },
  });
  const { end } = assertLegacySubscription(sub, { customer, plan, feature, seats: 6 });

  // uncancel before anything is scheduled
  await expectApiError(sandbox.subscriptions.uncancel({ id: sub.id }), {
    status: 409,
    code: "not_scheduled_for_cancellation",
    type: "conflict_error",
  });

  // cancel: scheduled for the end of the current period; the small CanceledSubscription
  const canceled = unwrap(await sandbox.subscriptions.cancel({ id: sub.id, reason: "switching tools" }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${sub.id}/cancel`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { reason: "switching tools" });
  assert.deepEqual(sortedKeys(canceled), CANCELED_KEYS, "legacy CanceledSubscription fields only");
  assertTimestamp(canceled.canceledAt, "canceledAt");
  assertTimestamp(canceled.updatedAt, "updatedAt");
  assert.deepEqual(canceled, {
    id: sub.id,
    customerId: customer.id,
    status: "active",
    canceledAt: canceled.canceledAt,
    cancelReason: "switching tools",
    scheduledCancellationDate: end,
    updatedAt: canceled.updatedAt,
    object: "subscription",
    livemode: false,
  });

  // get: still active, with the schedule
  const scheduled = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assertLegacySubscription(scheduled, {
    customer,
    plan,
    feature,
    seats: 6,
    overrides: {
      cancelAtPeriodEnd: true,
      cancellation: { scheduledAt: canceled.canceledAt, reason: "switching tools", effectiveAt: end },
      endDate: end,
      nextBillingDate: null,
      updatedAt: canceled.updatedAt,
    },
  });
  assert.deepEqual(unwrap(await sandbox.subscriptions.getActive({ customerId: customer.id })), scheduled);

  // scheduling again is a no-op
  const again = unwrap(await sandbox.subscriptions.cancel({ id: sub.id, reason: "switching tools" }));
  assert.equal(again.status, "active");
  assert.equal(again.scheduledCancellationDate, end);

  // uncancel: the small UncanceledSubscription (N7 always sends the body {})
  const uncanceled = unwrap(await sandbox.subscriptions.uncancel({ id: sub.id }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${sub.id}/uncancel`);
  assert.equal(lastExchange().requestBody, "{}");
  assertTimestamp(uncanceled.updatedAt, "updatedAt");
  assert.deepEqual(uncanceled, {
    id: sub.id,
    customerId: customer.id,
    status: "active",
    updatedAt: uncanceled.updatedAt,
    object: "subscription",
    livemode: false,
  });
  const restored = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assertLegacySubscription(restored, {
    customer,
    plan,
    feature,
    seats: 6,
    overrides: { updatedAt: uncanceled.updatedAt },
  });

  // nothing scheduled any more
  await expectApiError(sandbox.subscriptions.uncancel({ id: sub.id }), {
    status: 409,
    code: "not_scheduled_for_cancellation",
    type: "conflict_error",
  });
});

test("immediate cancel -> canceled, no current period; uncancel/cancel -> 409; a new one can start", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, plan } = await seatPlan(sandbox);
  const customer = await newCustomer(sandbox);
  const sub = await subscribe(sandbox, { customerId: customer.id, planCode: plan.code, billingInterval: "monthly" });

  const canceled = unwrap(await sandbox.subscriptions.cancel({ id: sub.id, immediate: true }));
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { immediate: true });
  assert.deepEqual(sortedKeys(canceled), CANCELED_KEYS, "legacy CanceledSubscription fields only");
  assertTimestamp(canceled.canceledAt, "canceledAt");
  assertTimestamp(canceled.scheduledCancellationDate, "scheduledCancellationDate");
  assert.deepEqual(canceled, {
    id: sub.id,
    customerId: customer.id,
    status: "canceled",
    canceledAt: canceled.canceledAt,
    cancelReason: null,
    scheduledCancellationDate: canceled.scheduledCancellationDate,
    updatedAt: canceled.updatedAt,
    object: "subscription",
    livemode: false,
  });
  assert.ok(canceled.scheduledCancellationDate >= sub.startDate);

  const got = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.equal(got.id, sub.id);
  assert.equal(got.status, "canceled");
  assert.equal(got.currentPeriod, null);
  assert.equal(got.nextBillingDate, null);
  assert.equal(got.startDate, sub.startDate);
  assert.deepEqual(got.plan, sub.plan);

  // no live subscription any more
  assert.deepEqual(await sandbox.subscriptions.getActive({ customerId: customer.id }), { success: true, data: null });
  assert.deepEqual(
    assertLegacyList(await sandbox.subscriptions.list({ customerId: customer.id, status: "canceled" })),
    [got],
  );

  await expectApiError(sandbox.subscriptions.uncancel({ id: sub.id }), {
    status: 409,
    code: "subscription_already_canceled",
    type: "conflict_error",
  });
  await expectApiError(sandbox.subscriptions.cancel({ id: sub.id }), {
    status: 409,
    code: "subscription_already_canceled",
    type: "conflict_error",
  });

  // the customer may subscribe again
  const next = await subscribe(sandbox, { customerId: customer.id, planCode: plan.code, billingInterval: "monthly" });
  assert.notEqual(next.id, sub.id);
  assertLegacySubscription(next, { customer, plan, feature, seats: 0 });
  const all = assertLegacyList(await sandbox.subscriptions.list({ customerId: customer.id }));
  assert.deepEqual(all.map((s) => s.id).sort(), [sub.id, next.id].sort());
});

test("subscription create errors: no plan, unknown plan/customer/feature code", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, plan } = await seatPlan(sandbox);
  const customer = await newCustomer(sandbox);

  // exactly one of planId / planCode
  const missing = await expectValidationError(
    sandbox.subscriptions.create({ customerId: customer.id, billingInterval: "monthly" }),
  );
  assert.ok(["planId", "planCode"].includes(missing.param), `param: ${missing.param}`);
  assert.ok(missing.details.some((d) => d.field === missing.param));
  const both = await expectValidationError(
    sandbox.subscriptions.create({ customerId: customer.id, planId: plan.id, planCode: plan.code }),
  );
  assert.ok(["planId", "planCode"].includes(both.param), `param: ${both.param}`);

  await expectApiError(sandbox.subscriptions.create({ customerId: customer.id, planCode: unique("ghost") }), {
    status: 404,
    code: "plan_not_found",
    type: "not_found_error",
  });
  await expectApiError(sandbox.subscriptions.create({ customerId: unique("ghost"), planCode: plan.code }), {
    status: 404,
    code: "customer_not_found",
    type: "not_found_error",
  });
  const ghostCode = featureCode("ghost");
  await expectApiError(
    sandbox.subscriptions.create({ customerId: customer.id, planCode: plan.code, initialSeats: { [ghostCode]: 2 } }),
    { status: 404, code: "feature_not_found", type: "not_found_error", param: `initialSeats.${ghostCode}` },
  );
  await expectValidationError(
    sandbox.subscriptions.create({ customerId: customer.id, planCode: plan.code, initialSeats: { [feature.code]: -1 } }),
  );
  // semiannual exists only from 2026-08-27
  await expectValidationError(
    sandbox.subscriptions.create({ customerId: customer.id, planCode: plan.code, billingInterval: "semiannual" }),
    "billingInterval",
  );

  // none of these created anything
  assert.deepEqual(await sandbox.subscriptions.getActive({ customerId: customer.id }), { success: true, data: null });
});
