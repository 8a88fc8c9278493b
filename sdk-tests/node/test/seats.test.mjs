// Seats through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope; seats.md).
// Nothing here moves the test clock. Timestamps are checked against the sandbox clock read just
// before and just after each call (equal when the clock is frozen, a short window in real time).
//
// Wire mapping (dist/index.mjs SeatsResource; prefix /api/v1; the second argument of every method
// is RequestOptions {apiVersion?, idempotencyKey?, timeout?}):
//   seats.add({customerId, featureCode, count})      POST   /seats          body = params
//   seats.set({customerId, featureCode, count})      PUT    /seats          body = params
//   seats.remove({customerId, featureCode, count})   DELETE /seats          body = params (JSON, on a
//                                                    DELETE); no auto Idempotency-Key (the SDK adds
//                                                    one to POST/PUT/PATCH only)
//   seats.setAll({customerId, seats: {code: n}})     PUT    /seats/bulk     body = params
//   seats.getBalance({customerId, featureCode})      GET    /seats/balance?customerId=&featureCode=
//   seats.getAllBalances({customerId})               GET    /seats/balances?customerId=
// Declared results (index.d.ts): ApiResponse<SeatEvent> for add/set/remove,
// ApiResponse<BulkSeatUpdate[]> for setAll (SeatEvent without customerId), ApiResponse<SeatBalance>,
// and ApiResponse<SeatBalanceListItem> = {object:"seat", livemode} for getAllBalances: the payload
// is the code-keyed map with object/livemode mixed in (seats.md §4.4). object is "seat" throughout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  assertTimestamp,
  base62,
  client,
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
import { assertLegacySubscription, INCLUDED_SEATS, newCustomer, SEAT_UNIT_PRICE, seatPlan } from "./fixtures.mjs";

const SEAT_EVENT_ID = /^sev_[0-9A-HJKMNP-TV-Z]{26}$/;
const SEAT_EVENT_KEYS = [
  "createdAt",
  "customerId",
  "featureCode",
  "id",
  "livemode",
  "newBalance",
  "object",
  "previousBalance",
  "ts",
];
const BULK_UPDATE_KEYS = SEAT_EVENT_KEYS.filter((key) => key !== "customerId");
const AUTO_IDEMPOTENCY_KEY = /^commet-node-retry-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Reads the sandbox clock's "now" (real time until the clock is first advanced). */
async function clockNow(sdk) {
  return unwrap(await sdk.testClock.get()).now;
}

/**
 * Runs one SDK call between two clock reads. Returns the unwrapped result, the call's recorded
 * exchange and the clock window [before, after] the change must fall in.
 */
async function timed(sdk, call) {
  const before = await clockNow(sdk);
  const data = unwrap(await call());
  const wire = lastExchange();
  const after = await clockNow(sdk);
  assert.equal(wire.status, 200, requestLine(wire));
  return { data, wire, before, after };
}

/** A seats feature attached to `plan` like the fixture's: 5 included, overage at $25. */
async function addSeatsFeature(sdk, plan, { enabled } = {}) {
  const feature = unwrap(
    await sdk.features.create({ name: unique("Viewer seats"), code: featureCode("seat"), type: "seats", unitName: "seat" }),
  );
  unwrap(
    await sdk.plans.addFeature({
      id: plan.id,
      featureId: feature.id,
      ...(enabled === undefined ? {} : { enabled }),
      includedAmount: INCLUDED_SEATS,
      overage: { enabled: true, unitPrice: SEAT_UNIT_PRICE },
    }),
  );
  return feature;
}

/**
 * fixtures.seatPlan (a seats feature on a plan with a monthly and a yearly price, 5 included,
 * overage at $25) plus `extra` more seats features attached the same way. Returns the seats
 * features (the fixture's first) and the plan.
 */
async function seatCatalog(sdk, extra = 0) {
  const { feature, plan } = await seatPlan(sdk);
  const features = [feature];
  for (let i = 0; i < extra; i++) features.push(await addSeatsFeature(sdk, plan));
  return { features, plan };
}

/**
 * A new customer (with an externalId) and an active monthly subscription to `plan` created with
 * `initialSeats`; checks startDate against the clock read around the call.
 */
async function subscribe(sdk, plan, initialSeats) {
  const customer = await newCustomer(sdk, "seat-cust");
  const before = await clockNow(sdk);
  const sub = unwrap(
    await sdk.subscriptions.create({ customerId: customer.id, planCode: plan.code, billingInterval: "monthly", initialSeats }),
  );
  const after = await clockNow(sdk);
  assert.equal(sub.status, "active");
  assertTimestamp(sub.startDate, "startDate");
  assert.ok(before <= sub.startDate && sub.startDate <= after, `startDate ${sub.startDate} in [${before}, ${after}]`);
  return { customer, sub };
}

/** seatCatalog + subscribe with 6 seats of the first feature. */
async function seatSubscription(sdk) {
  const { features, plan } = await seatCatalog(sdk);
  const [feature] = features;
  const { customer, sub } = await subscribe(sdk, plan, { [feature.code]: 6 });
  return { feature, plan, customer, sub };
}

/** A legacy SeatEvent, field by field; ts == createdAt == the clock at the change. */
function assertSeatEvent(event, { customer, feature, previous, next, before, after }) {
  assert.deepEqual(sortedKeys(event), SEAT_EVENT_KEYS, "legacy SeatEvent fields");
  assert.match(event.id, SEAT_EVENT_ID);
  assertTimestamp(event.ts, "ts");
  assert.equal(event.createdAt, event.ts, "createdAt is the same clock instant as ts");
  assert.ok(before <= event.ts && event.ts <= after, `ts ${event.ts} is the clock at the change (${before} .. ${after})`);
  assert.deepEqual(event, {
    id: event.id,
    customerId: customer.id,
    featureCode: feature.code,
    previousBalance: previous,
    newBalance: next,
    ts: event.ts,
    createdAt: event.ts,
    object: "seat",
    livemode: false,
  });
}

/** A legacy BulkSeatUpdate: a SeatEvent without customerId (N7 type). */
function assertBulkUpdate(item, { feature, previous, next, before, after }) {
  assert.deepEqual(sortedKeys(item), BULK_UPDATE_KEYS, "legacy BulkSeatUpdate fields (no customerId)");
  assert.match(item.id, SEAT_EVENT_ID);
  assertTimestamp(item.ts, "ts");
  assert.ok(before <= item.ts && item.ts <= after, `ts ${item.ts} is the clock at the change (${before} .. ${after})`);
  assert.deepEqual(item, {
    id: item.id,
    featureCode: feature.code,
    previousBalance: previous,
    newBalance: next,
    ts: item.ts,
    createdAt: item.ts,
    object: "seat",
    livemode: false,
  });
}

/** getBalance through the SDK, checked on the wire: exactly {current, asOf, object:"seat", livemode}. */
async function assertBalance(sdk, customerId, feature, current, asOf) {
  const balance = unwrap(await sdk.seats.getBalance({ customerId, featureCode: feature.code }));
  assert.equal(
    requestLine(lastExchange()),
    `GET /api/v1/seats/balance?customerId=${encodeURIComponent(customerId)}&featureCode=${feature.code}`,
  );
  assert.equal(lastExchange().status, 200);
  assertTimestamp(balance.asOf, "asOf");
  assert.deepEqual(balance, { current, asOf, object: "seat", livemode: false });
}

/** The legacy all-balances payload: code -> {current, asOf}, plus object:"seat" and livemode. */
async function allBalances(sdk, customerId) {
  const data = unwrap(await sdk.seats.getAllBalances({ customerId }));
  assert.equal(requestLine(lastExchange()), `GET /api/v1/seats/balances?customerId=${encodeURIComponent(customerId)}`);
  assert.equal(lastExchange().status, 200);
  return data;
}

/** expectApiError plus the error's `details` (wire and SDK) and the SDK error's param. */
async function expectSeatError(promise, { details, ...expected }) {
  let sdkError;
  const wire = await expectApiError(
    promise.catch((error) => {
      sdkError = error;
      throw error;
    }),
    expected,
  );
  if (expected.param !== undefined) assert.equal(sdkError.param, expected.param, "CommetAPIError.param");
  if (details !== undefined) {
    assert.deepEqual(wire.details, details, "error.details on the wire");
    assert.deepEqual(sdkError.details, details, "CommetAPIError.details");
  }
  assert.equal(typeof wire.message, "string");
  assert.ok(wire.message.length > 0);
  assert.equal(sdkError.message, wire.message);
  return wire;
}

test("add 1 (by externalId) and 3 (by cus_ id) -> SeatEvents; getBalance; the subscription shows the count", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, plan, customer, sub } = await seatSubscription(sandbox);

  // by externalId: the event names the cus_ id
  const one = await timed(sandbox, () =>
    sandbox.seats.add({ customerId: customer.externalId, featureCode: feature.code, count: 1 }),
  );
  assert.equal(requestLine(one.wire), "POST /api/v1/seats");
  assert.deepEqual(JSON.parse(one.wire.requestBody), {
    customerId: customer.externalId,
    featureCode: feature.code,
    count: 1,
  });
  assert.match(one.wire.requestHeaders["idempotency-key"] ?? "", AUTO_IDEMPOTENCY_KEY, "auto Idempotency-Key on POST");
  assertSeatEvent(one.data, { customer, feature, previous: 6, next: 7, before: one.before, after: one.after });

  // by cus_ id
  const three = await timed(sandbox, () => sandbox.seats.add({ customerId: customer.id, featureCode: feature.code, count: 3 }));
  assert.deepEqual(JSON.parse(three.wire.requestBody), { customerId: customer.id, featureCode: feature.code, count: 3 });
  assertSeatEvent(three.data, { customer, feature, previous: 7, next: 10, before: three.before, after: three.after });
  assert.notEqual(three.data.id, one.data.id);
  assert.ok(one.data.ts <= three.data.ts, "events in call order");

  // the balance, by either identifier; asOf = the latest event's ts
  await assertBalance(sandbox, customer.externalId, feature, 10, three.data.ts);
  await assertBalance(sandbox, customer.id, feature, 10, three.data.ts);
  assert.deepEqual(await allBalances(sandbox, customer.id), {
    [feature.code]: { current: 10, asOf: three.data.ts },
    object: "seat",
    livemode: false,
  });

  // the subscription's seats feature follows the balance (10 held, 5 included, 5 overage)
  const got = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assertLegacySubscription(got, { customer, plan, feature, seats: 10, overrides: { updatedAt: got.updatedAt } });
});

test("set up, down and to the same value; remove (DELETE /seats with a JSON body) lowers the balance now", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, customer, sub } = await seatSubscription(sandbox);
  await assertBalance(sandbox, customer.id, feature, 6, sub.startDate);

  const up = await timed(sandbox, () => sandbox.seats.set({ customerId: customer.id, featureCode: feature.code, count: 8 }));
  assert.equal(requestLine(up.wire), "PUT /api/v1/seats");
  assert.deepEqual(JSON.parse(up.wire.requestBody), { customerId: customer.id, featureCode: feature.code, count: 8 });
  assert.match(up.wire.requestHeaders["idempotency-key"] ?? "", AUTO_IDEMPOTENCY_KEY, "auto Idempotency-Key on PUT");
  assertSeatEvent(up.data, { customer, feature, previous: 6, next: 8, before: up.before, after: up.after });

  const down = await timed(sandbox, () =>
    sandbox.seats.set({ customerId: customer.externalId, featureCode: feature.code, count: 3 }),
  );
  assertSeatEvent(down.data, { customer, feature, previous: 8, next: 3, before: down.before, after: down.after });
  await assertBalance(sandbox, customer.id, feature, 3, down.data.ts);

  // setting the current value still records an event, with equal balances
  const same = await timed(sandbox, () => sandbox.seats.set({ customerId: customer.id, featureCode: feature.code, count: 3 }));
  assertSeatEvent(same.data, { customer, feature, previous: 3, next: 3, before: same.before, after: same.after });
  assert.notEqual(same.data.id, down.data.id);
  await assertBalance(sandbox, customer.id, feature, 3, same.data.ts);

  // remove: DELETE with the params as a JSON body, and (N7) no Idempotency-Key of its own
  const removed = await timed(sandbox, () =>
    sandbox.seats.remove({ customerId: customer.externalId, featureCode: feature.code, count: 2 }),
  );
  assert.equal(requestLine(removed.wire), "DELETE /api/v1/seats");
  assert.deepEqual(JSON.parse(removed.wire.requestBody), {
    customerId: customer.externalId,
    featureCode: feature.code,
    count: 2,
  });
  assert.equal(removed.wire.requestHeaders["idempotency-key"], undefined, "N7 adds no Idempotency-Key to DELETE");
  assertSeatEvent(removed.data, { customer, feature, previous: 3, next: 1, before: removed.before, after: removed.after });
  // lower at once (seats.md §3.3: only billing waits for the period end)
  await assertBalance(sandbox, customer.id, feature, 1, removed.data.ts);

  // down to zero is allowed
  const last = await timed(sandbox, () => sandbox.seats.remove({ customerId: customer.id, featureCode: feature.code, count: 1 }));
  assertSeatEvent(last.data, { customer, feature, previous: 1, next: 0, before: last.before, after: last.after });
  await assertBalance(sandbox, customer.externalId, feature, 0, last.data.ts);
  const ids = [up, down, same, removed, last].map((call) => call.data.id);
  assert.equal(new Set(ids).size, ids.length, "one new event per call");
});

test("setAll with two seats features: one changed, one unchanged -> BulkSeatUpdate[] ordered by code", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { features, plan } = await seatCatalog(sandbox, 1);
  const [a, b] = features;
  const { customer, sub } = await subscribe(sandbox, plan, { [a.code]: 6, [b.code]: 2 });

  // a: 6 -> 9, b: 2 -> 2; named in descending code order, answered in ascending code order
  const expected = {
    [a.code]: { feature: a, previous: 6, next: 9 },
    [b.code]: { feature: b, previous: 2, next: 2 },
  };
  const [low, high] = [a.code, b.code].sort();
  const seats = { [high]: expected[high].next, [low]: expected[low].next };
  assert.deepEqual(Object.keys(seats), [high, low]);

  const bulk = await timed(sandbox, () => sandbox.seats.setAll({ customerId: customer.externalId, seats }));
  assert.equal(requestLine(bulk.wire), "PUT /api/v1/seats/bulk");
  assert.deepEqual(JSON.parse(bulk.wire.requestBody), { customerId: customer.externalId, seats });
  assert.deepEqual(Object.keys(JSON.parse(bulk.wire.requestBody).seats), [high, low], "sent as given");
  assert.match(bulk.wire.requestHeaders["idempotency-key"] ?? "", AUTO_IDEMPOTENCY_KEY);
  assert.ok(Array.isArray(bulk.data), "data is an array of BulkSeatUpdate (no hasMore: unwrap checked the keys)");
  assert.deepEqual(
    bulk.data.map((item) => item.featureCode),
    [low, high],
    "one item per named feature, the unchanged one included, ascending code order",
  );
  bulk.data.forEach((item) => assertBulkUpdate(item, { ...expected[item.featureCode], before: bulk.before, after: bulk.after }));
  assert.notEqual(bulk.data[0].id, bulk.data[1].id);
  const event = Object.fromEntries(bulk.data.map((item) => [item.featureCode, item]));

  // both balances; asOf = each feature's latest event (the unchanged feature's too)
  assert.deepEqual(await allBalances(sandbox, customer.id), {
    [a.code]: { current: 9, asOf: event[a.code].ts },
    [b.code]: { current: 2, asOf: event[b.code].ts },
    object: "seat",
    livemode: false,
  });
  await assertBalance(sandbox, customer.id, a, 9, event[a.code].ts);
  await assertBalance(sandbox, customer.externalId, b, 2, event[b.code].ts);
  assert.ok(sub.startDate <= event[a.code].ts);

  // a feature that is not named is left alone (not zeroed)
  const onlyB = await timed(sandbox, () => sandbox.seats.setAll({ customerId: customer.id, seats: { [b.code]: 4 } }));
  assert.equal(onlyB.data.length, 1);
  assertBulkUpdate(onlyB.data[0], { feature: b, previous: 2, next: 4, before: onlyB.before, after: onlyB.after });
  await assertBalance(sandbox, customer.id, a, 9, event[a.code].ts);
  await assertBalance(sandbox, customer.id, b, 4, onlyB.data[0].ts);
});

test("getAllBalances: every enabled seats feature of the plan, never-set ones at 0; legacy map with object/livemode", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { features, plan } = await seatCatalog(sandbox, 1);
  const [feature, never] = features;
  // on the plan but not balances: a disabled seats feature and a boolean feature
  const disabled = await addSeatsFeature(sandbox, plan, { enabled: false });
  const sso = unwrap(await sandbox.features.create({ name: unique("Single sign-on"), code: featureCode("sso"), type: "boolean" }));
  unwrap(await sandbox.plans.addFeature({ id: plan.id, featureId: sso.id }));
  const { customer, sub } = await subscribe(sandbox, plan, { [feature.code]: 6 });
  const start = sub.startDate;

  const all = await allBalances(sandbox, customer.externalId);
  assert.deepEqual(sortedKeys(all), [feature.code, never.code, "livemode", "object"].sort(), "enabled seats features only");
  assert.deepEqual(all, {
    [feature.code]: { current: 6, asOf: start },
    [never.code]: { current: 0, asOf: start },
    object: "seat",
    livemode: false,
  });
  assertTimestamp(all[never.code].asOf, "asOf");
  assert.equal(all[disabled.code], undefined);
  assert.equal(all[sso.code], undefined);
  await assertBalance(sandbox, customer.id, never, 0, start);
  await assertBalance(sandbox, customer.externalId, feature, 6, start);

  // the never-set feature gets its first event
  const added = await timed(sandbox, () => sandbox.seats.add({ customerId: customer.id, featureCode: never.code, count: 3 }));
  assertSeatEvent(added.data, { customer, feature: never, previous: 0, next: 3, before: added.before, after: added.after });
  assert.deepEqual(await allBalances(sandbox, customer.id), {
    [feature.code]: { current: 6, asOf: start },
    [never.code]: { current: 3, asOf: added.data.ts },
    object: "seat",
    livemode: false,
  });
});

test("seat errors: insufficient_seats, feature_not_in_plan, feature_not_found, customer_not_found, no_active_subscription, validation, 401", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { features, plan } = await seatCatalog(sandbox);
  const [feature] = features;
  // on the plan: a boolean feature and a disabled seats feature; a seats feature on no plan
  const sso = unwrap(await sandbox.features.create({ name: unique("Single sign-on"), code: featureCode("sso"), type: "boolean" }));
  unwrap(await sandbox.plans.addFeature({ id: plan.id, featureId: sso.id }));
  const disabled = await addSeatsFeature(sandbox, plan, { enabled: false });
  const offPlan = unwrap(
    await sandbox.features.create({ name: unique("Guest seats"), code: featureCode("seat"), type: "seats", unitName: "seat" }),
  );
  const { customer, sub } = await subscribe(sandbox, plan, { [feature.code]: 6 });
  const ghost = featureCode("ghost");
  const cid = customer.id;

  // remove more than held (examples.md scenario 4)
  await expectSeatError(sandbox.seats.remove({ customerId: customer.externalId, featureCode: feature.code, count: 50 }), {
    status: 400,
    code: "insufficient_seats",
    type: "billing_error",
    param: "count",
    details: { featureCode: feature.code, current: 6, requested: 50 },
  });
  assert.equal(requestLine(lastExchange()), "DELETE /api/v1/seats");
  await expectSeatError(sandbox.seats.remove({ customerId: cid, featureCode: feature.code, count: 7 }), {
    status: 400,
    code: "insufficient_seats",
    type: "billing_error",
    param: "count",
    details: { featureCode: feature.code, current: 6, requested: 7 },
  });

  // a seats feature the plan does not have, or has disabled
  for (const code of [offPlan.code, disabled.code]) {
    await expectSeatError(sandbox.seats.add({ customerId: cid, featureCode: code, count: 1 }), {
      status: 400,
      code: "feature_not_in_plan",
      type: "billing_error",
      param: "featureCode",
    });
  }
  await expectSeatError(sandbox.seats.getBalance({ customerId: cid, featureCode: offPlan.code }), {
    status: 400,
    code: "feature_not_in_plan",
    type: "billing_error",
    param: "featureCode",
  });

  // not a seats feature (although on the plan), or no such feature
  for (const code of [sso.code, ghost]) {
    await expectSeatError(sandbox.seats.add({ customerId: cid, featureCode: code, count: 1 }), {
      status: 404,
      code: "feature_not_found",
      type: "not_found_error",
      param: "featureCode",
    });
  }
  await expectSeatError(sandbox.seats.set({ customerId: cid, featureCode: ghost, count: 2 }), {
    status: 404,
    code: "feature_not_found",
    type: "not_found_error",
    param: "featureCode",
  });
  await expectSeatError(sandbox.seats.getBalance({ customerId: cid, featureCode: sso.code }), {
    status: 404,
    code: "feature_not_found",
    type: "not_found_error",
    param: "featureCode",
  });

  // unknown customer
  const stranger = unique("ghost");
  await expectSeatError(sandbox.seats.add({ customerId: stranger, featureCode: feature.code, count: 1 }), {
    status: 404,
    code: "customer_not_found",
    type: "not_found_error",
    param: "customerId",
  });
  await expectSeatError(sandbox.seats.getAllBalances({ customerId: stranger }), {
    status: 404,
    code: "customer_not_found",
    type: "not_found_error",
    param: "customerId",
  });

  // a customer without a live subscription
  const idle = await newCustomer(sandbox, "seat-idle");
  await expectSeatError(sandbox.seats.add({ customerId: idle.id, featureCode: feature.code, count: 1 }), {
    status: 404,
    code: "no_active_subscription",
    type: "not_found_error",
    param: "customerId",
  });
  await expectSeatError(sandbox.seats.getAllBalances({ customerId: idle.externalId }), {
    status: 404,
    code: "no_active_subscription",
    type: "not_found_error",
    param: "customerId",
  });

  // validation: count 0 on add (examples.md scenario 4), a negative set, 0 on remove
  const zero = await expectValidationError(sandbox.seats.add({ customerId: cid, featureCode: feature.code, count: 0 }), "count");
  assert.equal(zero.details[0].field, "count");
  await expectValidationError(sandbox.seats.set({ customerId: cid, featureCode: feature.code, count: -1 }), "count");
  await expectValidationError(sandbox.seats.remove({ customerId: cid, featureCode: feature.code, count: 0 }), "count");

  // wrong API key
  const intruder = client("ck_sandbox_" + base62(32));
  await expectSeatError(intruder.seats.add({ customerId: cid, featureCode: feature.code, count: 1 }), {
    status: 401,
    code: "unauthorized",
    type: "authentication_error",
    param: null,
    details: null,
  });
  await expectSeatError(intruder.seats.getBalance({ customerId: cid, featureCode: feature.code }), {
    status: 401,
    code: "unauthorized",
    type: "authentication_error",
  });

  // none of that changed anything
  assert.deepEqual(await allBalances(sandbox, cid), {
    [feature.code]: { current: 6, asOf: sub.startDate },
    object: "seat",
    livemode: false,
  });
});

test("setAll with one bad key -> that key's error and nothing applied", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { features, plan } = await seatCatalog(sandbox, 1);
  const [a, b] = features;
  const offPlan = unwrap(
    await sandbox.features.create({ name: unique("Guest seats"), code: featureCode("zzseat"), type: "seats", unitName: "seat" }),
  );
  const { customer, sub } = await subscribe(sandbox, plan, { [a.code]: 6 });
  const initial = {
    [a.code]: { current: 6, asOf: sub.startDate },
    [b.code]: { current: 0, asOf: sub.startDate },
    object: "seat",
    livemode: false,
  };
  assert.deepEqual(await allBalances(sandbox, customer.id), initial);

  // an unknown code that sorts after the good ones (a non-atomic server would apply those first)
  const ghost = featureCode("zzghost");
  assert.ok(ghost > a.code && ghost > b.code);
  await expectSeatError(
    sandbox.seats.setAll({ customerId: customer.id, seats: { [a.code]: 9, [b.code]: 3, [ghost]: 1 } }),
    { status: 404, code: "feature_not_found", type: "not_found_error", param: `seats.${ghost}` },
  );
  assert.equal(requestLine(lastExchange()), "PUT /api/v1/seats/bulk");

  // a seats feature that is not on the plan
  assert.ok(offPlan.code > a.code && offPlan.code > b.code);
  await expectSeatError(
    sandbox.seats.setAll({ customerId: customer.externalId, seats: { [a.code]: 9, [offPlan.code]: 1 } }),
    { status: 400, code: "feature_not_in_plan", type: "billing_error" },
  );

  // a negative count for one of them
  await expectValidationError(sandbox.seats.setAll({ customerId: customer.id, seats: { [a.code]: 9, [b.code]: -1 } }));

  assert.deepEqual(await allBalances(sandbox, customer.id), initial, "no count changed, no event recorded");
});

test("Idempotency-Key: a replayed add is applied once (Idempotent-Replayed: true); another body -> 409", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { feature, customer } = await seatSubscription(sandbox);
  const key = `sdk-node-seats-${randomUUID()}`;
  const params = { customerId: customer.id, featureCode: feature.code, count: 2 };

  const first = await timed(sandbox, () => sandbox.seats.add(params, { idempotencyKey: key }));
  assert.equal(first.wire.requestHeaders["idempotency-key"], key, "the caller's key replaces the auto key");
  assert.notEqual(first.wire.headers["idempotent-replayed"], "true");
  assertSeatEvent(first.data, { customer, feature, previous: 6, next: 8, before: first.before, after: first.after });
  const firstBody = await first.wire.json();

  const again = await sandbox.seats.add(params, { idempotencyKey: key });
  const replay = lastExchange();
  assert.equal(replay.requestHeaders["idempotency-key"], key);
  assert.equal(replay.status, 200);
  assert.equal(replay.headers["idempotent-replayed"], "true");
  assert.deepEqual(await replay.json(), firstBody, "the first response, replayed");
  assert.deepEqual(unwrap(again), first.data);
  await assertBalance(sandbox, customer.id, feature, 8, first.data.ts);

  // same key, another count
  await expectSeatError(sandbox.seats.add({ ...params, count: 3 }, { idempotencyKey: key }), {
    status: 409,
    code: "idempotency_key_mismatch",
    type: "conflict_error",
  });
  await assertBalance(sandbox, customer.id, feature, 8, first.data.ts);

  // N7's DELETE /seats gets no auto key, but a caller's key makes a retried remove safe too
  const removeKey = `sdk-node-seats-${randomUUID()}`;
  const removeParams = { customerId: customer.id, featureCode: feature.code, count: 1 };
  const removed = await timed(sandbox, () => sandbox.seats.remove(removeParams, { idempotencyKey: removeKey }));
  assert.equal(requestLine(removed.wire), "DELETE /api/v1/seats");
  assert.equal(removed.wire.requestHeaders["idempotency-key"], removeKey);
  assertSeatEvent(removed.data, { customer, feature, previous: 8, next: 7, before: removed.before, after: removed.after });
  const removedAgain = unwrap(await sandbox.seats.remove(removeParams, { idempotencyKey: removeKey }));
  assert.equal(lastExchange().headers["idempotent-replayed"], "true");
  assert.deepEqual(removedAgain, removed.data);
  await assertBalance(sandbox, customer.id, feature, 7, removed.data.ts);
});
