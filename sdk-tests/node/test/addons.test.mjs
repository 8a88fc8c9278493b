// Add-ons through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope; lifecycle.md
// §2, §5, §10). Nothing here moves the test clock: scenario 4 (activation on day 12 of a 31-day
// period, $32.26, renewals with and without the add-on) is in test/clock/addons.test.mjs. An
// add-on activated right after subscribing has d = P (ceil((E − t) / 1 day) with t a few ms or
// seconds after the start, or equal to it on a frozen clock), so proratedCharge is the whole
// basePrice; the expected amounts are computed from the period the subscription reports.
//
// Wire mapping and legacy objects: see ./lifecycle.mjs. Errors: addon_not_found (404),
// addon_already_active / addon_has_activations / feature_already_exists / feature_in_use /
// subscription_not_active (409), addon_not_active (400 billing_error); malformed bodies are
// validation_error with details (N7 throws CommetValidationError).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assertLegacyList,
  client,
  expectApiError,
  expectValidationError,
  findInList,
  lastExchange,
  requestLine,
  SANDBOX_KEY,
  unique,
  unwrap,
} from "./helpers.mjs";
import { assertInvoice, getInvoice } from "./invoicing.mjs";
import { newCustomer } from "./fixtures.mjs";
import {
  activateAddon,
  addonLine,
  assertAddon,
  assertLegacyPlainSubscription,
  clockNow,
  createAddon,
  deactivateAddon,
  expectedAddon,
  hex16,
  invoicesOf,
  legacyActivation,
  legacyActiveAddon,
  legacyBooleanItem,
  legacyDeactivation,
  legacyUsageItem,
  listActive,
  newFeature,
  periodDays,
  plainPlan,
  prorate,
  slugOf,
  subscribePlain,
} from "./lifecycle.mjs";

const UNKNOWN_ADDON = "adn_01J0000000000000000000000Z";
const UNKNOWN_SUBSCRIPTION = "sub_01J0000000000000000000000Z";
const PRO_PRICE = 9900;
const SSO_PRICE = 5000;

/** Feature access of one feature (GET /feature-access/{code}?customerId=), legacy data. */
async function access(sdk, customerId, code) {
  return unwrap(await sdk.featureAccess.get({ customerId, code }));
}

test("add-on CRUD: create, get by id and by slug, update, list, slug clashes, delete", async () => {
  const sandbox = client(SANDBOX_KEY);
  const sso = await newFeature(sandbox, "boolean", "sso");
  const tag = hex16();
  const name = `SSO & Audit Log ${tag}`;
  assert.equal(slugOf(name), `sso-audit-log-${tag}`);

  // create: boolean model, the unit fields null, slug from the name
  const created = await createAddon(sandbox, {
    name,
    basePrice: SSO_PRICE,
    featureId: sso.id,
    consumptionModel: "boolean",
  });
  assertAddon(created, expectedAddon(sso, { name, basePrice: SSO_PRICE, consumptionModel: "boolean" }));
  assert.equal(created.slug, `sso-audit-log-${tag}`);
  assert.equal(created.createdAt, created.updatedAt, "a new add-on was never updated");

  // get by id and by slug: the same object
  assert.deepEqual(unwrap(await sandbox.addons.get({ id: created.id })), created);
  assert.equal(requestLine(lastExchange()), `GET /api/v1/addons/${created.id}`);
  assert.deepEqual(unwrap(await sandbox.addons.get({ id: created.slug })), created);
  assert.equal(requestLine(lastExchange()), `GET /api/v1/addons/${created.slug}`);

  // the same name again (other features, one given by code): -2, -3
  const second = await newFeature(sandbox, "boolean", "sso");
  const third = await newFeature(sandbox, "boolean", "sso");
  const description = "Single sign-on for every workspace";
  const clash2 = await createAddon(sandbox, {
    name,
    description,
    basePrice: 0,
    featureId: second.code,
    consumptionModel: "boolean",
  });
  assertAddon(
    clash2,
    expectedAddon(second, { name, slug: `${created.slug}-2`, description, basePrice: 0, consumptionModel: "boolean" }),
  );
  const clash3 = await createAddon(sandbox, { name, basePrice: 100, featureId: third.id, consumptionModel: "boolean" });
  assertAddon(clash3, expectedAddon(third, { name, slug: `${created.slug}-3`, basePrice: 100, consumptionModel: "boolean" }));

  // update (PUT): name, description, basePrice change; the slug never does
  const renamed = `Enterprise SSO ${tag}`;
  const updated = unwrap(
    await sandbox.addons.update({ id: created.id, name: renamed, description: "SAML and OIDC", basePrice: 6000 }),
  );
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/addons/${created.id}`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), {
    name: renamed,
    description: "SAML and OIDC",
    basePrice: 6000,
  });
  assertAddon(
    updated,
    expectedAddon(sso, {
      name: renamed,
      slug: created.slug,
      description: "SAML and OIDC",
      basePrice: 6000,
      consumptionModel: "boolean",
    }),
  );
  assert.equal(updated.id, created.id);
  assert.equal(updated.createdAt, created.createdAt);
  assert.ok(updated.updatedAt >= created.updatedAt);
  assert.deepEqual(unwrap(await sandbox.addons.get({ id: created.slug })), updated, "still found by its slug");

  // list: legacy paginated list of Addon objects
  const page = await sandbox.addons.list({ limit: 2 });
  assert.equal(requestLine(lastExchange()), "GET /api/v1/addons?limit=2");
  assert.ok(assertLegacyList(page).length <= 2);
  const listed = await findInList(
    (cursor) => sandbox.addons.list(cursor ? { limit: 100, cursor } : { limit: 100 }),
    (a) => a.id === created.id,
  );
  assert.deepEqual(listed, updated);

  // the other models: their unit fields
  const calls = await newFeature(sandbox, "usage", "calls");
  const metered = await createAddon(sandbox, {
    name: `API Boost ${tag}`,
    basePrice: 2000,
    featureId: calls.id,
    consumptionModel: "metered",
    includedUnits: 1000,
    overageRate: 50,
  });
  assertAddon(
    metered,
    expectedAddon(calls, {
      name: `API Boost ${tag}`,
      basePrice: 2000,
      consumptionModel: "metered",
      includedUnits: 1000,
      overageRate: 50,
    }),
  );
  const images = await newFeature(sandbox, "usage", "images");
  const credits = await createAddon(sandbox, {
    name: `Image Pack ${tag}`,
    basePrice: 1500,
    featureId: images.id,
    consumptionModel: "credits",
    creditCost: 3,
  });
  assertAddon(
    credits,
    expectedAddon(images, { name: `Image Pack ${tag}`, basePrice: 1500, consumptionModel: "credits", creditCost: 3 }),
  );
  const renders = await newFeature(sandbox, "usage", "renders");
  const balance = await createAddon(sandbox, {
    name: `Render Wallet ${tag}`,
    basePrice: 1000,
    featureId: renders.id,
    consumptionModel: "balance",
    overageRate: 200,
  });
  assertAddon(
    balance,
    expectedAddon(renders, { name: `Render Wallet ${tag}`, basePrice: 1000, consumptionModel: "balance", overageRate: 200 }),
  );

  // delete (never activated): DeletedObject; then not found; the feature is free again
  const deleted = unwrap(await sandbox.addons.delete({ id: clash3.id }));
  assert.equal(requestLine(lastExchange()), `DELETE /api/v1/addons/${clash3.id}`);
  assert.deepEqual(deleted, { id: clash3.id, deleted: true, object: "addon", livemode: false });
  const notFound = { status: 404, code: "addon_not_found", type: "not_found_error" };
  await expectApiError(sandbox.addons.get({ id: clash3.id }), notFound);
  await expectApiError(sandbox.addons.delete({ id: clash3.id }), notFound);
  await expectApiError(sandbox.addons.update({ id: clash3.id, basePrice: 1 }), notFound);
  const reused = await createAddon(sandbox, {
    name: `Second Life ${tag}`,
    basePrice: 700,
    featureId: third.id,
    consumptionModel: "boolean",
  });
  assertAddon(reused, expectedAddon(third, { name: `Second Life ${tag}`, basePrice: 700, consumptionModel: "boolean" }));
  assert.notEqual(reused.id, clash3.id);
  assert.equal(
    await findInList(
      (cursor) => sandbox.addons.list(cursor ? { limit: 100, cursor } : { limit: 100 }),
      (a) => a.id === clash3.id,
    ),
    undefined,
    "a deleted add-on is not listed",
  );
});

test("add-on refusals: malformed bodies, model/feature mismatches, one add-on per feature, unknown ids", async () => {
  const sandbox = client(SANDBOX_KEY);
  const flag = await newFeature(sandbox, "boolean", "flag");
  const calls = await newFeature(sandbox, "usage", "calls");
  const seats = await newFeature(sandbox, "seats", "seats");
  const base = { name: unique("Addon"), basePrice: 5000, featureId: flag.id, consumptionModel: "boolean" };

  const { name, ...noName } = base;
  await expectValidationError(sandbox.addons.create(noName), "name");
  await expectValidationError(sandbox.addons.create({ ...base, basePrice: -1 }), "basePrice");
  const { featureId, ...noFeature } = base;
  await expectValidationError(sandbox.addons.create(noFeature), "featureId");
  await expectValidationError(sandbox.addons.create({ ...base, consumptionModel: "hourly" }), "consumptionModel");
  // model combinations: boolean takes no unit fields, metered needs overageRate, credits creditCost
  await expectValidationError(sandbox.addons.create({ ...base, overageRate: 50 }));
  await expectValidationError(
    sandbox.addons.create({ ...base, featureId: calls.id, consumptionModel: "metered", includedUnits: 10 }),
  );
  await expectValidationError(sandbox.addons.create({ ...base, featureId: calls.id, consumptionModel: "credits" }));
  // boolean needs a boolean feature, the others a usage feature; seats features never
  await expectValidationError(sandbox.addons.create({ ...base, featureId: calls.id }));
  await expectValidationError(
    sandbox.addons.create({ ...base, consumptionModel: "metered", overageRate: 50 }),
  );
  await expectValidationError(sandbox.addons.create({ ...base, featureId: seats.id }), "featureId");

  // one non-deleted add-on per feature; a feature sold as an add-on cannot be deleted
  const addon = await createAddon(sandbox, base);
  assertAddon(addon, expectedAddon(flag, { name: base.name, basePrice: 5000, consumptionModel: "boolean" }));
  await expectApiError(sandbox.addons.create({ ...base, name: unique("Other") }), {
    status: 409,
    code: "feature_already_exists",
    type: "conflict_error",
  });
  await expectApiError(sandbox.features.delete({ code: flag.code }), {
    status: 409,
    code: "feature_in_use",
    type: "conflict_error",
  });

  // update re-checks the combination; nothing changes on a refusal
  await expectValidationError(sandbox.addons.update({ id: addon.id, overageRate: 50 }));
  await expectValidationError(sandbox.addons.update({ id: addon.id, basePrice: -5 }), "basePrice");
  assert.deepEqual(unwrap(await sandbox.addons.get({ id: addon.id })), addon);

  // unknown add-on
  const notFound = { status: 404, code: "addon_not_found", type: "not_found_error" };
  await expectApiError(sandbox.addons.get({ id: UNKNOWN_ADDON }), notFound);
  await expectApiError(sandbox.addons.get({ id: unique("no-such-slug") }), notFound);
  await expectApiError(sandbox.addons.update({ id: UNKNOWN_ADDON, name: "x" }), notFound);
  await expectApiError(sandbox.addons.delete({ id: UNKNOWN_ADDON }), notFound);

  // listActive: unknown customer -> 404; a customer without a subscription -> empty list
  await expectApiError(sandbox.addons.listActive({ customerId: unique("ghost") }), {
    status: 404,
    code: "customer_not_found",
    type: "not_found_error",
  });
  const idle = await newCustomer(sandbox, "addon-idle");
  assert.deepEqual(await sandbox.addons.listActive({ customerId: idle.id }), { success: true, data: [] });
});

test("activation right after subscribing: the whole basePrice, granted at once, listed, deactivated without refund", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { plan } = await plainPlan(sandbox, "Pro", PRO_PRICE);
  const sso = await newFeature(sandbox, "boolean", "sso");
  const calls = await newFeature(sandbox, "usage", "calls");
  const tag = hex16();
  const ssoAddon = await createAddon(sandbox, {
    name: `SSO ${tag}`,
    basePrice: SSO_PRICE,
    featureId: sso.id,
    consumptionModel: "boolean",
  });
  const boost = await createAddon(sandbox, {
    name: `API Boost ${tag}`,
    basePrice: 2000,
    featureId: calls.id,
    consumptionModel: "metered",
    includedUnits: 1000,
    overageRate: 50,
  });
  const { customer, sub } = await subscribePlain(sandbox, plan, "addon-now");
  const { start, end } = sub.currentPeriod;
  const p = periodDays(start, end);
  const [initial] = await invoicesOf(sandbox, sub.id);
  assert.equal(initial.total, PRO_PRICE);
  const expectView = (got, { features, now }) =>
    assertLegacyPlainSubscription(got, { original: sub, customer, plan, basePrice: PRO_PRICE, start, end, now, features });

  // before: no add-on, the feature is not the customer's
  assert.deepEqual(await listActive(sandbox, customer.externalId), []);
  assert.equal((await access(sandbox, customer.id, sso.code)).allowed, false);
  expectView(unwrap(await sandbox.subscriptions.get({ id: sub.id })), { features: [], now: start });

  // activate the SSO add-on: d = P, the whole base price, billed at once
  const before = await clockNow(sandbox);
  const activation = await activateAddon(sandbox, sub.id, ssoAddon.id);
  const after = await clockNow(sandbox);
  assert.equal(prorate(SSO_PRICE, p, p), SSO_PRICE);
  assert.deepEqual(activation, legacyActivation(ssoAddon, SSO_PRICE));

  const [activationItem, ...rest] = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(rest.map((i) => i.id), [initial.id], "one invoice more, newest first");
  const t = activationItem.issueDate;
  assert.ok(before <= t && t <= after, `the activation is billed now (${before} .. ${after}), got ${t}`);
  const activationInvoice = assertInvoice(await getInvoice(sandbox, activationItem.id), {
    customer,
    subscriptionId: sub.id,
    invoiceType: "addon_activation",
    planName: plan.name,
    periodStart: t,
    periodEnd: end,
    issuedAt: t,
    lines: [addonLine(SSO_PRICE, SSO_PRICE)],
    total: SSO_PRICE,
  });
  const description = activationInvoice.lineItems[0].description;
  assert.ok(description.includes(`${p}/${p} days`), `the line states its day fraction: ${description}`);

  // granted at once: listed (by externalId and cus_ id), in features[], allowed
  const ssoActive = legacyActiveAddon(ssoAddon, "boolean", t);
  assert.deepEqual(await listActive(sandbox, customer.externalId), [ssoActive]);
  assert.deepEqual(await listActive(sandbox, customer.id), [ssoActive]);
  expectView(unwrap(await sandbox.subscriptions.get({ id: sub.id })), { features: [legacyBooleanItem(sso)], now: t });
  assert.deepEqual(await access(sandbox, customer.id, sso.code), {
    code: sso.code,
    name: sso.name,
    type: "boolean",
    allowed: true,
    enabled: true,
    object: "feature",
    livemode: false,
  });

  // active already -> 409; an add-on with active activations cannot be deleted
  await expectApiError(sandbox.subscriptions.activateAddon({ id: sub.id, addonId: ssoAddon.id }), {
    status: 409,
    code: "addon_already_active",
    type: "conflict_error",
  });
  await expectApiError(sandbox.addons.delete({ id: ssoAddon.id }), {
    status: 409,
    code: "addon_has_activations",
    type: "conflict_error",
  });

  // a metered add-on too: its feature with the add-on's units; listed oldest first
  const boostActivation = await activateAddon(sandbox, sub.id, boost.id);
  assert.deepEqual(boostActivation, legacyActivation(boost, 2000));
  const [boostItem] = await invoicesOf(sandbox, sub.id);
  const t2 = boostItem.issueDate;
  assertInvoice(await getInvoice(sandbox, boostItem.id), {
    customer,
    subscriptionId: sub.id,
    invoiceType: "addon_activation",
    planName: plan.name,
    periodStart: t2,
    periodEnd: end,
    issuedAt: t2,
    lines: [addonLine(2000, 2000)],
    total: 2000,
  });
  const boostUsage = legacyUsageItem(calls, { included: 1000, overageUnitPrice: 50 });
  assert.deepEqual(await listActive(sandbox, customer.id), [ssoActive, legacyActiveAddon(boost, "usage", t2)]);
  expectView(unwrap(await sandbox.subscriptions.get({ id: sub.id })), {
    features: [legacyBooleanItem(sso), boostUsage],
    now: t2,
  });

  // deactivate SSO: stops at once, no refund
  const d0 = await clockNow(sandbox);
  const deactivated = await deactivateAddon(sandbox, sub.id, ssoAddon.id);
  const d1 = await clockNow(sandbox);
  assert.ok(d0 <= deactivated.deactivatedAt && deactivated.deactivatedAt <= d1, "deactivatedAt is now");
  assert.deepEqual(deactivated, legacyDeactivation(ssoAddon, deactivated.deactivatedAt));
  assert.deepEqual(await listActive(sandbox, customer.id), [legacyActiveAddon(boost, "usage", t2)]);
  expectView(unwrap(await sandbox.subscriptions.get({ id: sub.id })), { features: [boostUsage], now: d1 });
  assert.equal((await access(sandbox, customer.id, sso.code)).allowed, false);
  assert.deepEqual(
    (await invoicesOf(sandbox, sub.id)).map((i) => i.id),
    [boostItem.id, activationItem.id, initial.id],
    "no credit, no refund",
  );

  // not active any more -> 400 addon_not_active
  await expectApiError(sandbox.subscriptions.deactivateAddon({ id: sub.id, addonId: ssoAddon.id }), {
    status: 400,
    code: "addon_not_active",
    type: "billing_error",
  });

  // re-activation is charged again; then both go, and the add-on can be deleted
  assert.deepEqual(await activateAddon(sandbox, sub.id, ssoAddon.id), legacyActivation(ssoAddon, SSO_PRICE));
  const all = await invoicesOf(sandbox, sub.id);
  assert.equal(all.length, 4);
  assert.equal(all[0].invoiceType, "addon_activation");
  assert.equal(all[0].total, SSO_PRICE);
  await deactivateAddon(sandbox, sub.id, ssoAddon.id);
  await deactivateAddon(sandbox, sub.id, boost.id);
  assert.deepEqual(await listActive(sandbox, customer.id), []);
  assert.deepEqual(unwrap(await sandbox.addons.delete({ id: ssoAddon.id })), {
    id: ssoAddon.id,
    deleted: true,
    object: "addon",
    livemode: false,
  });
  expectView(unwrap(await sandbox.subscriptions.get({ id: sub.id })), { features: [], now: await clockNow(sandbox) });
});

test("activation refusals: unknown ids, feature on the plan, model mismatch, canceled subscription", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { plan } = await plainPlan(sandbox, "Pro", PRO_PRICE);
  const onPlan = await newFeature(sandbox, "boolean", "onplan");
  unwrap(await sandbox.plans.addFeature({ id: plan.id, featureId: onPlan.id }));
  const images = await newFeature(sandbox, "usage", "images");
  const sso = await newFeature(sandbox, "boolean", "sso");
  const duplicate = await createAddon(sandbox, {
    name: unique("Dup"),
    basePrice: 1000,
    featureId: onPlan.id,
    consumptionModel: "boolean",
  });
  const credits = await createAddon(sandbox, {
    name: unique("Credits"),
    basePrice: 1000,
    featureId: images.id,
    consumptionModel: "credits",
    creditCost: 2,
  });
  const ssoAddon = await createAddon(sandbox, {
    name: unique("SSO"),
    basePrice: SSO_PRICE,
    featureId: sso.id,
    consumptionModel: "boolean",
  });
  const { customer, sub } = await subscribePlain(sandbox, plan, "addon-refused");
  const [initial] = await invoicesOf(sandbox, sub.id);

  await expectValidationError(sandbox.subscriptions.activateAddon({ id: sub.id }), "addonId");
  assert.deepEqual(JSON.parse(lastExchange().requestBody), {});
  await expectApiError(sandbox.subscriptions.activateAddon({ id: UNKNOWN_SUBSCRIPTION, addonId: ssoAddon.id }), {
    status: 404,
    code: "subscription_not_found",
    type: "not_found_error",
  });
  await expectApiError(sandbox.subscriptions.activateAddon({ id: sub.id, addonId: UNKNOWN_ADDON }), {
    status: 404,
    code: "addon_not_found",
    type: "not_found_error",
  });
  // the plan already enables the feature
  await expectApiError(sandbox.subscriptions.activateAddon({ id: sub.id, addonId: duplicate.id }), {
    status: 409,
    code: "feature_already_exists",
    type: "conflict_error",
  });
  // a credits add-on on a metered plan
  await expectValidationError(sandbox.subscriptions.activateAddon({ id: sub.id, addonId: credits.id }), "addonId");
  // deactivating an add-on never activated here
  await expectApiError(sandbox.subscriptions.deactivateAddon({ id: sub.id, addonId: ssoAddon.id }), {
    status: 400,
    code: "addon_not_active",
    type: "billing_error",
  });

  // nothing was activated or billed
  assert.deepEqual(await listActive(sandbox, customer.id), []);
  assert.deepEqual((await invoicesOf(sandbox, sub.id)).map((i) => i.id), [initial.id]);

  // canceled -> 409 subscription_not_active
  unwrap(await sandbox.subscriptions.cancel({ id: sub.id, immediate: true }));
  await expectApiError(sandbox.subscriptions.activateAddon({ id: sub.id, addonId: ssoAddon.id }), {
    status: 409,
    code: "subscription_not_active",
    type: "conflict_error",
  });
  assert.deepEqual(await listActive(sandbox, customer.id), []);
});
