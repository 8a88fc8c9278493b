// Usage metering through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope;
// usage.md §3). Nothing here moves the test clock: every test runs inside its subscription's
// first usage period, and server timestamps are checked against the sandbox clock read around
// the calls.
//
// Wire mapping (dist/index.mjs UsageResource; prefix /api/v1; the second argument of every
// method is RequestOptions {apiVersion?, idempotencyKey?, timeout?}, the Idempotency-Key header):
//   usage.track({feature, customerId, value?, idempotencyKey?, timestamp?, properties?})
//       POST /usage/events  body {feature, customerId, idempotencyKey, timestamp, properties, value}:
//       the SDK always sends `timestamp` (now, from the client's clock, unless given), turns the
//       properties map into [{property, value}] and leaves out what is undefined
//       -> legacy UsageEvent {id, organizationId, customerId, feature, idempotencyKey?, ts,
//          properties?, createdAt, object, livemode} plus Tally's `value` and `consumption?`
//   usage.check({customerId, featureCode, quantity})   POST /usage/check  body = params
//       -> legacy UsageCheckResult (flat: the model's figures, reason/message when refused)
//   usage.set({customerId, feature, value, idempotencyKey?, reason?})   PUT /usage  body = params
//       -> legacy UsageAdjustment {..., feature, idempotencyKey, object: "usage_event"}
// POST and PUT carry an auto `Idempotency-Key: commet-node-retry-<uuid4>` unless one is given.
// The body's `idempotencyKey` is the event key: one event per key and organization, forever
// (409 `duplicate`), unlike the header, which replays the first answer.
import { after, test } from "node:test";
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
import {
  AUTO_IDEMPOTENCY_KEY,
  BALANCE_UNIT_PRICE,
  balanceCatalog,
  CALL_UNIT_PRICE,
  cancelSubscriptions,
  CAPPED_CALLS,
  clockNow,
  CREDITS_PER_UNIT,
  creditsCatalog,
  hardLimitCatalog,
  INCLUDED_BALANCE,
  INCLUDED_CALLS,
  INCLUDED_CREDITS,
  meteredCatalog,
  newFeature,
  newPlan,
  ORGANIZATION_ID,
  PLAN_PRICE,
  PROPERTY_ID,
  subscribe,
  USAGE_EVENT_ID,
} from "./metering.mjs";
import { newCustomer } from "./fixtures.mjs";

after(cancelSubscriptions);

/**
 * Runs one SDK call between two clock reads: the unwrapped result, the call's exchange (with its
 * parsed request body) and the clock window [before, after] its server timestamps fall in.
 */
async function timed(sdk, call) {
  const before = await clockNow(sdk);
  const data = unwrap(await call());
  const wire = lastExchange();
  const after = await clockNow(sdk);
  assert.equal(wire.status, 200, requestLine(wire));
  return { data, wire, sent: JSON.parse(wire.requestBody), before, after };
}

function assertWithin(value, { before, after }, label) {
  assertTimestamp(value, label);
  assert.ok(before <= value && value <= after, `${label} ${value} is the clock at the call (${before} .. ${after})`);
}

/**
 * A legacy UsageEvent, field by field. `ts` is what the SDK sent as `timestamp`; createdAt is
 * the server's clock; the legacy properties carry their own evp_ ids and the event's createdAt.
 */
function assertLegacyEvent(call, { customer, feature, value, idempotencyKey, properties, consumption }) {
  const event = call.data;
  const keys = ["createdAt", "customerId", "feature", "id", "livemode", "object", "organizationId", "ts", "value"];
  if (idempotencyKey !== undefined) keys.push("idempotencyKey");
  if (properties !== undefined) keys.push("properties");
  if (consumption !== undefined) keys.push("consumption");
  assert.deepEqual(sortedKeys(event), keys.sort(), "legacy UsageEvent fields");
  assert.match(event.id, USAGE_EVENT_ID);
  assert.match(event.organizationId, ORGANIZATION_ID);
  assertWithin(event.createdAt, call, "createdAt");
  assertTimestamp(event.ts, "ts");
  const expected = {
    id: event.id,
    organizationId: event.organizationId,
    customerId: customer.id,
    feature: feature.code,
    ts: call.sent.timestamp,
    createdAt: event.createdAt,
    value,
    object: "usage_event",
    livemode: false,
  };
  if (idempotencyKey !== undefined) expected.idempotencyKey = idempotencyKey;
  if (consumption !== undefined) expected.consumption = consumption;
  if (properties !== undefined) {
    expected.properties = Object.entries(properties).map(([property, v], n) => ({
      id: event.properties[n]?.id,
      usageEventId: event.id,
      property,
      value: v,
      createdAt: event.createdAt,
    }));
    event.properties.forEach((p) => assert.match(p.id, PROPERTY_ID));
    assert.equal(new Set(event.properties.map((p) => p.id)).size, event.properties.length, "one id per property");
  }
  assert.deepEqual(event, expected);
}

/** featureAccess.get of a usage feature: its legacy `current`. */
async function usedCalls(sdk, customerId, feature) {
  const access = unwrap(await sdk.featureAccess.get({ customerId, code: feature.code }));
  assert.equal(
    requestLine(lastExchange()),
    `GET /api/v1/feature-access/${feature.code}?customerId=${encodeURIComponent(customerId)}`,
  );
  return access.current;
}

/** expectApiError plus the error's `details` (wire and SDK) and the SDK error's param. */
async function expectUsageError(promise, { details, ...expected }) {
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
  assert.equal(sdkError.message, wire.message);
  return wire;
}

/** A legacy UsageCheckResult, field by field; `message` is checked to be a non-empty string. */
function assertLegacyCheck(check, expected) {
  const { message, ...rest } = check;
  if (expected.reason !== undefined) {
    assert.equal(typeof message, "string", "a refused check explains itself");
    assert.ok(message.length > 0);
  } else {
    assert.equal(message, undefined, "an allowed check has no message");
  }
  assert.deepEqual(rest, { ...expected, object: "usage_check", livemode: false });
}

test("track: legacy UsageEvents by cus_ id (key, properties, timestamp) and by externalId (defaults); the period counter adds up", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { calls, plan } = await meteredCatalog(sandbox);
  const { customer } = await subscribe(sandbox, plan);
  const key = `sdk-node-evt-${randomUUID()}`;
  const properties = { model: "gpt-4o", region: "eu-west" };

  const first = await timed(sandbox, () =>
    sandbox.usage.track({ customerId: customer.id, feature: calls.code, value: 30, idempotencyKey: key, properties }),
  );
  assert.equal(requestLine(first.wire), "POST /api/v1/usage/events");
  assertTimestamp(first.sent.timestamp, "the SDK's timestamp");
  assert.deepEqual(first.sent, {
    feature: calls.code,
    customerId: customer.id,
    idempotencyKey: key,
    timestamp: first.sent.timestamp,
    properties: [
      { property: "model", value: "gpt-4o" },
      { property: "region", value: "eu-west" },
    ],
    value: 30,
  });
  assert.match(first.wire.requestHeaders["idempotency-key"] ?? "", AUTO_IDEMPOTENCY_KEY, "auto Idempotency-Key on POST");
  assertLegacyEvent(first, { customer, feature: calls, value: 30, idempotencyKey: key, properties });

  // by externalId, no value (default 1), no key, no properties: those keys are left out
  const second = await timed(sandbox, () => sandbox.usage.track({ customerId: customer.externalId, feature: calls.code }));
  assert.deepEqual(second.sent, { feature: calls.code, customerId: customer.externalId, timestamp: second.sent.timestamp });
  assertLegacyEvent(second, { customer, feature: calls, value: 1 });
  assert.equal(second.data.organizationId, first.data.organizationId, "one organization");
  assert.notEqual(second.data.id, first.data.id);

  // an explicit timestamp is the event's ts; the unit still counts in the current period
  const earlier = new Date(Date.parse(first.sent.timestamp) - 3600_000).toISOString();
  const third = await timed(sandbox, () =>
    sandbox.usage.track({ customerId: customer.id, feature: calls.code, value: 80, timestamp: earlier }),
  );
  assert.equal(third.sent.timestamp, earlier);
  assertLegacyEvent(third, { customer, feature: calls, value: 80 });
  assert.equal(third.data.ts, earlier);

  // 30 + 1 + 80 = 111 this period: 11 past the 100 included, billable overage, so allowed
  assert.equal(await usedCalls(sandbox, customer.id, calls), 111);
  assert.equal(await usedCalls(sandbox, customer.externalId, calls), 111);
});

test("idempotencyKey (the event key): a second event with it -> 409 duplicate naming the first, in any customer; nothing counted", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { calls, plan } = await meteredCatalog(sandbox);
  const { customer } = await subscribe(sandbox, plan);
  const { customer: other } = await subscribe(sandbox, plan, "usage-other");
  const key = `sdk-node-evt-${randomUUID()}`;

  const first = await timed(sandbox, () =>
    sandbox.usage.track({ customerId: customer.id, feature: calls.code, value: 5, idempotencyKey: key }),
  );
  assertLegacyEvent(first, { customer, feature: calls, value: 5, idempotencyKey: key });

  // the same event again (each SDK call has its own auto Idempotency-Key, so this is not a replay)
  const duplicate = {
    status: 409,
    code: "duplicate",
    type: "conflict_error",
    param: "idempotencyKey",
    details: { usageEventId: first.data.id },
  };
  await expectUsageError(
    sandbox.usage.track({ customerId: customer.id, feature: calls.code, value: 5, idempotencyKey: key }),
    duplicate,
  );
  assert.equal(requestLine(lastExchange()), "POST /api/v1/usage/events");
  // another value, another customer: the key is the organization's, for good
  await expectUsageError(
    sandbox.usage.track({ customerId: other.externalId, feature: calls.code, value: 9, idempotencyKey: key }),
    duplicate,
  );
  // usage.set's idempotencyKey is the same kind of key
  await expectUsageError(
    sandbox.usage.set({ customerId: customer.id, feature: calls.code, value: 50, idempotencyKey: key }),
    duplicate,
  );
  assert.equal(requestLine(lastExchange()), "PUT /api/v1/usage");

  assert.equal(await usedCalls(sandbox, customer.id, calls), 5, "counted once");
  assert.equal(await usedCalls(sandbox, other.id, calls), 0);
  // a fresh key is a fresh event
  const next = await timed(sandbox, () =>
    sandbox.usage.track({ customerId: customer.id, feature: calls.code, value: 5, idempotencyKey: `${key}-2` }),
  );
  assertLegacyEvent(next, { customer, feature: calls, value: 5, idempotencyKey: `${key}-2` });
  assert.equal(await usedCalls(sandbox, customer.id, calls), 10);
});

test("Idempotency-Key header: a replayed track is answered from the first and counted once; another body -> 409 idempotency_key_mismatch", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { calls, plan } = await meteredCatalog(sandbox);
  const { customer } = await subscribe(sandbox, plan);
  const header = `sdk-node-usage-${randomUUID()}`;
  // The SDK stamps every track with the client's time, so a replay must pin `timestamp` to
  // send the same body twice.
  const params = { customerId: customer.id, feature: calls.code, value: 7, timestamp: new Date().toISOString() };

  const first = await timed(sandbox, () => sandbox.usage.track(params, { idempotencyKey: header }));
  assert.equal(first.wire.requestHeaders["idempotency-key"], header, "the caller's key replaces the auto key");
  assert.notEqual(first.wire.headers["idempotent-replayed"], "true");
  assertLegacyEvent(first, { customer, feature: calls, value: 7 });
  const firstBody = await first.wire.json();

  const again = unwrap(await sandbox.usage.track(params, { idempotencyKey: header }));
  const replay = lastExchange();
  assert.equal(replay.status, 200);
  assert.equal(replay.headers["idempotent-replayed"], "true");
  assert.deepEqual(await replay.json(), firstBody, "the first answer, replayed");
  assert.deepEqual(again, first.data);
  assert.equal(await usedCalls(sandbox, customer.id, calls), 7, "counted once");

  // the same key with the SDK's own (new) timestamp is another request
  await expectUsageError(
    sandbox.usage.track({ customerId: customer.id, feature: calls.code, value: 7 }, { idempotencyKey: header }),
    { status: 409, code: "idempotency_key_mismatch", type: "conflict_error" },
  );
  assert.equal(await usedCalls(sandbox, customer.id, calls), 7);

  // usage.set with a caller's key replays too
  const setKey = `sdk-node-usage-${randomUUID()}`;
  const set = await timed(sandbox, () =>
    sandbox.usage.set({ customerId: customer.id, feature: calls.code, value: 3 }, { idempotencyKey: setKey }),
  );
  assert.equal(set.wire.requestHeaders["idempotency-key"], setKey);
  const setAgain = unwrap(
    await sandbox.usage.set({ customerId: customer.id, feature: calls.code, value: 3 }, { idempotencyKey: setKey }),
  );
  assert.equal(lastExchange().headers["idempotent-replayed"], "true");
  assert.deepEqual(setAgain, set.data);
  assert.equal(set.data.previousValue, 7);
  assert.equal(await usedCalls(sandbox, customer.id, calls), 3);
});

test("check: a dry run with the plan's figures, allowed past the included units when overage is billable; checks change nothing", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { calls, plan } = await meteredCatalog(sandbox);
  const { customer } = await subscribe(sandbox, plan);
  const figures = {
    consumptionModel: "metered",
    feature: calls.code,
    unlimited: false,
    included: INCLUDED_CALLS,
    overageEnabled: true,
    overageUnitPrice: CALL_UNIT_PRICE,
  };

  const fresh = unwrap(await sandbox.usage.check({ customerId: customer.id, featureCode: calls.code, quantity: 40 }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/usage/check");
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { customerId: customer.id, featureCode: calls.code, quantity: 40 });
  assert.match(lastExchange().requestHeaders["idempotency-key"] ?? "", AUTO_IDEMPOTENCY_KEY);
  assertLegacyCheck(fresh, { allowed: true, quantity: 40, current: 0, remaining: INCLUDED_CALLS, ...figures });

  unwrap(await sandbox.usage.track({ customerId: customer.id, feature: calls.code, value: 95 }));
  const near = unwrap(await sandbox.usage.check({ customerId: customer.externalId, featureCode: calls.code, quantity: 40 }));
  assertLegacyCheck(near, { allowed: true, quantity: 40, current: 95, remaining: 5, ...figures });
  // the same check again: same answer, nothing recorded
  assert.deepEqual(unwrap(await sandbox.usage.check({ customerId: customer.id, featureCode: calls.code, quantity: 40 })), near);
  assert.equal(await usedCalls(sandbox, customer.id, calls), 95);
});

test("hard limit (overage off): check refuses, track up to the included amount, past it -> 400 included_limit_reached", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { calls, plan } = await hardLimitCatalog(sandbox);
  const { customer } = await subscribe(sandbox, plan);
  const cid = customer.id;
  const figures = {
    consumptionModel: "metered",
    feature: calls.code,
    unlimited: false,
    included: CAPPED_CALLS,
    overageEnabled: false,
    overageUnitPrice: null,
  };

  const eight = await timed(sandbox, () => sandbox.usage.track({ customerId: cid, feature: calls.code, value: 8 }));
  assertLegacyEvent(eight, { customer, feature: calls, value: 8 });

  const refusedCheck = unwrap(await sandbox.usage.check({ customerId: cid, featureCode: calls.code, quantity: 3 }));
  assertLegacyCheck(refusedCheck, {
    allowed: false,
    quantity: 3,
    current: 8,
    remaining: 2,
    ...figures,
    reason: "included_limit_reached",
  });
  const fitting = unwrap(await sandbox.usage.check({ customerId: cid, featureCode: calls.code, quantity: 2 }));
  assertLegacyCheck(fitting, { allowed: true, quantity: 2, current: 8, remaining: 2, ...figures });

  await expectUsageError(sandbox.usage.track({ customerId: cid, feature: calls.code, value: 3 }), {
    status: 400,
    code: "included_limit_reached",
    type: "billing_error",
    param: "value",
    details: { featureCode: calls.code, current: 8, included: CAPPED_CALLS, remaining: 2, requested: 3 },
  });
  const two = await timed(sandbox, () => sandbox.usage.track({ customerId: customer.externalId, feature: calls.code, value: 2 }));
  assertLegacyEvent(two, { customer, feature: calls, value: 2 });
  await expectUsageError(sandbox.usage.track({ customerId: cid, feature: calls.code }), {
    status: 400,
    code: "included_limit_reached",
    type: "billing_error",
    param: "value",
    details: { featureCode: calls.code, current: 10, included: CAPPED_CALLS, remaining: 0, requested: 1 },
  });
  assert.equal(await usedCalls(sandbox, cid, calls), CAPPED_CALLS, "the limit is never overshot");
});

test("a trial sells no overage (a hard limit although overage is on); an unlimited feature has no limit and no remaining", async () => {
  const sandbox = client(SANDBOX_KEY);
  const calls = await newFeature(sandbox, "usage", "calls", "call");
  const boundless = await newFeature(sandbox, "usage", "boundless", "call");
  const plan = await newPlan(sandbox, {
    price: { price: PLAN_PRICE, trialDays: 14 },
    features: [
      [calls, { includedAmount: CAPPED_CALLS, overage: { enabled: true, unitPrice: CALL_UNIT_PRICE } }],
      [boundless, { unlimited: true }],
    ],
  });
  const { customer } = await subscribe(sandbox, plan, "usage-trial", "trialing");
  const cid = customer.id;

  const refused = unwrap(await sandbox.usage.check({ customerId: cid, featureCode: calls.code, quantity: CAPPED_CALLS + 1 }));
  assertLegacyCheck(refused, {
    allowed: false,
    consumptionModel: "metered",
    feature: calls.code,
    quantity: CAPPED_CALLS + 1,
    current: 0,
    remaining: CAPPED_CALLS,
    unlimited: false,
    included: CAPPED_CALLS,
    overageEnabled: false,
    overageUnitPrice: null,
    reason: "included_limit_reached",
  });
  await expectUsageError(sandbox.usage.track({ customerId: cid, feature: calls.code, value: CAPPED_CALLS + 1 }), {
    status: 400,
    code: "included_limit_reached",
    type: "billing_error",
    param: "value",
    details: { featureCode: calls.code, current: 0, included: CAPPED_CALLS, remaining: CAPPED_CALLS, requested: CAPPED_CALLS + 1 },
  });
  unwrap(await sandbox.usage.track({ customerId: cid, feature: calls.code, value: CAPPED_CALLS }));
  const full = unwrap(await sandbox.featureAccess.canUse({ customerId: cid, code: calls.code }));
  assert.deepEqual(full, {
    code: calls.code,
    name: calls.name,
    type: "usage",
    allowed: false,
    current: CAPPED_CALLS,
    included: CAPPED_CALLS,
    remaining: 0,
    overageQuantity: 0,
    unlimited: false,
    overageEnabled: false,
    willBeCharged: false,
    reason: "included_limit_reached",
    object: "feature",
    livemode: false,
  });

  // unlimited: any amount, never charged; the flat shape has no `remaining`
  const big = await timed(sandbox, () => sandbox.usage.track({ customerId: cid, feature: boundless.code, value: 1_000_000 }));
  assertLegacyEvent(big, { customer, feature: boundless, value: 1_000_000 });
  assert.deepEqual(unwrap(await sandbox.featureAccess.canUse({ customerId: customer.externalId, code: boundless.code })), {
    code: boundless.code,
    name: boundless.name,
    type: "usage",
    allowed: true,
    current: 1_000_000,
    included: 0,
    overageQuantity: 0,
    unlimited: true,
    overageEnabled: false,
    willBeCharged: false,
    object: "feature",
    livemode: false,
  });
});

test("set: PUT /usage replaces the period count (up, down, zero) -> legacy UsageAdjustments with feature and idempotencyKey", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { calls, plan } = await meteredCatalog(sandbox);
  const { customer } = await subscribe(sandbox, plan);
  unwrap(await sandbox.usage.track({ customerId: customer.id, feature: calls.code, value: 40 }));
  const key = `sdk-node-set-${randomUUID()}`;
  const adjustmentKeys = [
    "adjustment",
    "createdAt",
    "customerId",
    "feature",
    "id",
    "idempotencyKey",
    "livemode",
    "object",
    "previousValue",
    "reason",
    "ts",
    "value",
  ];
  const assertAdjustment = (call, { previous, value, reason = null, idempotencyKey = null }) => {
    const adjusted = call.data;
    assert.deepEqual(sortedKeys(adjusted), adjustmentKeys, "legacy UsageAdjustment fields");
    assert.match(adjusted.id, USAGE_EVENT_ID);
    assertWithin(adjusted.ts, call, "ts");
    assert.deepEqual(adjusted, {
      id: adjusted.id,
      feature: calls.code,
      value,
      previousValue: previous,
      adjustment: value - previous,
      customerId: customer.id,
      idempotencyKey,
      reason,
      ts: adjusted.ts,
      createdAt: adjusted.ts,
      object: "usage_event",
      livemode: false,
    });
  };

  const down = await timed(sandbox, () =>
    sandbox.usage.set({ customerId: customer.id, feature: calls.code, value: 25, reason: "recount", idempotencyKey: key }),
  );
  assert.equal(requestLine(down.wire), "PUT /api/v1/usage");
  assert.deepEqual(down.sent, { customerId: customer.id, feature: calls.code, value: 25, reason: "recount", idempotencyKey: key });
  assert.match(down.wire.requestHeaders["idempotency-key"] ?? "", AUTO_IDEMPOTENCY_KEY, "auto Idempotency-Key on PUT");
  assertAdjustment(down, { previous: 40, value: 25, reason: "recount", idempotencyKey: key });
  assert.equal(await usedCalls(sandbox, customer.id, calls), 25);

  const up = await timed(sandbox, () => sandbox.usage.set({ customerId: customer.externalId, feature: calls.code, value: 130 }));
  assertAdjustment(up, { previous: 25, value: 130 });
  assert.equal(await usedCalls(sandbox, customer.id, calls), 130);

  const zero = await timed(sandbox, () => sandbox.usage.set({ customerId: customer.id, feature: calls.code, value: 0 }));
  assertAdjustment(zero, { previous: 130, value: 0 });
  assert.equal(await usedCalls(sandbox, customer.id, calls), 0);
  assert.equal(new Set([down, up, zero].map((c) => c.data.id)).size, 3, "one event per set");

  // tracks count on from the value set
  unwrap(await sandbox.usage.track({ customerId: customer.id, feature: calls.code, value: 4 }));
  assert.equal(await usedCalls(sandbox, customer.id, calls), 4);
});

test("credits plan: a track spends value × creditsPerUnit; insufficient_credits when short; check and feature access follow", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { images, plan } = await creditsCatalog(sandbox);
  const { customer, sub } = await subscribe(sandbox, plan, "usage-credits");
  assert.deepEqual(sub.credits, { remaining: INCLUDED_CREDITS, included: INCLUDED_CREDITS, purchased: 0 });
  const cid = customer.id;

  const spent = await timed(sandbox, () => sandbox.usage.track({ customerId: cid, feature: images.code, value: 95 }));
  assertLegacyEvent(spent, {
    customer,
    feature: images,
    value: 95,
    consumption: { model: "credits", deducted: 950, remaining: 50, blocked: false },
  });

  const figures = { consumptionModel: "credits", feature: images.code, creditsPerUnit: CREDITS_PER_UNIT, purchasedCredits: 0 };
  const short = unwrap(await sandbox.usage.check({ customerId: cid, featureCode: images.code, quantity: 6 }));
  assertLegacyCheck(short, {
    allowed: false,
    quantity: 6,
    ...figures,
    estimatedCredits: 60,
    planCredits: 50,
    totalCredits: 50,
    reason: "insufficient_credits",
  });
  const enough = unwrap(await sandbox.usage.check({ customerId: cid, featureCode: images.code, quantity: 5 }));
  assertLegacyCheck(enough, { allowed: true, quantity: 5, ...figures, estimatedCredits: 50, planCredits: 50, totalCredits: 50 });

  await expectUsageError(sandbox.usage.track({ customerId: cid, feature: images.code, value: 6 }), {
    status: 400,
    code: "insufficient_credits",
    type: "billing_error",
    param: "value",
    details: { featureCode: images.code, requested: 6, creditsRequired: 60, creditsAvailable: 50 },
  });

  // the last 50 credits: one more unit would now be refused (blocked)
  const last = await timed(sandbox, () =>
    sandbox.usage.track({ customerId: customer.externalId, feature: images.code, value: 5 }),
  );
  assertLegacyEvent(last, {
    customer,
    feature: images,
    value: 5,
    consumption: { model: "credits", deducted: 50, remaining: 0, blocked: true },
  });

  const access = unwrap(await sandbox.featureAccess.get({ customerId: cid, code: images.code }));
  assert.deepEqual(access, {
    code: images.code,
    name: images.name,
    type: "usage",
    allowed: false,
    current: 100,
    remaining: 0,
    unlimited: false,
    overageEnabled: false,
    reason: "insufficient_credits",
    object: "feature",
    livemode: false,
  });
  const after = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.deepEqual(after.credits, { remaining: 0, included: INCLUDED_CREDITS, purchased: 0 });
});

test("balance plan (blockOnExhaustion): a track spends value × unit price; insufficient_balance when short", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { renders, plan } = await balanceCatalog(sandbox);
  const { customer, sub } = await subscribe(sandbox, plan, "usage-balance");
  assert.deepEqual(sub.balance, { remaining: INCLUDED_BALANCE, included: INCLUDED_BALANCE, currency: "usd" });
  const cid = customer.id;

  // 950 × 500 = 475000 of 500000
  const spent = await timed(sandbox, () => sandbox.usage.track({ customerId: cid, feature: renders.code, value: 950 }));
  assertLegacyEvent(spent, {
    customer,
    feature: renders,
    value: 950,
    consumption: { model: "balance", deducted: 475000, remaining: 25000, blocked: false },
  });

  const figures = {
    consumptionModel: "balance",
    feature: renders.code,
    unitPrice: BALANCE_UNIT_PRICE,
    currentBalance: 25000,
    blockOnExhaustion: true,
    currency: "usd",
  };
  const short = unwrap(await sandbox.usage.check({ customerId: cid, featureCode: renders.code, quantity: 100 }));
  assertLegacyCheck(short, { allowed: false, quantity: 100, ...figures, estimatedAmount: 50000, reason: "insufficient_balance" });
  const enough = unwrap(await sandbox.usage.check({ customerId: cid, featureCode: renders.code, quantity: 50 }));
  assertLegacyCheck(enough, { allowed: true, quantity: 50, ...figures, estimatedAmount: 25000 });

  await expectUsageError(sandbox.usage.track({ customerId: cid, feature: renders.code, value: 100 }), {
    status: 400,
    code: "insufficient_balance",
    type: "billing_error",
    param: "value",
    details: { featureCode: renders.code, requested: 100, amountRequired: 50000, currentBalance: 25000 },
  });
  const last = await timed(sandbox, () => sandbox.usage.track({ customerId: cid, feature: renders.code, value: 50 }));
  assertLegacyEvent(last, {
    customer,
    feature: renders,
    value: 50,
    consumption: { model: "balance", deducted: 25000, remaining: 0, blocked: true },
  });

  const access = unwrap(await sandbox.featureAccess.get({ customerId: customer.externalId, code: renders.code }));
  assert.deepEqual(access, {
    code: renders.code,
    name: renders.name,
    type: "usage",
    allowed: false,
    current: 1000,
    remaining: 0,
    unlimited: false,
    overageEnabled: false,
    reason: "insufficient_balance",
    object: "feature",
    livemode: false,
  });
  const after = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.deepEqual(after.balance, { remaining: 0, included: INCLUDED_BALANCE, currency: "usd" });
});

test("usage errors: customer_not_found, no_active_subscription, feature_not_found, feature_not_in_plan, feature_disabled, pricing_mode_mismatch, validation, 401", async () => {
  const sandbox = client(SANDBOX_KEY);
  // on the plan: a disabled usage feature (attached before anyone subscribes); a usage feature on no plan
  const off = await newFeature(sandbox, "usage", "off");
  const { calls, tasks, plan } = await hardLimitCatalog(sandbox, [[off, { enabled: false, includedAmount: 10 }]]);
  const offPlan = await newFeature(sandbox, "usage", "other");
  const { customer } = await subscribe(sandbox, plan);
  const cid = customer.id;
  const ghost = unique("ghost");
  const idle = await newCustomer(sandbox, "usage-idle"); // no subscription

  const notFound = (param) => ({ status: 404, code: "feature_not_found", type: "not_found_error", param });
  const billing = (code, param) => ({ status: 400, code, type: "billing_error", param });

  // customer
  for (const call of [
    () => sandbox.usage.track({ customerId: ghost, feature: calls.code }),
    () => sandbox.usage.check({ customerId: ghost, featureCode: calls.code, quantity: 1 }),
    () => sandbox.usage.set({ customerId: ghost, feature: calls.code, value: 1 }),
  ]) {
    await expectUsageError(call(), { status: 404, code: "customer_not_found", type: "not_found_error", param: "customerId" });
  }
  for (const call of [
    () => sandbox.usage.track({ customerId: idle.id, feature: calls.code }),
    () => sandbox.usage.check({ customerId: idle.externalId, featureCode: calls.code, quantity: 1 }),
    () => sandbox.usage.set({ customerId: idle.id, feature: calls.code, value: 1 }),
  ]) {
    await expectUsageError(call(), { status: 404, code: "no_active_subscription", type: "not_found_error", param: "customerId" });
  }

  // feature: unknown, of another type (a quota on the plan), not on the plan, disabled on it;
  // the param is the field the SDK sent (legacy `feature` for track/set, `featureCode` for check)
  for (const code of [featureCode("nope"), tasks.code]) {
    await expectUsageError(sandbox.usage.track({ customerId: cid, feature: code }), notFound("feature"));
    await expectUsageError(sandbox.usage.check({ customerId: cid, featureCode: code, quantity: 1 }), notFound("featureCode"));
    await expectUsageError(sandbox.usage.set({ customerId: cid, feature: code, value: 1 }), notFound("feature"));
  }
  await expectUsageError(
    sandbox.usage.track({ customerId: cid, feature: offPlan.code }),
    billing("feature_not_in_plan", "feature"),
  );
  await expectUsageError(
    sandbox.usage.check({ customerId: cid, featureCode: offPlan.code, quantity: 1 }),
    billing("feature_not_in_plan", "featureCode"),
  );
  await expectUsageError(
    sandbox.usage.set({ customerId: cid, feature: offPlan.code, value: 1 }),
    billing("feature_not_in_plan", "feature"),
  );
  await expectUsageError(
    sandbox.usage.track({ customerId: cid, feature: off.code, value: 1 }),
    billing("feature_disabled", "feature"),
  );
  await expectUsageError(
    sandbox.usage.check({ customerId: cid, featureCode: off.code, quantity: 1 }),
    billing("feature_disabled", "featureCode"),
  );

  // the SDK's AI token form (model + token counts, no value): Tally prices no models
  await expectUsageError(
    sandbox.usage.track({ customerId: cid, feature: calls.code, model: "gpt-4o", inputTokens: 1200, outputTokens: 300 }),
    billing("pricing_mode_mismatch", "model"),
  );
  assert.deepEqual(JSON.parse(lastExchange().requestBody), {
    feature: calls.code,
    customerId: cid,
    timestamp: JSON.parse(lastExchange().requestBody).timestamp,
    model: "gpt-4o",
    inputTokens: 1200,
    outputTokens: 300,
  });

  // validation: value 0, negative, fractional; quantity 0; a negative set; an empty key; a bad timestamp
  await expectValidationError(sandbox.usage.track({ customerId: cid, feature: calls.code, value: 0 }), "value");
  await expectValidationError(sandbox.usage.track({ customerId: cid, feature: calls.code, value: -3 }), "value");
  await expectValidationError(sandbox.usage.track({ customerId: cid, feature: calls.code, value: 1.5 }), "value");
  await expectValidationError(sandbox.usage.track({ customerId: cid, feature: calls.code, idempotencyKey: "" }), "idempotencyKey");
  await expectValidationError(sandbox.usage.track({ customerId: cid, feature: calls.code, timestamp: "yesterday" }), "timestamp");
  await expectValidationError(sandbox.usage.check({ customerId: cid, featureCode: calls.code, quantity: 0 }), "quantity");
  await expectValidationError(sandbox.usage.set({ customerId: cid, feature: calls.code, value: -1 }), "value");
  await expectValidationError(sandbox.usage.track({ customerId: "", feature: calls.code }), "customerId");

  // wrong API key
  const intruder = client("ck_sandbox_" + base62(32));
  await expectUsageError(intruder.usage.track({ customerId: cid, feature: calls.code }), {
    status: 401,
    code: "unauthorized",
    type: "authentication_error",
    param: null,
    details: null,
  });
  await expectUsageError(intruder.usage.check({ customerId: cid, featureCode: calls.code, quantity: 1 }), {
    status: 401,
    code: "unauthorized",
    type: "authentication_error",
  });

  // none of that counted anything
  assert.equal(await usedCalls(sandbox, cid, calls), 0);
});
