// Catalog fixtures and the legacy (2026-07-11) subscription shape, shared by the subscription and
// test-clock tests. Every call creates fresh, uniquely named data (both suites share one database).
import assert from "node:assert/strict";
import {
  addMonths,
  assertTimestamp,
  CUSTOMER_ID,
  daysRemaining,
  featureCode,
  sortedKeys,
  SUBSCRIPTION_ID,
  unique,
  unwrap,
} from "./helpers.mjs";

export const PLAN_DESCRIPTION = "For growing teams";
export const MONTHLY_PRICE = 9900; // cents
export const YEARLY_PRICE = 99000; // cents
export const INCLUDED_SEATS = 5;
export const SEAT_UNIT_PRICE = 250000; // rate scale, 10000 = $1

/**
 * A seats feature and a plan with a monthly (default, first) and a yearly price, the feature
 * attached with 5 included seats and overage at $25 (scenario 1 of examples.md).
 */
export async function seatPlan(sdk) {
  const feature = unwrap(
    await sdk.features.create({
      name: unique("Editor seats"),
      code: featureCode("seat"),
      type: "seats",
      unitName: "seat",
    }),
  );
  const plan = unwrap(
    await sdk.plans.create({ name: unique("Pro"), code: unique("pro"), description: PLAN_DESCRIPTION }),
  );
  const monthly = unwrap(
    await sdk.plans.addPrice({ id: plan.id, billingInterval: "monthly", price: MONTHLY_PRICE }),
  );
  const yearly = unwrap(
    await sdk.plans.addPrice({ id: plan.id, billingInterval: "yearly", price: YEARLY_PRICE }),
  );
  assert.equal(monthly.isDefault, true, "the first price becomes the default");
  unwrap(
    await sdk.plans.addFeature({
      id: plan.id,
      featureId: feature.id,
      includedAmount: INCLUDED_SEATS,
      overage: { enabled: true, unitPrice: SEAT_UNIT_PRICE },
    }),
  );
  return { feature, plan, monthly, yearly };
}

/** A customer created with the merchant's own id (stored as externalId) and a full name. */
export async function newCustomer(sdk, tag = "sub-cust") {
  const externalId = unique(tag);
  const customer = unwrap(
    await sdk.customers.create({
      id: externalId,
      email: `${externalId}@example.test`,
      fullName: `Acme ${externalId.slice(-6)}`,
    }),
  );
  assert.match(customer.id, CUSTOMER_ID);
  return customer;
}

export const LEGACY_SUBSCRIPTION_KEYS = [
  "balance",
  "billingDayOfMonth",
  "billingInterval",
  "cancelAtPeriodEnd",
  "cancellation",
  "checkoutProvider",
  "checkoutUrl",
  "consumptionModel",
  "createdAt",
  "credits",
  "currentPeriod",
  "customerId",
  "description",
  "discount",
  "endDate",
  "features",
  "id",
  "livemode",
  "name",
  "nextBillingDate",
  "object",
  "plan",
  "scheduledPlanChange",
  "startDate",
  "status",
  "trialEndsAt",
  "updatedAt",
];

/**
 * Asserts a legacy Subscription (catalog.md §5.4, examples.md scenario 2) field by field.
 *   period: which billing period is current, counted from startDate (0 = the first one)
 *   now:    the clock time the response was computed at, for daysRemaining (default: the start
 *           of the current period, which is also right in real time within the first day)
 *   seats:  features[0].usage.current
 * `overrides` replaces expected fields (e.g. cancellation) after the defaults are computed.
 */
export function assertLegacySubscription(
  sub,
  { customer, plan, feature, interval = "monthly", basePrice = MONTHLY_PRICE, seats, period = 0, now, overrides = {} },
) {
  assert.deepEqual(sortedKeys(sub), LEGACY_SUBSCRIPTION_KEYS, "legacy Subscription fields");
  assert.match(sub.id, SUBSCRIPTION_ID);
  assertTimestamp(sub.startDate, "startDate");
  assertTimestamp(sub.createdAt, "createdAt");
  assertTimestamp(sub.updatedAt, "updatedAt");
  const months = interval === "yearly" ? 12 : 1;
  const start = addMonths(sub.startDate, period * months);
  const end = addMonths(sub.startDate, (period + 1) * months);
  const expected = {
    id: sub.id,
    customerId: customer.id,
    plan: { id: plan.id, name: plan.name, basePrice },
    name: plan.name,
    description: plan.description,
    status: "active",
    billingInterval: interval,
    consumptionModel: "metered",
    trialEndsAt: null,
    currentPeriod: { start, end, daysRemaining: daysRemaining(end, now ?? start) },
    features: [
      {
        code: feature.code,
        name: feature.name,
        type: "seats",
        usage: {
          current: seats,
          included: INCLUDED_SEATS,
          overageQuantity: Math.max(0, seats - INCLUDED_SEATS),
          overageUnitPrice: SEAT_UNIT_PRICE,
        },
      },
    ],
    credits: null,
    balance: null,
    cancellation: null,
    cancelAtPeriodEnd: false,
    scheduledPlanChange: null,
    discount: null,
    startDate: sub.startDate,
    endDate: null,
    billingDayOfMonth: new Date(sub.startDate).getUTCDate(),
    nextBillingDate: end,
    checkoutUrl: null,
    checkoutProvider: null,
    createdAt: sub.createdAt,
    updatedAt: sub.updatedAt,
    object: "subscription",
    livemode: false,
    ...overrides,
  };
  assert.deepEqual(sub, expected);
  return { start, end };
}
