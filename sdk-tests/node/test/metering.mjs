// Usage, quota and feature-access catalogs as @commet/node 7.10.0 builds them (commet-version
// 2026-07-11, legacy envelope), shared by usage.test.mjs, quota.test.mjs,
// feature-access.test.mjs and clock/usage-billing.test.mjs. Every call creates fresh, uniquely
// coded data (both suites share one sandbox organization and run their files in parallel).
//
// The four plans of the area (usage.md §2):
//   meteredCatalog    paid metered plan ($99/month): a usage feature with 100 included calls and
//                     billable overage at $0.25 a call (rate 2500), a quota feature with 5
//                     included tasks and extra tasks at $25 (rate 250000), a boolean feature
//   hardLimitCatalog  paid metered plan ($19/month) with overage off: 10 included calls and 3
//                     included tasks are hard limits (no extra units are sold)
//   creditsCatalog    credits plan ($20/month, 1000 credits): a usage feature at 10 credits a unit
//   balanceCatalog    balance plan ($50/month, $50.00 balance, blockOnExhaustion): a usage
//                     feature at $0.05 a unit (rate 500)
//
// Every subscription `subscribe` makes is canceled (immediately) when its test file ends: each
// file calls `after(cancelSubscriptions)`. The clock tests advance the one sandbox clock over
// every live subscription's deadlines, and a test-clock run lists at most 100 of them (catalog.md
// §5), so subscriptions left running would crowd those tests' own renewals out of the run.
import assert from "node:assert/strict";
import { client, featureCode, SANDBOX_KEY, unique, unwrap } from "./helpers.mjs";
import { newCustomer } from "./fixtures.mjs";

const ULID = "[0-9A-HJKMNP-TV-Z]{26}";
export const USAGE_EVENT_ID = new RegExp(`^evt_${ULID}$`);
export const PROPERTY_ID = new RegExp(`^evp_${ULID}$`);
export const QUOTA_EVENT_ID = new RegExp(`^qev_${ULID}$`);
export const ORGANIZATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const AUTO_IDEMPOTENCY_KEY =
  /^commet-node-retry-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const PLAN_PRICE = 9900; // cents
export const INCLUDED_CALLS = 100;
export const CALL_UNIT_PRICE = 2500; // rate scale (10000 = $1): $0.25 a call past the included ones
export const INCLUDED_TASKS = 5;
export const TASK_UNIT_PRICE = 250000; // rate scale: $25 a task past the included ones
export const CAPPED_PRICE = 1900;
export const CAPPED_CALLS = 10;
export const CAPPED_TASKS = 3;
export const CREDITS_PRICE = 2000;
export const INCLUDED_CREDITS = 1000;
export const CREDITS_PER_UNIT = 10;
export const BALANCE_PRICE = 5000;
export const INCLUDED_BALANCE = 500000; // rate scale: $50.00
export const BALANCE_UNIT_PRICE = 500; // rate scale: $0.05 a unit

/** Reads the sandbox clock's "now" (real time until the clock is first advanced). */
export async function clockNow(sdk) {
  return unwrap(await sdk.testClock.get()).now;
}

/** A feature of `type` with a unique code `<tag>_<16 hex>`. */
export async function newFeature(sdk, type, tag, unitName) {
  return unwrap(
    await sdk.features.create({
      name: unique(tag),
      code: featureCode(tag),
      type,
      ...(unitName === undefined ? {} : { unitName }),
    }),
  );
}

/**
 * A plan (`plan` merged into the create params), a monthly `price` when given (first, so the
 * default) and `features`: [feature, addFeature params] pairs, attached in order.
 */
export async function newPlan(sdk, { plan = {}, price, features = [] }) {
  const created = unwrap(await sdk.plans.create({ name: unique("Usage plan"), code: unique("usage-plan"), ...plan }));
  if (price !== undefined) {
    const added = unwrap(await sdk.plans.addPrice({ id: created.id, billingInterval: "monthly", ...price }));
    assert.equal(added.isDefault, true);
  }
  for (const [feature, params] of features) {
    unwrap(await sdk.plans.addFeature({ id: created.id, featureId: feature.id, ...params }));
  }
  return created;
}

const live = []; // ids of the subscriptions `subscribe` made in this test file (one process each)

/** A new customer (with an externalId) and a subscription to `plan`, in `status`. */
export async function subscribe(sdk, plan, tag = "usage-cust", status = "active") {
  const customer = await newCustomer(sdk, tag);
  const sub = unwrap(await sdk.subscriptions.create({ customerId: customer.id, planCode: plan.code }));
  assert.equal(sub.status, status);
  live.push(sub.id);
  return { customer, sub };
}

/** Cancels, immediately, every subscription `subscribe` made (for `after()` in each file). */
export async function cancelSubscriptions() {
  const sandbox = client(SANDBOX_KEY);
  for (const id of live.splice(0)) {
    const canceled = unwrap(await sandbox.subscriptions.cancel({ id, immediate: true }));
    assert.equal(canceled.status, "canceled");
  }
}

/** The paid metered plan; `extra` more [feature, params] pairs are attached after the three. */
export async function meteredCatalog(sdk, extra = []) {
  const calls = await newFeature(sdk, "usage", "calls", "call");
  const tasks = await newFeature(sdk, "quota", "tasks", "task");
  const sso = await newFeature(sdk, "boolean", "sso");
  const plan = await newPlan(sdk, {
    price: { price: PLAN_PRICE },
    features: [
      [calls, { includedAmount: INCLUDED_CALLS, overage: { enabled: true, unitPrice: CALL_UNIT_PRICE } }],
      [tasks, { includedAmount: INCLUDED_TASKS, overage: { enabled: true, unitPrice: TASK_UNIT_PRICE } }],
      [sso, {}],
      ...extra,
    ],
  });
  return { calls, tasks, sso, plan };
}

/** The plan with hard limits (overage off); `extra` more [feature, params] pairs attached after. */
export async function hardLimitCatalog(sdk, extra = []) {
  const calls = await newFeature(sdk, "usage", "calls", "call");
  const tasks = await newFeature(sdk, "quota", "tasks", "task");
  const plan = await newPlan(sdk, {
    price: { price: CAPPED_PRICE },
    features: [[calls, { includedAmount: CAPPED_CALLS }], [tasks, { includedAmount: CAPPED_TASKS }], ...extra],
  });
  return { calls, tasks, plan };
}

export async function creditsCatalog(sdk) {
  const images = await newFeature(sdk, "usage", "images", "image");
  const plan = await newPlan(sdk, {
    plan: { consumptionModel: "credits" },
    price: { price: CREDITS_PRICE, includedCredits: INCLUDED_CREDITS },
    features: [[images, { includedAmount: 0, creditsPerUnit: CREDITS_PER_UNIT }]],
  });
  return { images, plan };
}

export async function balanceCatalog(sdk) {
  const renders = await newFeature(sdk, "usage", "renders", "render");
  const plan = await newPlan(sdk, {
    plan: { consumptionModel: "balance", blockOnExhaustion: true },
    price: { price: BALANCE_PRICE, includedBalance: INCLUDED_BALANCE },
    features: [[renders, { includedAmount: 0, overage: { enabled: false, unitPrice: BALANCE_UNIT_PRICE } }]],
  });
  return { renders, plan };
}

/**
 * The legacy flat FeatureAccess / FeatureLookup of a counted feature (metered usage, quota,
 * seats): `included` units, `current` used, overage sold at `unitPrice` when `billable`
 * (overageUnitPrice is shown when the plan feature has overage on). `extra` adds lookup keys
 * (willBeCharged, reason) or replaces fields.
 */
export function legacyCounted(feature, { current, included, billable, unitPrice, billedQuantity, allowed, extra = {} }) {
  return {
    code: feature.code,
    name: feature.name,
    type: feature.type,
    allowed: allowed ?? (billable || current < included),
    current,
    included,
    remaining: Math.max(0, included - current),
    overageQuantity: Math.max(0, current - included),
    ...(unitPrice === undefined ? {} : { overageUnitPrice: unitPrice }),
    unlimited: false,
    overageEnabled: billable,
    ...(billedQuantity === undefined ? {} : { billedQuantity }),
    object: "feature",
    livemode: false,
    ...extra,
  };
}
