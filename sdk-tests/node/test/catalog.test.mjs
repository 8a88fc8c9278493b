// Features and plans through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope).
//
// Wire mapping (dist/index.mjs FeaturesResource / PlansResource; prefix /api/v1; path parameters
// inserted unencoded; bodies = the params minus the path ones, undefined keys dropped):
//   features.list()                         GET    /features             (takes no params at all)
//   features.get({code})                    GET    /features/{code}
//   features.create({name,code,type,description?,unitName?})
//                                           POST   /features/manage
//   features.update({code,name?,description?,unitName?})
//                                           PUT    /features/{code}/manage
//   features.delete({code})                 DELETE /features/{code}/manage   (no body)
//   plans.list({includePrivate?: "true"|"false"})  GET /plans?includePrivate=
//   plans.get({id})                         GET    /plans/{id}           (id or code)
//   plans.create({...})                     POST   /plans/manage
//   plans.update({id,...})                  PUT    /plans/{id}/manage
//   plans.delete({id})                      DELETE /plans/{id}/manage
//   plans.setVisibility({id,isPublic})      PUT    /plans/{id}/visibility   {isPublic}
//   plans.addFeature({id,featureId,...})    POST   /plans/{id}/features
//   plans.updateFeature({id,featureId,...}) PUT    /plans/{id}/features/{featureId}
//   plans.removeFeature({id,featureId})     DELETE /plans/{id}/features/{featureId}
//   plans.addPrice({id,billingInterval,price,...})  POST /plans/{id}/prices
//   plans.deletePrice({id,priceId})         DELETE /plans/{id}/prices/{priceId}
//   plans.setDefaultPrice({id,priceId})     PUT    /plans/{id}/prices/{priceId}/default   body {}
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assertTimestamp,
  client,
  expectApiError,
  expectValidationError,
  featureCode,
  FEATURE_ID,
  lastExchange,
  PLAN_ID,
  PRICE_ID,
  requestLine,
  SANDBOX_KEY,
  sortedKeys,
  unique,
  unwrap,
} from "./helpers.mjs";

const FEATURE_KEYS = [
  "code",
  "createdAt",
  "description",
  "id",
  "livemode",
  "name",
  "object",
  "type",
  "unitName",
  "updatedAt",
];
const PLAN_KEYS = [
  "blockOnExhaustion",
  "code",
  "consumptionModel",
  "createdAt",
  "description",
  "exchangeRates",
  "features",
  "id",
  "isDefault",
  "isFree",
  "isPublic",
  "livemode",
  "metadata",
  "name",
  "object",
  "planGroupId",
  "prices",
  "sortOrder",
  "updatedAt",
];
const PLAN_PRICE_KEYS = [
  "billingInterval",
  "createdAt",
  "id",
  "includedBalance",
  "includedCredits",
  "introOffer",
  "isDefault",
  "livemode",
  "object",
  "planId",
  "price",
  "trialDays",
  "updatedAt",
];

function assertFeature(feature, expected) {
  assert.deepEqual(sortedKeys(feature), FEATURE_KEYS, "Feature fields (catalog.md §3)");
  assert.match(feature.id, FEATURE_ID);
  assertTimestamp(feature.createdAt, "createdAt");
  assertTimestamp(feature.updatedAt, "updatedAt");
  assert.ok(feature.updatedAt >= feature.createdAt, "updatedAt is not before createdAt");
  assert.equal(feature.object, "feature");
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(feature[key], value, `feature.${key}`);
  }
}

/** Legacy features list: `{success:true, data:[…]}`, no paging keys (wire.md §3.3). */
function featureList(res) {
  assert.deepEqual(sortedKeys(res), ["data", "success"], "legacy features list is exactly {success, data}");
  assert.equal(res.success, true);
  assert.ok(Array.isArray(res.data));
  return res.data;
}

/**
 * Legacy plans list. catalog.md §4.2 says `data:[Plan]`; wire.md §9 says plans.list returns one
 * page with hasMore:false. Accept `{success,data}` with or without `hasMore:false`.
 */
function planList(res) {
  assert.equal(res.success, true);
  assert.ok(Array.isArray(res.data));
  const keys = sortedKeys(res);
  assert.ok(
    ["data,success", "data,hasMore,success"].includes(keys.join(",")),
    `legacy plans list keys: ${keys}`,
  );
  if ("hasMore" in res) assert.equal(res.hasMore, false);
  return res.data;
}

/** Sorts plan price entries by interval so the comparison does not depend on their order. */
function byInterval(prices) {
  return [...prices].sort((a, b) => a.billingInterval.localeCompare(b.billingInterval));
}

function assertPlan(plan, expected) {
  assert.deepEqual(sortedKeys(plan), PLAN_KEYS, "Plan fields (catalog.md §4.1)");
  assert.match(plan.id, PLAN_ID);
  assertTimestamp(plan.createdAt, "createdAt");
  assertTimestamp(plan.updatedAt, "updatedAt");
  assert.ok(plan.updatedAt >= plan.createdAt, "updatedAt is not before createdAt");
  assert.equal(plan.object, "plan");
  assert.equal(plan.livemode, false);
  assert.deepEqual(plan.exchangeRates, []);
  for (const price of plan.prices) {
    assert.ok(!("id" in price), "legacy plan price entries carry no id (N7 type)");
  }
  const { prices, ...rest } = expected;
  if (prices) assert.deepEqual(byInterval(plan.prices), byInterval(prices), "plan.prices");
  for (const [key, value] of Object.entries(rest)) {
    assert.deepEqual(plan[key], value, `plan.${key}`);
  }
}

function assertPlanPrice(price, expected) {
  assert.deepEqual(sortedKeys(price), PLAN_PRICE_KEYS, "legacy PlanPrice fields");
  assert.match(price.id, PRICE_ID);
  assertTimestamp(price.createdAt, "createdAt");
  assertTimestamp(price.updatedAt, "updatedAt");
  const { id, createdAt, updatedAt, ...rest } = price;
  assert.deepEqual(rest, {
    trialDays: 0,
    includedBalance: null,
    includedCredits: null,
    introOffer: null,
    object: "plan",
    livemode: false,
    ...expected,
  });
  assert.equal(createdAt, updatedAt, "a new price has updatedAt == createdAt");
  return id;
}

/** A legacy plan `prices[]` entry (no id). */
function priceEntry(billingInterval, price, isDefault) {
  return {
    billingInterval,
    price,
    isDefault,
    trialDays: 0,
    includedBalance: null,
    includedCredits: null,
    introOffer: null,
    regionalPrices: [],
  };
}

function seatsEntry(feature, includedAmount, unitPrice) {
  return {
    code: feature.code,
    name: feature.name,
    type: "seats",
    unitName: "seat",
    enabled: true,
    includedAmount,
    unlimited: false,
    overage: { enabled: true, model: "per_unit", unitPrice },
    regionalPrices: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Features
// ---------------------------------------------------------------------------------------------

test("feature create -> get -> list -> update -> delete", async () => {
  const sandbox = client(SANDBOX_KEY);
  const code = featureCode("seat");
  const name = unique("Editor seats");

  const created = unwrap(await sandbox.features.create({ name, code, type: "seats", unitName: "seat" }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/features/manage");
  assert.equal(lastExchange().status, 200);
  assertFeature(created, { name, code, type: "seats", description: null, unitName: "seat", livemode: false });
  assert.equal(created.createdAt, created.updatedAt);

  assert.deepEqual(unwrap(await sandbox.features.get({ code })), created);
  assert.equal(requestLine(lastExchange()), `GET /api/v1/features/${code}`);

  const listed = featureList(await sandbox.features.list());
  assert.deepEqual(listed.filter((f) => f.code === code), [created]);

  // update name and description (PUT /features/{code}/manage); type, code, unitName unchanged
  const renamed = unique("Seats renamed");
  const updated = unwrap(
    await sandbox.features.update({ code, name: renamed, description: "Editors of the workspace" }),
  );
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/features/${code}/manage`);
  assertFeature(updated, {
    id: created.id,
    name: renamed,
    code,
    type: "seats",
    description: "Editors of the workspace",
    unitName: "seat",
    createdAt: created.createdAt,
    livemode: false,
  });
  assert.deepEqual(unwrap(await sandbox.features.get({ code })), updated);

  // description and unitName are nullable in updates
  const cleared = unwrap(await sandbox.features.update({ code, description: null, unitName: null }));
  assertFeature(cleared, { id: created.id, name: renamed, description: null, unitName: null });

  // a fresh, unattached feature can be deleted
  const other = unwrap(
    await sandbox.features.create({ name: unique("Single sign-on"), code: featureCode("sso"), type: "boolean" }),
  );
  assertFeature(other, { type: "boolean", description: null, unitName: null, livemode: false });
  const deleted = unwrap(await sandbox.features.delete({ code: other.code }));
  assert.equal(requestLine(lastExchange()), `DELETE /api/v1/features/${other.code}/manage`);
  assert.deepEqual(deleted, { id: other.id, deleted: true, object: "feature", livemode: false });
  await expectApiError(sandbox.features.get({ code: other.code }), {
    status: 404,
    code: "feature_not_found",
    type: "not_found_error",
  });
  assert.deepEqual(featureList(await sandbox.features.list()).filter((f) => f.code === other.code), []);
});

test("feature code or name already used -> 409 feature_already_exists", async () => {
  const sandbox = client(SANDBOX_KEY);
  const code = featureCode("seat");
  const name = unique("Seats");
  unwrap(await sandbox.features.create({ name, code, type: "seats" }));

  await expectApiError(sandbox.features.create({ name: unique("Other name"), code, type: "seats" }), {
    status: 409,
    code: "feature_already_exists",
    type: "conflict_error",
  });
  await expectApiError(sandbox.features.create({ name, code: featureCode("other"), type: "usage" }), {
    status: 409,
    code: "feature_already_exists",
    type: "conflict_error",
  });
});

test("feature validation errors carry param and details", async () => {
  const sandbox = client(SANDBOX_KEY);

  // code must match ^[a-z0-9_]+$
  await expectValidationError(
    sandbox.features.create({ name: unique("Bad code"), code: "Bad-Code", type: "seats" }),
    "code",
  );
  // type is required
  const code = featureCode("notype");
  await expectValidationError(sandbox.features.create({ name: unique("No type"), code }), "type");
  // an unknown type
  await expectValidationError(
    sandbox.features.create({ name: unique("Bad type"), code, type: "metered" }),
    "type",
  );
  // nothing was created
  await expectApiError(sandbox.features.get({ code }), {
    status: 404,
    code: "feature_not_found",
    type: "not_found_error",
  });
  // an update needs at least one field
  const feature = unwrap(await sandbox.features.create({ name: unique("Seats"), code, type: "seats" }));
  await expectValidationError(sandbox.features.update({ code: feature.code }));
});

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------

test("plan lifecycle: prices, default price, seats feature, get by id and code, list, visibility, delete", async () => {
  const sandbox = client(SANDBOX_KEY);
  const feature = unwrap(
    await sandbox.features.create({
      name: unique("Editor seats"),
      code: featureCode("seat"),
      type: "seats",
      unitName: "seat",
    }),
  );

  // create (POST /plans/manage)
  const code = unique("pro");
  const name = unique("Pro");
  const plan = unwrap(
    await sandbox.plans.create({ name, code, description: "For growing teams", consumptionModel: "metered" }),
  );
  assert.equal(requestLine(lastExchange()), "POST /api/v1/plans/manage");
  assertPlan(plan, {
    name,
    code,
    description: "For growing teams",
    consumptionModel: "metered",
    isPublic: true,
    isDefault: false,
    isFree: false,
    blockOnExhaustion: null,
    sortOrder: 0,
    planGroupId: null,
    metadata: null,
    features: [],
    prices: [],
  });

  // monthly price: the first price becomes the default
  const monthly = unwrap(await sandbox.plans.addPrice({ id: plan.id, billingInterval: "monthly", price: 9900 }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/plans/${plan.id}/prices`);
  assertPlanPrice(monthly, { planId: plan.id, billingInterval: "monthly", price: 9900, isDefault: true });

  // yearly price, not the default
  const yearly = unwrap(await sandbox.plans.addPrice({ id: plan.id, billingInterval: "yearly", price: 99000 }));
  assertPlanPrice(yearly, { planId: plan.id, billingInterval: "yearly", price: 99000, isDefault: false });
  assert.notEqual(yearly.id, monthly.id);

  // set the yearly price as default: legacy answers {id, isDefault:true, object:"plan", livemode}
  const defaulted = unwrap(await sandbox.plans.setDefaultPrice({ id: plan.id, priceId: yearly.id }));
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/plans/${plan.id}/prices/${yearly.id}/default`);
  assert.equal(lastExchange().requestBody, "{}");
  assert.deepEqual(defaulted, { id: yearly.id, isDefault: true, object: "plan", livemode: false });

  // attach the seats feature: 5 included, $25 per extra seat (rate scale)
  const planFeature = unwrap(
    await sandbox.plans.addFeature({
      id: plan.id,
      featureId: feature.id,
      includedAmount: 5,
      overage: { enabled: true, unitPrice: 250000 },
    }),
  );
  assert.equal(requestLine(lastExchange()), `POST /api/v1/plans/${plan.id}/features`);
  assert.deepEqual(planFeature, {
    planId: plan.id,
    featureId: feature.id,
    enabled: true,
    includedAmount: 5,
    unlimited: false,
    overage: { enabled: true, unitPrice: 250000 },
    creditsPerUnit: null,
    pricingMode: "fixed",
    margin: null,
    object: "plan",
    livemode: false,
  });

  // get by id and by code: the same plan, with features[] and prices[] (legacy entries: no id)
  const byId = unwrap(await sandbox.plans.get({ id: plan.id }));
  assert.equal(requestLine(lastExchange()), `GET /api/v1/plans/${plan.id}`);
  const byCode = unwrap(await sandbox.plans.get({ id: code }));
  assert.equal(requestLine(lastExchange()), `GET /api/v1/plans/${code}`);
  assert.deepEqual(byCode, byId);
  assertPlan(byId, {
    id: plan.id,
    name,
    code,
    createdAt: plan.createdAt,
    features: [seatsEntry(feature, 5, 250000)],
    prices: [priceEntry("monthly", 9900, false), priceEntry("yearly", 99000, true)],
  });

  // back to the monthly default: exactly one default
  unwrap(await sandbox.plans.setDefaultPrice({ id: plan.id, priceId: monthly.id }));
  const afterDefault = unwrap(await sandbox.plans.get({ id: plan.id }));
  assertPlan(afterDefault, {
    prices: [priceEntry("monthly", 9900, true), priceEntry("yearly", 99000, false)],
  });

  // the list (public plans only by default) contains it
  const listed = planList(await sandbox.plans.list());
  assert.equal(requestLine(lastExchange()), "GET /api/v1/plans");
  assert.deepEqual(listed.filter((p) => p.id === plan.id), [afterDefault]);
  for (const p of listed) assert.equal(p.isPublic, true, "private plans are excluded by default");

  // private: gone from the default list, present with includePrivate=true, still gettable
  const hidden = unwrap(await sandbox.plans.setVisibility({ id: plan.id, isPublic: false }));
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/plans/${plan.id}/visibility`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { isPublic: false });
  assert.deepEqual(hidden, { id: plan.id, isPublic: false, object: "plan", livemode: false });
  assert.deepEqual(planList(await sandbox.plans.list()).filter((p) => p.id === plan.id), []);
  assert.deepEqual(planList(await sandbox.plans.list({ includePrivate: "false" })).filter((p) => p.id === plan.id), []);
  const withPrivate = planList(await sandbox.plans.list({ includePrivate: "true" }));
  assert.equal(requestLine(lastExchange()), "GET /api/v1/plans?includePrivate=true");
  const privateItem = withPrivate.find((p) => p.id === plan.id);
  assert.ok(privateItem, "includePrivate=true lists private plans");
  assert.equal(privateItem.isPublic, false);
  assert.equal(unwrap(await sandbox.plans.get({ id: code })).isPublic, false);
  assert.deepEqual(unwrap(await sandbox.plans.setVisibility({ id: plan.id, isPublic: true })), {
    id: plan.id,
    isPublic: true,
    object: "plan",
    livemode: false,
  });
  assert.equal(planList(await sandbox.plans.list()).filter((p) => p.id === plan.id).length, 1);

  // update name and description (PUT /plans/{id}/manage)
  const renamed = unique("Pro renamed");
  const updated = unwrap(await sandbox.plans.update({ id: plan.id, name: renamed, description: "Renamed" }));
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/plans/${plan.id}/manage`);
  assertPlan(updated, {
    id: plan.id,
    name: renamed,
    code,
    description: "Renamed",
    isPublic: true,
    features: [seatsEntry(feature, 5, 250000)],
    prices: [priceEntry("monthly", 9900, true), priceEntry("yearly", 99000, false)],
  });

  // an attached feature cannot be deleted, nor attached twice
  await expectApiError(sandbox.features.delete({ code: feature.code }), {
    status: 409,
    code: "feature_in_use",
    type: "conflict_error",
  });
  await expectApiError(sandbox.plans.addFeature({ id: plan.id, featureId: feature.id, includedAmount: 1 }), {
    status: 409,
    code: "feature_already_exists",
    type: "conflict_error",
  });

  // update the plan feature (PUT /plans/{id}/features/{featureId})
  const changed = unwrap(
    await sandbox.plans.updateFeature({
      id: plan.id,
      featureId: feature.id,
      includedAmount: 10,
      overage: { unitPrice: 300000 },
    }),
  );
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/plans/${plan.id}/features/${feature.id}`);
  assert.deepEqual(changed, { ...planFeature, includedAmount: 10, overage: { enabled: true, unitPrice: 300000 } });
  assert.deepEqual(unwrap(await sandbox.plans.get({ id: plan.id })).features, [seatsEntry(feature, 10, 300000)]);

  // remove it: legacy {id: featureId, removed: true, object: "plan"}
  const removed = unwrap(await sandbox.plans.removeFeature({ id: plan.id, featureId: feature.id }));
  assert.equal(requestLine(lastExchange()), `DELETE /api/v1/plans/${plan.id}/features/${feature.id}`);
  assert.deepEqual(removed, { id: feature.id, removed: true, object: "plan", livemode: false });
  assert.deepEqual(unwrap(await sandbox.plans.get({ id: plan.id })).features, []);
  // ... and now the feature is free to go
  assert.deepEqual(unwrap(await sandbox.features.delete({ code: feature.code })), {
    id: feature.id,
    deleted: true,
    object: "feature",
    livemode: false,
  });

  // delete the (non-default) yearly price: archived, no longer offered
  const deletedPrice = unwrap(await sandbox.plans.deletePrice({ id: plan.id, priceId: yearly.id }));
  assert.equal(requestLine(lastExchange()), `DELETE /api/v1/plans/${plan.id}/prices/${yearly.id}`);
  assert.deepEqual(deletedPrice, { id: yearly.id, deleted: true, object: "plan", livemode: false });
  assertPlan(unwrap(await sandbox.plans.get({ id: plan.id })), {
    prices: [priceEntry("monthly", 9900, true)],
  });

  // delete the plan (soft): gone for get by id and by code, and from every list
  const deletedPlan = unwrap(await sandbox.plans.delete({ id: plan.id }));
  assert.equal(requestLine(lastExchange()), `DELETE /api/v1/plans/${plan.id}/manage`);
  assert.deepEqual(deletedPlan, { id: plan.id, deleted: true, object: "plan", livemode: false });
  await expectApiError(sandbox.plans.get({ id: plan.id }), { status: 404, code: "plan_not_found", type: "not_found_error" });
  await expectApiError(sandbox.plans.get({ id: code }), { status: 404, code: "plan_not_found", type: "not_found_error" });
  assert.deepEqual(planList(await sandbox.plans.list({ includePrivate: "true" })).filter((p) => p.id === plan.id), []);
});

test("plan created with only name and code gets the defaults", async () => {
  const sandbox = client(SANDBOX_KEY);
  const code = unique("basic");
  const name = unique("Basic");
  const plan = unwrap(await sandbox.plans.create({ name, code }));
  assertPlan(plan, {
    name,
    code,
    description: null,
    isPublic: true,
    isDefault: false,
    isFree: false,
    blockOnExhaustion: null,
    sortOrder: 0,
    planGroupId: null,
    metadata: null,
    features: [],
    prices: [],
  });
  // catalog.md §4.1: "null ≙ metered" — an omitted consumption model reads as null or "metered"
  assert.ok([null, "metered"].includes(plan.consumptionModel), `consumptionModel: ${plan.consumptionModel}`);

  // private at creation: excluded unless includePrivate=true
  const hidden = unwrap(await sandbox.plans.create({ name: unique("Hidden"), code: unique("hidden"), isPublic: false }));
  assert.equal(hidden.isPublic, false);
  assert.deepEqual(planList(await sandbox.plans.list()).filter((p) => p.id === hidden.id), []);
  assert.equal(planList(await sandbox.plans.list({ includePrivate: "true" })).filter((p) => p.id === hidden.id).length, 1);
});

test("plan and price conflicts and validation errors", async () => {
  const sandbox = client(SANDBOX_KEY);
  const code = unique("dup");
  const plan = unwrap(await sandbox.plans.create({ name: unique("Dup"), code }));

  // plan code taken -> 409 duplicate
  await expectApiError(sandbox.plans.create({ name: unique("Dup 2"), code }), {
    status: 409,
    code: "duplicate",
    type: "conflict_error",
  });

  // price must be an integer >= 0 (cents)
  await expectValidationError(sandbox.plans.addPrice({ id: plan.id, billingInterval: "monthly", price: -1 }), "price");
  await expectValidationError(sandbox.plans.addPrice({ id: plan.id, billingInterval: "monthly", price: 99.5 }), "price");
  await expectValidationError(
    sandbox.plans.addPrice({ id: plan.id, billingInterval: "fortnightly", price: 100 }),
    "billingInterval",
  );
  // semiannual exists only from 2026-08-27
  await expectValidationError(
    sandbox.plans.addPrice({ id: plan.id, billingInterval: "semiannual", price: 100 }),
    "billingInterval",
  );
  assert.deepEqual(unwrap(await sandbox.plans.get({ id: plan.id })).prices, [], "nothing was added");

  // one active price per interval
  unwrap(await sandbox.plans.addPrice({ id: plan.id, billingInterval: "monthly", price: 1000 }));
  await expectApiError(sandbox.plans.addPrice({ id: plan.id, billingInterval: "monthly", price: 2000 }), {
    status: 409,
    code: "duplicate",
    type: "conflict_error",
  });

  // unknown plan / price
  await expectApiError(sandbox.plans.get({ id: unique("ghost") }), { status: 404, code: "plan_not_found", type: "not_found_error" });
  await expectApiError(sandbox.plans.setDefaultPrice({ id: plan.id, priceId: "pp_01J0000000000000000000000Z" }), {
    status: 404,
    code: "price_not_found",
    type: "not_found_error",
  });
});
