// Quota features through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope;
// usage.md §3.5). Nothing here moves the test clock: timestamps are checked against the sandbox
// clock read just before and just after each call.
//
// Wire mapping (dist/index.mjs QuotaResource; prefix /api/v1; second argument RequestOptions):
//   quota.add({customerId | externalId, featureCode, count?})     POST   /usage/quota  body = params
//   quota.set({customerId | externalId, featureCode, count})      PUT    /usage/quota  body = params
//   quota.remove({customerId | externalId, featureCode, count?})  DELETE /usage/quota  body = params
//                                     (JSON, on a DELETE; no auto Idempotency-Key: the SDK adds one
//                                     to POST/PUT/PATCH only)
//   quota.get({customerId, featureCode})    GET /usage/quota?customerId=&featureCode=  -> UsageQuota
//   quota.getAll({customerId})              GET /usage/quota/all?customerId=  -> UsageQuota[]
// Writes answer ApiResponse<UsageQuotaEvent> {id qev_…, customerId, featureCode, previousBalance,
// newBalance, ts, createdAt, object: "usage_quota", livemode}; count defaults to 1 on add and
// remove. A quota balance lasts across periods; billedQuantity is the period's peak (included
// units counted), which is what the period is billed for.
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
import { newCustomer } from "./fixtures.mjs";
import {
  AUTO_IDEMPOTENCY_KEY,
  cancelSubscriptions,
  CAPPED_TASKS,
  clockNow,
  hardLimitCatalog,
  INCLUDED_TASKS,
  meteredCatalog,
  newFeature,
  QUOTA_EVENT_ID,
  subscribe,
} from "./metering.mjs";

after(cancelSubscriptions);

const QUOTA_EVENT_KEYS = [
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
const QUOTA_KEYS = [
  "asOf",
  "billedQuantity",
  "current",
  "featureCode",
  "included",
  "livemode",
  "object",
  "overageEnabled",
  "remaining",
  "unlimited",
];

/** One quota write between two clock reads: the event, its exchange, the parsed body sent. */
async function change(sdk, method, params, options) {
  const before = await clockNow(sdk);
  const event = unwrap(await sdk.quota[method](params, options));
  const wire = lastExchange();
  const after = await clockNow(sdk);
  assert.equal(wire.status, 200, requestLine(wire));
  return { event, wire, sent: JSON.parse(wire.requestBody), before, after };
}

/** A legacy UsageQuotaEvent, field by field; ts == createdAt == the clock at the change. */
function assertQuotaEvent({ event, before, after }, { customer, feature, previous, next }) {
  assert.deepEqual(sortedKeys(event), QUOTA_EVENT_KEYS, "legacy UsageQuotaEvent fields");
  assert.match(event.id, QUOTA_EVENT_ID);
  assertTimestamp(event.ts, "ts");
  assert.ok(before <= event.ts && event.ts <= after, `ts ${event.ts} is the clock at the change (${before} .. ${after})`);
  assert.deepEqual(event, {
    id: event.id,
    customerId: customer.id,
    featureCode: feature.code,
    previousBalance: previous,
    newBalance: next,
    ts: event.ts,
    createdAt: event.ts,
    object: "usage_quota",
    livemode: false,
  });
}

/** The UsageQuota of the metered catalog's tasks (5 included, extra tasks sold). */
function tasksQuota(feature, { current, billedQuantity, asOf, included = INCLUDED_TASKS, overageEnabled = true }) {
  return {
    featureCode: feature.code,
    current,
    included,
    remaining: Math.max(0, included - current),
    billedQuantity,
    unlimited: false,
    overageEnabled,
    asOf,
    object: "usage_quota",
    livemode: false,
  };
}

/** quota.get through the SDK, checked on the wire. */
async function getQuota(sdk, customerId, feature) {
  const quota = unwrap(await sdk.quota.get({ customerId, featureCode: feature.code }));
  assert.equal(
    requestLine(lastExchange()),
    `GET /api/v1/usage/quota?customerId=${encodeURIComponent(customerId)}&featureCode=${feature.code}`,
  );
  assert.deepEqual(sortedKeys(quota), QUOTA_KEYS, "UsageQuota fields");
  return quota;
}

/** quota.getAll through the SDK: the legacy envelope's data is a bare array. */
async function allQuotas(sdk, customerId) {
  const data = unwrap(await sdk.quota.getAll({ customerId }));
  assert.equal(requestLine(lastExchange()), `GET /api/v1/usage/quota/all?customerId=${encodeURIComponent(customerId)}`);
  assert.ok(Array.isArray(data), "data is an array of UsageQuota");
  return data;
}

/** expectApiError plus the error's `details` (wire and SDK) and the SDK error's param. */
async function expectQuotaError(promise, { details, ...expected }) {
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
  return wire;
}

test("add (count defaults to 1), set, remove (DELETE /usage/quota with a JSON body) -> UsageQuotaEvents; get and getAll, billedQuantity is the period's peak", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { tasks, plan } = await meteredCatalog(sandbox);
  const { customer } = await subscribe(sandbox, plan, "quota-cust");
  const cid = customer.id;

  // never changed: asOf null
  assert.deepEqual(await getQuota(sandbox, cid, tasks), tasksQuota(tasks, { current: 0, billedQuantity: 0, asOf: null }));

  // add without a count: one task; the body carries no count
  const one = await change(sandbox, "add", { customerId: cid, featureCode: tasks.code });
  assert.equal(requestLine(one.wire), "POST /api/v1/usage/quota");
  assert.deepEqual(one.sent, { customerId: cid, featureCode: tasks.code });
  assert.match(one.wire.requestHeaders["idempotency-key"] ?? "", AUTO_IDEMPOTENCY_KEY, "auto Idempotency-Key on POST");
  assertQuotaEvent(one, { customer, feature: tasks, previous: 0, next: 1 });

  // by externalId, past the 5 included (extra tasks are sold on this plan)
  const seven = await change(sandbox, "add", { externalId: customer.externalId, featureCode: tasks.code, count: 7 });
  assert.deepEqual(seven.sent, { externalId: customer.externalId, featureCode: tasks.code, count: 7 });
  assertQuotaEvent(seven, { customer, feature: tasks, previous: 1, next: 8 });

  const set = await change(sandbox, "set", { customerId: cid, featureCode: tasks.code, count: 4 });
  assert.equal(requestLine(set.wire), "PUT /api/v1/usage/quota");
  assert.deepEqual(set.sent, { customerId: cid, featureCode: tasks.code, count: 4 });
  assert.match(set.wire.requestHeaders["idempotency-key"] ?? "", AUTO_IDEMPOTENCY_KEY, "auto Idempotency-Key on PUT");
  assertQuotaEvent(set, { customer, feature: tasks, previous: 8, next: 4 });

  const removed = await change(sandbox, "remove", { customerId: cid, featureCode: tasks.code, count: 2 });
  assert.equal(requestLine(removed.wire), "DELETE /api/v1/usage/quota");
  assert.deepEqual(removed.sent, { customerId: cid, featureCode: tasks.code, count: 2 });
  assert.equal(removed.wire.requestHeaders["idempotency-key"], undefined, "N7 adds no Idempotency-Key to DELETE");
  assertQuotaEvent(removed, { customer, feature: tasks, previous: 4, next: 2 });

  const last = await change(sandbox, "remove", { externalId: customer.externalId, featureCode: tasks.code });
  assert.deepEqual(last.sent, { externalId: customer.externalId, featureCode: tasks.code });
  assertQuotaEvent(last, { customer, feature: tasks, previous: 2, next: 1 });
  const ids = [one, seven, set, removed, last].map((c) => c.event.id);
  assert.equal(new Set(ids).size, ids.length, "one event per change");

  // 1 held, 4 of the 5 included left; the period's peak was 8; asOf = the latest change
  const expected = tasksQuota(tasks, { current: 1, billedQuantity: 8, asOf: last.event.ts });
  assert.deepEqual(await getQuota(sandbox, cid, tasks), expected);
  assert.deepEqual(await getQuota(sandbox, customer.externalId, tasks), expected);
  assert.deepEqual(await allQuotas(sandbox, cid), [expected]);

  // setting 0 is allowed; the peak stays
  const zero = await change(sandbox, "set", { customerId: cid, featureCode: tasks.code, count: 0 });
  assertQuotaEvent(zero, { customer, feature: tasks, previous: 1, next: 0 });
  assert.deepEqual(await getQuota(sandbox, cid, tasks), tasksQuota(tasks, { current: 0, billedQuantity: 8, asOf: zero.event.ts }));
});

test("getAll: every enabled quota feature of the plan by code, unlimited ones with remaining null; a quota that sells no extra units", async () => {
  const sandbox = client(SANDBOX_KEY);
  const boundless = await newFeature(sandbox, "quota", "zzboundless", "project");
  const disabled = await newFeature(sandbox, "quota", "zzoff", "task");
  const { tasks, plan } = await meteredCatalog(sandbox, [
    [boundless, { unlimited: true }],
    [disabled, { enabled: false, includedAmount: 2 }],
  ]);
  const { customer } = await subscribe(sandbox, plan, "quota-all");
  const added = await change(sandbox, "add", { customerId: customer.id, featureCode: boundless.code, count: 40 });
  assertQuotaEvent(added, { customer, feature: boundless, previous: 0, next: 40 });

  const all = await allQuotas(sandbox, customer.externalId);
  assert.deepEqual(
    all.map((q) => q.featureCode),
    [tasks.code, boundless.code].sort(),
    "enabled quota features only, by code (not the usage, boolean or disabled ones)",
  );
  const byCode = Object.fromEntries(all.map((q) => [q.featureCode, q]));
  all.forEach((q) => assert.deepEqual(sortedKeys(q), QUOTA_KEYS));
  assert.deepEqual(byCode[tasks.code], tasksQuota(tasks, { current: 0, billedQuantity: 0, asOf: null }));
  assert.deepEqual(byCode[boundless.code], {
    featureCode: boundless.code,
    current: 40,
    included: 0,
    remaining: null,
    billedQuantity: 40,
    unlimited: true,
    overageEnabled: false,
    asOf: added.event.ts,
    object: "usage_quota",
    livemode: false,
  });
  assert.deepEqual(await getQuota(sandbox, customer.id, boundless), byCode[boundless.code]);

  // overage off: no extra units are sold, overageEnabled false
  const capped = await hardLimitCatalog(sandbox);
  const { customer: cappedCustomer } = await subscribe(sandbox, capped.plan, "quota-capped");
  const three = await change(sandbox, "set", {
    customerId: cappedCustomer.id,
    featureCode: capped.tasks.code,
    count: CAPPED_TASKS,
  });
  assertQuotaEvent(three, { customer: cappedCustomer, feature: capped.tasks, previous: 0, next: CAPPED_TASKS });
  assert.deepEqual(await allQuotas(sandbox, cappedCustomer.id), [
    tasksQuota(capped.tasks, {
      current: CAPPED_TASKS,
      included: CAPPED_TASKS,
      billedQuantity: CAPPED_TASKS,
      overageEnabled: false,
      asOf: three.event.ts,
    }),
  ]);
});

test("quota errors: insufficient_balance, included_limit_reached, feature_not_found, feature_not_in_plan, feature_disabled, customer_not_found, no_active_subscription, validation, 401", async () => {
  const sandbox = client(SANDBOX_KEY);
  const disabled = await newFeature(sandbox, "quota", "qoff", "task");
  const { calls, tasks, plan } = await hardLimitCatalog(sandbox, [[disabled, { enabled: false }]]);
  const offPlan = await newFeature(sandbox, "quota", "qother", "task");
  const { customer } = await subscribe(sandbox, plan, "quota-err");
  const cid = customer.id;
  const start = await change(sandbox, "add", { customerId: cid, featureCode: tasks.code, count: 2 });
  assertQuotaEvent(start, { customer, feature: tasks, previous: 0, next: 2 });

  // remove more than held
  await expectQuotaError(sandbox.quota.remove({ customerId: cid, featureCode: tasks.code, count: 3 }), {
    status: 400,
    code: "insufficient_balance",
    type: "billing_error",
    param: "count",
    details: { featureCode: tasks.code, current: 2, requested: 3 },
  });
  assert.equal(requestLine(lastExchange()), "DELETE /api/v1/usage/quota");

  // past the included amount of a plan that sells no extra units (overage off)
  const limit = (requested) => ({
    status: 400,
    code: "included_limit_reached",
    type: "billing_error",
    param: "count",
    details: { featureCode: tasks.code, current: 2, included: CAPPED_TASKS, requested },
  });
  await expectQuotaError(sandbox.quota.add({ customerId: cid, featureCode: tasks.code, count: 2 }), limit(4));
  await expectQuotaError(sandbox.quota.set({ externalId: customer.externalId, featureCode: tasks.code, count: 5 }), limit(5));

  // not a quota feature (a usage feature on the plan), no such feature, off the plan, disabled
  const notFound = { status: 404, code: "feature_not_found", type: "not_found_error", param: "featureCode" };
  for (const code of [calls.code, featureCode("nope")]) {
    await expectQuotaError(sandbox.quota.add({ customerId: cid, featureCode: code }), notFound);
    await expectQuotaError(sandbox.quota.get({ customerId: cid, featureCode: code }), notFound);
  }
  for (const call of [
    () => sandbox.quota.add({ customerId: cid, featureCode: offPlan.code }),
    () => sandbox.quota.get({ customerId: cid, featureCode: offPlan.code }),
  ]) {
    await expectQuotaError(call(), { status: 400, code: "feature_not_in_plan", type: "billing_error", param: "featureCode" });
  }
  for (const call of [
    () => sandbox.quota.set({ customerId: cid, featureCode: disabled.code, count: 1 }),
    () => sandbox.quota.get({ customerId: cid, featureCode: disabled.code }),
  ]) {
    await expectQuotaError(call(), { status: 400, code: "feature_disabled", type: "billing_error", param: "featureCode" });
  }

  // unknown customer (cus_ id, externalId), a customer without a subscription
  const customerNotFound = { status: 404, code: "customer_not_found", type: "not_found_error", param: "customerId" };
  await expectQuotaError(
    sandbox.quota.add({ customerId: "cus_01K3ZZZZZZZZZZZZZZZZZZZZZZ", featureCode: tasks.code }),
    customerNotFound,
  );
  await expectQuotaError(sandbox.quota.add({ externalId: unique("ghost"), featureCode: tasks.code }), customerNotFound);
  await expectQuotaError(sandbox.quota.getAll({ customerId: unique("ghost") }), customerNotFound);
  const idle = await newCustomer(sandbox, "quota-idle");
  const noSubscription = { status: 404, code: "no_active_subscription", type: "not_found_error", param: "customerId" };
  await expectQuotaError(sandbox.quota.add({ customerId: idle.id, featureCode: tasks.code }), noSubscription);
  await expectQuotaError(sandbox.quota.get({ customerId: idle.externalId, featureCode: tasks.code }), noSubscription);
  await expectQuotaError(sandbox.quota.getAll({ customerId: idle.id }), noSubscription);

  // validation: both or neither customer field, count 0 on add and remove, a negative or too big set
  await expectValidationError(
    sandbox.quota.add({ customerId: cid, externalId: customer.externalId, featureCode: tasks.code }),
    "customerId",
  );
  await expectValidationError(sandbox.quota.add({ featureCode: tasks.code }), "customerId");
  await expectValidationError(sandbox.quota.add({ customerId: cid, featureCode: tasks.code, count: 0 }), "count");
  await expectValidationError(sandbox.quota.remove({ customerId: cid, featureCode: tasks.code, count: 0 }), "count");
  await expectValidationError(sandbox.quota.set({ customerId: cid, featureCode: tasks.code, count: -1 }), "count");
  await expectValidationError(sandbox.quota.set({ customerId: cid, featureCode: tasks.code, count: 1_000_001 }), "count");

  // wrong API key
  const intruder = client("ck_sandbox_" + base62(32));
  await expectQuotaError(intruder.quota.add({ customerId: cid, featureCode: tasks.code }), {
    status: 401,
    code: "unauthorized",
    type: "authentication_error",
    param: null,
    details: null,
  });
  await expectQuotaError(intruder.quota.getAll({ customerId: cid }), {
    status: 401,
    code: "unauthorized",
    type: "authentication_error",
  });

  // none of that changed anything
  assert.deepEqual(await allQuotas(sandbox, cid), [
    tasksQuota(tasks, {
      current: 2,
      included: CAPPED_TASKS,
      billedQuantity: 2,
      overageEnabled: false,
      asOf: start.event.ts,
    }),
  ]);
});

test("Idempotency-Key: a replayed quota.add is applied once; another body -> 409; a caller's key makes DELETE retries safe too", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { tasks, plan } = await meteredCatalog(sandbox);
  const { customer } = await subscribe(sandbox, plan, "quota-idem");
  const key = `sdk-node-quota-${randomUUID()}`;
  const params = { customerId: customer.id, featureCode: tasks.code, count: 6 };

  const first = await change(sandbox, "add", params, { idempotencyKey: key });
  assert.equal(first.wire.requestHeaders["idempotency-key"], key, "the caller's key replaces the auto key");
  assertQuotaEvent(first, { customer, feature: tasks, previous: 0, next: 6 });
  const firstBody = await first.wire.json();

  const again = unwrap(await sandbox.quota.add(params, { idempotencyKey: key }));
  const replay = lastExchange();
  assert.equal(replay.status, 200);
  assert.equal(replay.headers["idempotent-replayed"], "true");
  assert.deepEqual(await replay.json(), firstBody, "the first answer, replayed");
  assert.deepEqual(again, first.event);

  await expectQuotaError(sandbox.quota.add({ ...params, count: 1 }, { idempotencyKey: key }), {
    status: 409,
    code: "idempotency_key_mismatch",
    type: "conflict_error",
  });

  const removeKey = `sdk-node-quota-${randomUUID()}`;
  const removeParams = { customerId: customer.id, featureCode: tasks.code, count: 2 };
  const removed = await change(sandbox, "remove", removeParams, { idempotencyKey: removeKey });
  assert.equal(removed.wire.requestHeaders["idempotency-key"], removeKey);
  assertQuotaEvent(removed, { customer, feature: tasks, previous: 6, next: 4 });
  assert.deepEqual(unwrap(await sandbox.quota.remove(removeParams, { idempotencyKey: removeKey })), removed.event);
  assert.equal(lastExchange().headers["idempotent-replayed"], "true");

  assert.deepEqual(
    await getQuota(sandbox, customer.id, tasks),
    tasksQuota(tasks, { current: 4, billedQuantity: 6, asOf: removed.event.ts }),
    "each change applied once",
  );
});
