// Feature access through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope;
// usage.md §3.6, §4). Nothing here moves the test clock.
//
// Wire mapping (dist/index.mjs FeatureAccessResource; prefix /api/v1):
//   featureAccess.list({customerId})        GET /feature-access?customerId=   -> FeatureAccess[]
//   featureAccess.get({code, customerId, action?})   GET /feature-access/{code}?customerId=[&action=]
//   featureAccess.canUse({code, customerId})         GET /feature-access/{code}?customerId=&action=canUse
// Answers are the legacy flat `object: "feature"` shapes: every type has code, name, type,
// allowed; booleans add `enabled`; counted features (metered usage, quota, seats) add current,
// included, remaining, overageQuantity, overageUnitPrice (when the plan feature has overage on),
// unlimited, overageEnabled, and quotas billedQuantity. Lookups (get) add `reason` when refused;
// canUse adds `willBeCharged`: whether one more unit would be billed beyond the plan.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  base62,
  client,
  expectApiError,
  expectValidationError,
  featureCode,
  lastExchange,
  requestLine,
  SANDBOX_KEY,
  unique,
  unwrap,
} from "./helpers.mjs";
import { INCLUDED_SEATS, newCustomer, SEAT_UNIT_PRICE } from "./fixtures.mjs";
import {
  CALL_UNIT_PRICE,
  cancelSubscriptions,
  CAPPED_CALLS,
  CAPPED_TASKS,
  hardLimitCatalog,
  INCLUDED_CALLS,
  INCLUDED_TASKS,
  legacyCounted,
  meteredCatalog,
  newFeature,
  subscribe,
  TASK_UNIT_PRICE,
} from "./metering.mjs";

after(cancelSubscriptions);

/** featureAccess.list through the SDK: the legacy envelope's data, a bare array (no paging). */
async function list(sdk, customerId) {
  const res = await sdk.featureAccess.list({ customerId });
  assert.equal(requestLine(lastExchange()), `GET /api/v1/feature-access?customerId=${encodeURIComponent(customerId)}`);
  assert.equal(lastExchange().status, 200);
  const data = unwrap(res);
  assert.ok(Array.isArray(data), "data is an array of FeatureAccess");
  return data;
}

/** featureAccess.get, or canUse when `canUse`, through the SDK, checking the request line. */
async function lookup(sdk, customerId, code, { canUse = false } = {}) {
  const res = canUse
    ? await sdk.featureAccess.canUse({ customerId, code })
    : await sdk.featureAccess.get({ customerId, code });
  const query = `customerId=${encodeURIComponent(customerId)}${canUse ? "&action=canUse" : ""}`;
  assert.equal(requestLine(lastExchange()), `GET /api/v1/feature-access/${code}?${query}`);
  assert.equal(lastExchange().status, 200);
  return unwrap(res);
}

/** A catalog feature the plan lacks or disables: refused with zero counters and the reason. */
function unavailable(feature, reason, extra = {}) {
  return legacyCounted(feature, { current: 0, included: 0, billable: false, allowed: false, extra: { reason, ...extra } });
}

test("list: every feature of the plan, by code, in the legacy flat shape of its type; [] without a subscription", async () => {
  const sandbox = client(SANDBOX_KEY);
  const seats = await newFeature(sandbox, "seats", "seat", "seat");
  const banner = await newFeature(sandbox, "boolean", "banner");
  const { calls, tasks, sso, plan } = await meteredCatalog(sandbox, [
    [seats, { includedAmount: INCLUDED_SEATS, overage: { enabled: true, unitPrice: SEAT_UNIT_PRICE } }],
    [banner, { enabled: false }],
  ]);
  const { customer } = await subscribe(sandbox, plan, "access-list");
  unwrap(await sandbox.usage.track({ customerId: customer.id, feature: calls.code, value: 130 }));
  unwrap(await sandbox.quota.add({ customerId: customer.id, featureCode: tasks.code, count: 7 }));
  unwrap(await sandbox.seats.add({ customerId: customer.id, featureCode: seats.code, count: 2 }));

  const expected = [
    // 130 calls: 30 past the 100 included, sold at $0.25 -> still allowed
    legacyCounted(calls, { current: 130, included: INCLUDED_CALLS, billable: true, unitPrice: CALL_UNIT_PRICE }),
    // 7 tasks: 2 extra, billed; billedQuantity is the period's peak
    legacyCounted(tasks, { current: 7, included: INCLUDED_TASKS, billable: true, unitPrice: TASK_UNIT_PRICE, billedQuantity: 7 }),
    legacyCounted(seats, { current: 2, included: INCLUDED_SEATS, billable: true, unitPrice: SEAT_UNIT_PRICE }),
    { code: sso.code, name: sso.name, type: "boolean", allowed: true, enabled: true, object: "feature", livemode: false },
    // a disabled feature is listed, refused (list items carry no reason)
    { code: banner.code, name: banner.name, type: "boolean", allowed: false, enabled: false, object: "feature", livemode: false },
  ].sort((a, b) => (a.code < b.code ? -1 : 1));

  assert.deepEqual(await list(sandbox, customer.id), expected);
  assert.deepEqual(await list(sandbox, customer.externalId), expected);

  // a customer without a subscription has no features; an unknown one is not found
  const idle = await newCustomer(sandbox, "access-idle");
  assert.deepEqual(await list(sandbox, idle.id), []);
  await expectApiError(sandbox.featureAccess.list({ customerId: unique("ghost") }), {
    status: 404,
    code: "customer_not_found",
    type: "not_found_error",
    param: "customerId",
  });
});

test("get and canUse: willBeCharged past the included units, refusals with their reason, features off the plan", async () => {
  const sandbox = client(SANDBOX_KEY);
  const offPlan = await newFeature(sandbox, "usage", "other");
  const offBoolean = await newFeature(sandbox, "boolean", "otherflag");
  const { calls, tasks, sso, plan } = await meteredCatalog(sandbox);
  const { customer } = await subscribe(sandbox, plan, "access-get");
  const cid = customer.id;
  const charged = (value) => ({ willBeCharged: value });

  // within the included units: allowed, one more is free
  unwrap(await sandbox.usage.track({ customerId: cid, feature: calls.code, value: 99 }));
  const within = { current: 99, included: INCLUDED_CALLS, billable: true, unitPrice: CALL_UNIT_PRICE };
  assert.deepEqual(await lookup(sandbox, cid, calls.code), legacyCounted(calls, within));
  assert.deepEqual(
    await lookup(sandbox, cid, calls.code, { canUse: true }),
    legacyCounted(calls, { ...within, extra: charged(false) }),
  );
  // get with action=canUse is the same request
  assert.deepEqual(
    unwrap(await sandbox.featureAccess.get({ customerId: customer.externalId, code: calls.code, action: "canUse" })),
    legacyCounted(calls, { ...within, extra: charged(false) }),
  );
  assert.equal(
    requestLine(lastExchange()),
    `GET /api/v1/feature-access/${calls.code}?customerId=${customer.externalId}&action=canUse`,
  );

  // at the included amount with overage sold: still allowed, the next unit is charged
  unwrap(await sandbox.usage.track({ customerId: cid, feature: calls.code }));
  const at = { current: 100, included: INCLUDED_CALLS, billable: true, unitPrice: CALL_UNIT_PRICE };
  assert.deepEqual(
    await lookup(sandbox, cid, calls.code, { canUse: true }),
    legacyCounted(calls, { ...at, extra: charged(true) }),
  );

  // quota: 5 included, the 6th is charged
  unwrap(await sandbox.quota.set({ customerId: cid, featureCode: tasks.code, count: 4 }));
  const four = { current: 4, included: INCLUDED_TASKS, billable: true, unitPrice: TASK_UNIT_PRICE, billedQuantity: 4 };
  assert.deepEqual(await lookup(sandbox, cid, tasks.code), legacyCounted(tasks, four));
  assert.deepEqual(
    await lookup(sandbox, cid, tasks.code, { canUse: true }),
    legacyCounted(tasks, { ...four, extra: charged(false) }),
  );
  unwrap(await sandbox.quota.add({ customerId: cid, featureCode: tasks.code }));
  const five = { current: 5, included: INCLUDED_TASKS, billable: true, unitPrice: TASK_UNIT_PRICE, billedQuantity: 5 };
  assert.deepEqual(
    await lookup(sandbox, cid, tasks.code, { canUse: true }),
    legacyCounted(tasks, { ...five, extra: charged(true) }),
  );

  // boolean
  const flag = {
    code: sso.code,
    name: sso.name,
    type: "boolean",
    allowed: true,
    enabled: true,
    object: "feature",
    livemode: false,
  };
  assert.deepEqual(await lookup(sandbox, cid, sso.code), flag);
  assert.deepEqual(await lookup(sandbox, cid, sso.code, { canUse: true }), { ...flag, willBeCharged: false });

  // catalog features the plan does not have: refused with zero counters, not an error
  assert.deepEqual(await lookup(sandbox, cid, offPlan.code), unavailable(offPlan, "feature_not_in_plan"));
  assert.deepEqual(
    await lookup(sandbox, cid, offPlan.code, { canUse: true }),
    unavailable(offPlan, "feature_not_in_plan", charged(false)),
  );
  assert.deepEqual(await lookup(sandbox, cid, offBoolean.code), {
    code: offBoolean.code,
    name: offBoolean.name,
    type: "boolean",
    allowed: false,
    enabled: false,
    reason: "feature_not_in_plan",
    object: "feature",
    livemode: false,
  });
});

test("hard limit: canUse refuses at the limit with reason included_limit_reached; disabled features say feature_disabled", async () => {
  const sandbox = client(SANDBOX_KEY);
  const off = await newFeature(sandbox, "usage", "off");
  const { calls, tasks, plan } = await hardLimitCatalog(sandbox, [[off, { enabled: false, includedAmount: 10 }]]);
  const { customer } = await subscribe(sandbox, plan, "access-limit");
  const cid = customer.id;

  unwrap(await sandbox.usage.track({ customerId: cid, feature: calls.code, value: CAPPED_CALLS - 1 }));
  const last = { current: CAPPED_CALLS - 1, included: CAPPED_CALLS, billable: false };
  assert.deepEqual(
    await lookup(sandbox, cid, calls.code, { canUse: true }),
    legacyCounted(calls, { ...last, extra: { willBeCharged: false } }),
  );
  unwrap(await sandbox.usage.track({ customerId: cid, feature: calls.code }));
  const full = { current: CAPPED_CALLS, included: CAPPED_CALLS, billable: false };
  assert.deepEqual(
    await lookup(sandbox, cid, calls.code),
    legacyCounted(calls, { ...full, extra: { reason: "included_limit_reached" } }),
  );
  assert.deepEqual(
    await lookup(sandbox, cid, calls.code, { canUse: true }),
    legacyCounted(calls, { ...full, extra: { willBeCharged: false, reason: "included_limit_reached" } }),
  );

  unwrap(await sandbox.quota.set({ customerId: cid, featureCode: tasks.code, count: CAPPED_TASKS }));
  const tasksFull = { current: CAPPED_TASKS, included: CAPPED_TASKS, billable: false, billedQuantity: CAPPED_TASKS };
  assert.deepEqual(
    await lookup(sandbox, cid, tasks.code, { canUse: true }),
    legacyCounted(tasks, { ...tasksFull, extra: { willBeCharged: false, reason: "included_limit_reached" } }),
  );

  // disabled on the plan: the lookup is refused with zero counters; the list item has no reason
  assert.deepEqual(await lookup(sandbox, cid, off.code), unavailable(off, "feature_disabled"));
  const listed = (await list(sandbox, cid)).find((item) => item.code === off.code);
  assert.deepEqual(listed, legacyCounted(off, { current: 0, included: 10, billable: false, allowed: false }));
});

test("feature access errors: feature_not_found (param code), no_active_subscription, customer_not_found, action validation, 401", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { calls, plan } = await meteredCatalog(sandbox);
  const { customer } = await subscribe(sandbox, plan, "access-err");
  const ghost = featureCode("nope");

  for (const call of [
    () => sandbox.featureAccess.get({ customerId: customer.id, code: ghost }),
    () => sandbox.featureAccess.canUse({ customerId: customer.id, code: ghost }),
  ]) {
    await expectApiError(call(), { status: 404, code: "feature_not_found", type: "not_found_error", param: "code" });
  }
  const idle = await newCustomer(sandbox, "access-idle");
  await expectApiError(sandbox.featureAccess.canUse({ customerId: idle.externalId, code: calls.code }), {
    status: 404,
    code: "no_active_subscription",
    type: "not_found_error",
    param: "customerId",
  });
  await expectApiError(sandbox.featureAccess.get({ customerId: unique("ghost"), code: calls.code }), {
    status: 404,
    code: "customer_not_found",
    type: "not_found_error",
    param: "customerId",
  });
  await expectValidationError(
    sandbox.featureAccess.get({ customerId: customer.id, code: calls.code, action: "spend" }),
    "action",
  );
  assert.equal(
    requestLine(lastExchange()),
    `GET /api/v1/feature-access/${calls.code}?customerId=${customer.id}&action=spend`,
  );
  const intruder = client("ck_sandbox_" + base62(32));
  await expectApiError(intruder.featureAccess.list({ customerId: customer.id }), {
    status: 401,
    code: "unauthorized",
    type: "authentication_error",
  });
});
