// Plan groups and plan changes as @commet/node 7.10.0 sees them (commet-version 2026-07-11, legacy
// envelope; lifecycle.md §2–§4, §12), shared by test/plan-changes.test.mjs and
// test/clock/plan-changes.test.mjs. Every call creates fresh, uniquely named data.
//
// Wire mapping (dist/index.mjs PlanGroupsResource / SubscriptionsResource; prefix /api/v1):
//   planGroups.create({name, description?, isPublic?})   POST /plan-groups
//   planGroups.get({id})                                  GET  /plan-groups/{id}
//   planGroups.addPlan({id, planId, sortOrder?})          POST /plan-groups/{id}/plans  {planId, sortOrder?}
//   subscriptions.changePlan({id, newPlanId?, newBillingInterval?})
//                                                         POST /subscriptions/{id}/change-plan
//   subscriptions.previewChange({id, planId, billingInterval?})
//                                                         POST /subscriptions/{id}/preview-change
// Legacy results: PlanChange / PreviewChange with object "subscription" and no `outcome` key.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  assertLegacyList,
  assertTimestamp,
  DAY_MS,
  daysRemaining,
  FEATURE_ID,
  featureCode,
  lastExchange,
  PLAN_ID,
  requestLine,
  sortedKeys,
  SUBSCRIPTION_ID,
  unique,
  unwrap,
} from "./helpers.mjs";
import { INVOICE_ID, INVOICE_KEYS, INVOICE_NUMBER, assertLine } from "./invoicing.mjs";
import { LEGACY_SUBSCRIPTION_KEYS, newCustomer } from "./fixtures.mjs";

export const PLAN_GROUP_ID = /^plg_[0-9A-HJKMNP-TV-Z]{26}$/;

// lifecycle.md §12 setup: prices in cents, seat terms per plan (unitPrice on the rate scale).
export const PRO = { price: 9900, included: 5, unitPrice: 250000 };
export const BUSINESS = { price: 29900, included: 10, unitPrice: 200000 };
export const TEAM = { price: 19900, included: 10, unitPrice: null }; // overage off
export const SOLO = { price: 1900 };

async function pricedPlan(sdk, tag, price) {
  const plan = unwrap(await sdk.plans.create({ name: unique(tag), code: unique(tag.toLowerCase()) }));
  assert.match(plan.id, PLAN_ID);
  const monthly = unwrap(await sdk.plans.addPrice({ id: plan.id, billingInterval: "monthly", price }));
  assert.equal(monthly.isDefault, true);
  return plan;
}

async function attachSeats(sdk, plan, feature, { included, unitPrice }) {
  unwrap(
    await sdk.plans.addFeature({
      id: plan.id,
      featureId: feature.id,
      includedAmount: included,
      overage: unitPrice === null ? { enabled: false, unitPrice: 0 } : { enabled: true, unitPrice },
    }),
  );
}

/**
 * lifecycle.md §12 setup: seats feature `editor`; pro 9900 (5 incl., $25), business 29900
 * (10 incl., $20), team 19900 (10 incl., overage off), solo 1900 (no group); a group with pro
 * (default order 0), business (default order 1) and team (sortOrder 2), checked with get.
 */
export async function standardCatalog(sdk) {
  const feature = unwrap(
    await sdk.features.create({
      name: unique("Editor seats"),
      code: featureCode("editor"),
      type: "seats",
      unitName: "seat",
    }),
  );
  const pro = await pricedPlan(sdk, "Pro", PRO.price);
  await attachSeats(sdk, pro, feature, PRO);
  const business = await pricedPlan(sdk, "Business", BUSINESS.price);
  await attachSeats(sdk, business, feature, BUSINESS);
  const team = await pricedPlan(sdk, "Team", TEAM.price);
  await attachSeats(sdk, team, feature, TEAM);
  const solo = await pricedPlan(sdk, "Solo", SOLO.price);

  const group = unwrap(await sdk.planGroups.create({ name: unique("Standard") }));
  assert.match(group.id, PLAN_GROUP_ID);
  for (const params of [{ planId: pro.id }, { planId: business.id }, { planId: team.id, sortOrder: 2 }]) {
    assert.deepEqual(unwrap(await sdk.planGroups.addPlan({ id: group.id, ...params })), {
      success: true,
      object: "plan_group",
      livemode: false,
    });
  }
  const detail = unwrap(await sdk.planGroups.get({ id: group.id }));
  assert.deepEqual(detail.plans, [
    { id: pro.id, name: pro.name, sortOrder: 0 },
    { id: business.id, name: business.name, sortOrder: 1 },
    { id: team.id, name: team.name, sortOrder: 2 },
  ]);
  return { feature, pro, business, team, solo, group };
}

/** A new customer on `pro` monthly with `seats` editor seats (the subscription as created). */
export async function subscribeToPro(sdk, catalog, seats, tag = "plan-change") {
  const customer = await newCustomer(sdk, tag);
  const sub = unwrap(
    await sdk.subscriptions.create({
      customerId: customer.id,
      planCode: catalog.pro.code,
      billingInterval: "monthly",
      initialSeats: { [catalog.feature.code]: seats },
    }),
  );
  assert.match(sub.id, SUBSCRIPTION_ID);
  assert.equal(sub.status, "active");
  assert.equal(sub.plan.id, catalog.pro.id);
  return { customer, sub };
}

/** Whole days of a period (UTC, same time of day at both ends). */
export function periodDays(start, end) {
  const days = (Date.parse(end) - Date.parse(start)) / DAY_MS;
  assert.ok(Number.isInteger(days), `period ${start} -> ${end} is a whole number of days`);
  return days;
}

/** round_half_up(amount × d / P) in exact integer arithmetic (lifecycle.md §4.3 credit). */
export function prorate(amount, d, p) {
  return Math.floor((2 * amount * d + p) / (2 * p));
}

/** The legacy features[] item of a seats feature under the given plan terms (catalog.md §5.4). */
export function legacySeatItem(feature, seats, { included, unitPrice }) {
  const usage = { current: seats, included, overageQuantity: Math.max(0, seats - included) };
  if (unitPrice !== null) usage.overageUnitPrice = unitPrice; // present only when overage is on
  return { code: feature.code, name: feature.name, type: "seats", usage };
}

/**
 * A legacy Subscription after plan changes, field by field. `original` is the subscription as
 * created (id, startDate, createdAt carry over); `plan`/`terms` the plan it is on now; `start`/
 * `end` its current period; `now` the clock time for daysRemaining. `name` is only checked to be
 * a string (lifecycle.md does not say whether a plan change renames the subscription);
 * `updatedAt` is checked when given.
 */
export function assertLegacySubscriptionOn(
  sub,
  { original, customer, plan, terms, feature, seats, start, end, now, scheduledPlanChange = null, updatedAt },
) {
  assert.deepEqual(sortedKeys(sub), LEGACY_SUBSCRIPTION_KEYS, "legacy Subscription fields");
  assert.equal(typeof sub.name, "string");
  assertTimestamp(sub.updatedAt, "updatedAt");
  if (updatedAt !== undefined) assert.equal(sub.updatedAt, updatedAt, "updatedAt");
  assert.deepEqual(sub, {
    id: original.id,
    customerId: customer.id,
    plan: { id: plan.id, name: plan.name, basePrice: terms.price },
    name: sub.name,
    description: null,
    status: "active",
    billingInterval: "monthly",
    consumptionModel: "metered",
    trialEndsAt: null,
    currentPeriod: { start, end, daysRemaining: daysRemaining(end, now) },
    features: [legacySeatItem(feature, seats, terms)],
    credits: null,
    balance: null,
    cancellation: null,
    cancelAtPeriodEnd: false,
    scheduledPlanChange,
    discount: null,
    startDate: original.startDate,
    endDate: null,
    billingDayOfMonth: new Date(start).getUTCDate(),
    nextBillingDate: end,
    checkoutUrl: null,
    checkoutProvider: null,
    createdAt: original.createdAt,
    updatedAt: sub.updatedAt,
    object: "subscription",
    livemode: false,
  });
}

/** `subscriptions.previewChange` through the SDK, checking the request; returns legacy data. */
export async function previewChange(sdk, id, planId) {
  const preview = unwrap(await sdk.subscriptions.previewChange({ id, planId }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${id}/preview-change`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { planId });
  assert.equal(lastExchange().status, 200);
  return preview;
}

/** `subscriptions.changePlan({id, newPlanId})` through the SDK, checking the request. */
export async function changePlan(sdk, id, newPlanId) {
  const change = unwrap(await sdk.subscriptions.changePlan({ id, newPlanId }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${id}/change-plan`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { newPlanId });
  assert.equal(lastExchange().status, 200);
  return change;
}

/** A legacy PreviewChange of an immediate change (lifecycle.md §4.5). */
export function assertLegacyPreview(preview, { credit, charge, total, effectiveDate, d, p }) {
  assert.deepEqual(preview, {
    currency: "usd",
    currentPlanCredit: credit,
    newPlanCharge: charge,
    estimatedTotal: total,
    effectiveDate,
    daysRemaining: d,
    totalDays: p,
    isUpgrade: true,
    object: "subscription",
    livemode: false,
  });
}

/** A legacy completed PlanChange (no `outcome`, object "subscription"); returns its invoiceId. */
export function assertLegacyCompleted(change, { sub, customer, from, to, price, billing }) {
  assert.ok(!("outcome" in change), "the legacy PlanChange has no outcome key");
  assert.match(change.invoiceId ?? "", INVOICE_ID, "invoiceId");
  assert.deepEqual(change, {
    id: sub.id,
    scheduled: false,
    customerId: customer.id,
    previousPlan: { id: from.id, name: from.name },
    currentPlan: { id: to.id, name: to.name, price },
    billingInterval: "monthly",
    billing: { creditsApplied: 0, taxAmount: 0, remainingCreditBalance: 0, ...billing },
    invoiceId: change.invoiceId,
    object: "subscription",
    livemode: false,
  });
  return change.invoiceId;
}

/** The proration `credit` line of a plan_change invoice (lifecycle.md §4.3), without description. */
export function prorationCreditLine(amount) {
  return {
    lineType: "credit",
    featureName: null,
    quantity: 1,
    unitAmount: -amount,
    amount: -amount,
    includedAmount: null,
    usedAmount: null,
    overageAmount: null,
    discountType: null,
    discountValue: null,
    discountName: null,
    chargeType: "standard",
  };
}

/**
 * A legacy `plan_change` invoice (lifecycle.md §4.3, commerce.md §8.1): subtotal = charge,
 * creditApplied = −Σ credit lines, total = Σ lines, paid at once (invoice_only).
 * `days`: the "d/P days" fraction the credit line's description states.
 */
export function assertPlanChangeInvoice(
  invoice,
  { customer, subscriptionId, planName, periodStart, periodEnd, issuedAt, lines, subtotal, creditApplied, total, days },
) {
  assert.deepEqual(sortedKeys(invoice), INVOICE_KEYS, "legacy Invoice fields");
  assert.match(invoice.id, INVOICE_ID);
  assert.match(invoice.invoiceNumber, INVOICE_NUMBER);
  assert.equal(invoice.lineItems.length, lines.length, `lines: ${JSON.stringify(invoice.lineItems)}`);
  invoice.lineItems.forEach((line, i) => assertLine(line, lines[i], `${invoice.invoiceNumber} line ${i}`));
  const credit = invoice.lineItems.find((line) => line.lineType === "credit");
  if (credit && days) {
    assert.ok(credit.description.includes(`${days} days`), `the credit line states ${days} days: ${credit.description}`);
  }
  assert.equal(invoice.lineItems.reduce((sum, line) => sum + line.amount, 0), total, "lines add up to the total");
  const { lineItems, ...head } = invoice;
  assert.deepEqual(head, {
    id: invoice.id,
    customerId: customer.id,
    subscriptionId,
    invoiceNumber: invoice.invoiceNumber,
    status: "paid",
    invoiceType: "plan_change",
    currency: "usd",
    subtotal,
    discountAmount: 0,
    taxAmount: 0,
    total,
    periodStart,
    periodEnd,
    issueDate: issuedAt,
    dueDate: issuedAt,
    memo: null,
    metadata: {},
    createdAt: issuedAt,
    updatedAt: issuedAt,
    creditApplied,
    planName,
    poNumber: null,
    reference: null,
    object: "invoice",
    livemode: false,
  });
  return invoice;
}


// ---------------------------------------------------------------------------------------------
// Add-ons, reactivation and the test clock (lifecycle.md §5, §7; payments.md §6), shared by
// test/addons.test.mjs, test/clock/addons.test.mjs and test/clock/reactivate.test.mjs.
//
// Wire mapping (dist/index.mjs AddonsResource / SubscriptionsResource; prefix /api/v1):
//   addons.create(params)                       POST   /addons                 body = params
//   addons.get({id})                            GET    /addons/{id}            id = adn_… or slug
//   addons.update({id, ...fields})              PUT    /addons/{id}            body = fields
//   addons.delete({id})                         DELETE /addons/{id}            -> DeletedObject
//   addons.list({limit?, cursor?})              GET    /addons?…               -> paginated list
//   addons.listActive({customerId})             GET    /active-addons?customerId=…
//                                               -> {success, data:[ActiveAddon]}, no paging keys
//   subscriptions.activateAddon({id, addonId})  POST   /subscriptions/{id}/addons  body {addonId}
//   subscriptions.deactivateAddon({id, addonId})
//                                               DELETE /subscriptions/{id}/addons/{addonId}
//   subscriptions.reactivate({id})              POST   /subscriptions/{id}/reactivate  body {}
// Legacy objects: SubscriptionAddon and DeletedSubscriptionAddon carry object "subscription",
// ActiveAddon object "addon".
// ---------------------------------------------------------------------------------------------

export const ADDON_ID = /^adn_[0-9A-HJKMNP-TV-Z]{26}$/;
const ADDON_KEYS = [
  "basePrice",
  "consumptionModel",
  "createdAt",
  "creditCost",
  "description",
  "featureCode",
  "featureName",
  "id",
  "includedUnits",
  "livemode",
  "name",
  "object",
  "overageRate",
  "slug",
  "updatedAt",
];

/** 16 lower-case hex characters, for names whose slug the test predicts. */
export function hex16() {
  return randomUUID().replaceAll("-", "").slice(0, 16);
}

/**
 * lifecycle.md §5: the lower-cased name, every run of characters outside [a-z0-9] one "-". The
 * tests' names begin and end with a letter or digit, so no edge "-" question arises.
 */
export function slugOf(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

/** A fresh feature of `type` (boolean, usage, seats, quota). */
export async function newFeature(sdk, type, tag) {
  const params = { name: unique(tag), code: featureCode(tag), type };
  if (type !== "boolean") params.unitName = "unit";
  const feature = unwrap(await sdk.features.create(params));
  assert.match(feature.id, FEATURE_ID);
  assert.equal(feature.type, type);
  return feature;
}

/** A plan with one monthly price and no features (lifecycle.md §12 scenario 4's `pro`). */
export async function plainPlan(sdk, tag, price) {
  const plan = unwrap(await sdk.plans.create({ name: unique(tag), code: unique(tag.toLowerCase()) }));
  assert.match(plan.id, PLAN_ID);
  const monthly = unwrap(await sdk.plans.addPrice({ id: plan.id, billingInterval: "monthly", price }));
  assert.equal(monthly.isDefault, true);
  return { plan, monthly };
}

/** A new customer subscribed to `plan` monthly (the legacy Subscription as created). */
export async function subscribePlain(sdk, plan, tag) {
  const customer = await newCustomer(sdk, tag);
  const sub = unwrap(
    await sdk.subscriptions.create({ customerId: customer.id, planCode: plan.code, billingInterval: "monthly" }),
  );
  assert.match(sub.id, SUBSCRIPTION_ID);
  assert.equal(sub.status, "active");
  return { customer, sub };
}

/** `addons.create` through the SDK, checking the request; returns the legacy Addon. */
export async function createAddon(sdk, params) {
  const addon = unwrap(await sdk.addons.create(params));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/addons");
  assert.deepEqual(JSON.parse(lastExchange().requestBody), params);
  assert.equal(lastExchange().status, 200);
  return addon;
}

/**
 * The Addon expected for `feature` (lifecycle.md §2): unit fields null unless given, slug from
 * the name unless given.
 */
export function expectedAddon(feature, { name, basePrice, consumptionModel, ...rest }) {
  return {
    name,
    slug: slugOf(name),
    description: null,
    basePrice,
    featureCode: feature.code,
    featureName: feature.name,
    consumptionModel,
    includedUnits: null,
    overageRate: null,
    creditCost: null,
    ...rest,
  };
}

/** A legacy Addon field by field; `expected` from expectedAddon (id and timestamps are checked here). */
export function assertAddon(addon, expected) {
  assert.deepEqual(sortedKeys(addon), ADDON_KEYS, "legacy Addon fields");
  assert.match(addon.id, ADDON_ID);
  assertTimestamp(addon.createdAt, "createdAt");
  assertTimestamp(addon.updatedAt, "updatedAt");
  assert.ok(addon.updatedAt >= addon.createdAt, "updatedAt is not before createdAt");
  assert.deepEqual(addon, {
    id: addon.id,
    ...expected,
    createdAt: addon.createdAt,
    updatedAt: addon.updatedAt,
    object: "addon",
    livemode: false,
  });
  return addon;
}

/** `subscriptions.activateAddon` through the SDK, checking the request; returns legacy data. */
export async function activateAddon(sdk, subscriptionId, addonId) {
  const result = unwrap(await sdk.subscriptions.activateAddon({ id: subscriptionId, addonId }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${subscriptionId}/addons`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { addonId });
  assert.equal(lastExchange().status, 200);
  return result;
}

/** The legacy SubscriptionAddon of an activation. */
export function legacyActivation(addon, proratedCharge) {
  return { addonId: addon.id, status: "active", proratedCharge, object: "subscription", livemode: false };
}

/** `subscriptions.deactivateAddon` through the SDK, checking the request; returns legacy data. */
export async function deactivateAddon(sdk, subscriptionId, addonId) {
  const result = unwrap(await sdk.subscriptions.deactivateAddon({ id: subscriptionId, addonId }));
  assert.equal(requestLine(lastExchange()), `DELETE /api/v1/subscriptions/${subscriptionId}/addons/${addonId}`);
  assert.equal(lastExchange().status, 200);
  return result;
}

/** The legacy DeletedSubscriptionAddon of a deactivation at `at`. */
export function legacyDeactivation(addon, at) {
  return { id: addon.id, status: "inactive", deactivatedAt: at, object: "subscription", livemode: false };
}

/** `addons.listActive` through the SDK: legacy `{success, data}` without paging keys; returns data. */
export async function listActive(sdk, customerId) {
  const items = unwrap(await sdk.addons.listActive({ customerId }));
  assert.equal(requestLine(lastExchange()), `GET /api/v1/active-addons?customerId=${customerId}`);
  assert.ok(Array.isArray(items), "data is an array");
  return items;
}

/** A legacy ActiveAddon item (object "addon"). */
export function legacyActiveAddon(addon, featureType, activatedAt) {
  return {
    slug: addon.slug,
    name: addon.name,
    basePrice: addon.basePrice,
    featureCode: addon.featureCode,
    featureName: addon.featureName,
    featureType,
    consumptionModel: addon.consumptionModel,
    activatedAt,
    object: "addon",
    livemode: false,
  };
}

/** An `addon_base` / `advance` invoice line (lifecycle.md §5), without description. */
export function addonLine(basePrice, amount) {
  return {
    lineType: "addon_base",
    featureName: null,
    quantity: 1,
    unitAmount: basePrice,
    amount,
    includedAmount: null,
    usedAmount: null,
    overageAmount: null,
    discountType: null,
    discountValue: null,
    discountName: null,
    chargeType: "advance",
  };
}

/** The legacy features[] item of an active boolean add-on's feature. */
export function legacyBooleanItem(feature) {
  return { code: feature.code, name: feature.name, type: "boolean", enabled: true };
}

/** The legacy features[] item of an active metered add-on's feature (nothing used yet). */
export function legacyUsageItem(feature, { included, overageUnitPrice }) {
  return {
    code: feature.code,
    name: feature.name,
    type: "usage",
    usage: { current: 0, included, overageQuantity: 0, overageUnitPrice },
  };
}

const byCode = (a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

/**
 * A legacy Subscription of a plan without features of its own (plainPlan), field by field.
 * `features`: the active add-ons' items, compared in code order (lifecycle.md does not order
 * them). `original`: the subscription as created (id, startDate, createdAt carry over).
 * `overrides` replaces expected fields (wire names) after the defaults are computed.
 */
export function assertLegacyPlainSubscription(
  sub,
  { original, customer, plan, basePrice, start, end, now, features = [], overrides = {} },
) {
  assert.deepEqual(sortedKeys(sub), LEGACY_SUBSCRIPTION_KEYS, "legacy Subscription fields");
  assertTimestamp(sub.updatedAt, "updatedAt");
  assert.ok(Array.isArray(sub.features), "features");
  const expected = {
    id: original.id,
    customerId: customer.id,
    plan: { id: plan.id, name: plan.name, basePrice },
    name: plan.name,
    description: null,
    status: "active",
    billingInterval: "monthly",
    consumptionModel: "metered",
    trialEndsAt: null,
    currentPeriod: { start, end, daysRemaining: daysRemaining(end, now) },
    features: [...features].sort(byCode),
    credits: null,
    balance: null,
    cancellation: null,
    cancelAtPeriodEnd: false,
    scheduledPlanChange: null,
    discount: null,
    startDate: original.startDate,
    endDate: null,
    billingDayOfMonth: new Date(start).getUTCDate(),
    nextBillingDate: end,
    checkoutUrl: null,
    checkoutProvider: null,
    createdAt: original.createdAt,
    updatedAt: sub.updatedAt,
    object: "subscription",
    livemode: false,
    ...overrides,
  };
  assert.deepEqual({ ...sub, features: [...sub.features].sort(byCode) }, expected);
}

/** The sandbox clock's "now" (real time until the clock is first advanced). */
export async function clockNow(sdk) {
  return unwrap(await sdk.testClock.get()).now;
}

/** The first 00:00 UTC on the 1st of a month of `days` days (30 or 31) strictly after `now`. */
export function firstOfMonthAfter(now, days) {
  const d = new Date(now);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth(); // 0-based
  for (;;) {
    month += 1;
    if (month === 12) {
      month = 0;
      year += 1;
    }
    if (new Date(Date.UTC(year, month + 1, 0)).getUTCDate() === days) {
      return new Date(Date.UTC(year, month, 1)).toISOString();
    }
  }
}

/** Moves the legacy clock to `target` (time only; 200 TestClock). */
export async function advanceTo(sdk, target) {
  const clock = unwrap(await sdk.testClock.advance({ frozenTime: target }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/test-clock");
  assert.equal(lastExchange().status, 200);
  assert.equal(clock.simulatedTime, target, "the clock stands at the target");
  assert.equal(clock.now, target);
}

/** Runs what is due at the clock time (legacy process-billing); nothing may fail. */
export async function processBilling(sdk) {
  const billing = unwrap(await sdk.testClock.processBilling());
  assert.equal(requestLine(lastExchange()), "POST /api/v1/test-clock/process-billing");
  assert.equal(billing.failed, 0, JSON.stringify(billing));
  return billing;
}

/** Moves the clock to a period end and runs billing: at least our renewal was due. */
export async function renewAt(sdk, end) {
  await advanceTo(sdk, end);
  const billing = await processBilling(sdk);
  assert.ok(billing.enqueued >= 1, `our renewal was due: ${JSON.stringify(billing)}`);
}

/** The invoices of one subscription, newest first (one page). */
export async function invoicesOf(sdk, subscriptionId) {
  const res = await sdk.invoices.list({ subscriptionId, limit: 10 });
  assert.equal(res.hasMore, false);
  return assertLegacyList(res);
}
