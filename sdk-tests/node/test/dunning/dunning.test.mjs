// Collecting subscription invoices, dunning and recovery through @commet/node 7.10.0
// (commet-version 2026-07-11, legacy envelope; payments.md §5–6), against a Tally server started
// with `--billing-mode charge` (sdk-tests/run points TALLY_URL at $TALLY_CHARGE_URL for this
// directory). Subscription invoices are charged to the customer's default card: at creation
// (`first_subscription_payment`; without a card, or after a decline, the subscription waits in
// `pending_payment` with a `checkoutUrl`), at each renewal (`recurring_billing`); a declined renewal makes
// the subscription `past_due`, retried 1, 3, 5 and 7 days after the decline on the org clock.
//
// Wire mapping (dist/index.mjs SubscriptionsResource / TransactionsResource / TestClockResource;
// prefix /api/v1; every POST carries the SDK's own Idempotency-Key):
//   subscriptions.createRecoveryLink({id})  POST /subscriptions/{id}/recovery-link  body {}
//                          -> RecoveryLink {url, token, object:"subscription", livemode}
//   subscriptions.reactivate({id})          POST /subscriptions/{id}/reactivate     body {}
//                          past_due, paid -> {id, retryInitiated:true, object:"subscription", livemode}
//   subscriptions.updatePaymentMethod({id}) POST /subscriptions/{id}/payment-method/update  body {}
//   transactions.retry({id})                POST /transactions/{id}/retry           body {}
//                          paid -> TransactionRetry {id: <the new attempt>, status:"processing"
//                          (the legacy type's only status), object:"transaction", livemode}
//   testClock.advance({frozenTime})         POST /test-clock: moves the clock only (this version)
//   testClock.processBilling()              POST /test-clock/process-billing  body {}
//                          -> {customersFound, enqueued (billing deadlines), failed, dunningRetried
//                          (retries run), dunningFailed (retries declined), object, livemode}
// A manual attempt declined is `402 charge_failed` (billing_error) with `details: {invoiceId,
// transactionId, failureCode, failureMessage, recoveryUrl}`, which CommetAPIError keeps in
// `.details`; the fourth manual attempt of a customer in a day of the org clock is `429
// rate_limited` with `details: {limit: 3, resetsAt}` and no Retry-After, so the SDK (which retries
// a 429 only after a Retry-After) does not try again.
//
// Hosted pages are used as a browser would, without a key, in JSON (`Accept: application/json`):
// a payment link's page saves the first card (`POST {url}` {action:"pay", card fields}); the
// card-update page (`POST {checkoutUrl}` with card fields) replaces it; the recovery page
// (`GET {url}` -> state; `POST {url}` {action:"pay_saved"} or {action:"pay", card fields}) pays
// the past-due invoice. Sandbox cards: 4242… and 5555… pay; 4000…0341 saves but every charge is
// declined (card_declined); 4000…9995 saves but charges fail (insufficient_funds); 4000…0002 is
// refused even when saving.
//
// The clock only moves forward and is shared with the Python dunning tests (which run after this
// file), so each test starts on the 1st of the month after the clock's current time. Deliveries
// are checked with the SDK's own Webhooks.verify / verifyAndParse (receiver: ../receiver.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { API_VERSION, CommetAPIError } from "@commet/node";
import {
  addMonths,
  addMs,
  assertLegacyList,
  assertTimestamp,
  client,
  DAY_MS,
  env,
  exchanges,
  expectApiError,
  expectValidationError,
  lastExchange,
  rejection,
  requestLine,
  SANDBOX_KEY,
  sortedKeys,
  unwrap,
  wireError,
} from "../helpers.mjs";
import { newCustomer } from "../fixtures.mjs";
import { INVOICE_ID, INVOICE_NUMBER } from "../invoicing.mjs";
import {
  advanceTo,
  assertLegacyPlainSubscription,
  clockNow,
  invoicesOf,
  plainPlan,
  processBilling,
} from "../lifecycle.mjs";
import { parsed, startReceiver, summary, until } from "../receiver.mjs";

const PRICE = 9900;
const VISA = "4242424242424242";
const MASTERCARD = "5555555555554444";
const DECLINES = "4000000000000341"; // saved; every charge card_declined
const NO_FUNDS = "4000000000009995"; // saved; every charge insufficient_funds
const REFUSED = "4000000000000002"; // refused even when saving
const CARD_DECLINED = { code: "card_declined", message: "Your card was declined." };
const INSUFFICIENT = { code: "insufficient_funds", message: "Your card has insufficient funds." };

const TALLY = env("TALLY_URL").replace(/\/+$/, "");
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const ULID = "[0-9A-HJKMNP-TV-Z]{26}";
const TRANSACTION_ID = new RegExp(`^txn_${ULID}$`);
const TOKEN = /^tok_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** A recovery page: `{publicBaseUrl}/recover/tok_…`; the tests' server is its own public base. */
/** A checkout page, like a recovery page: the tests' server is its own public base. */
const CHECKOUT_URL = new RegExp(`^${escapeRegExp(TALLY)}/checkout/tok_[^/?#]+$`);
const RECOVER_URL = new RegExp(`^${escapeRegExp(TALLY)}/recover/tok_[^/?#]+$`);
const RECOVER_KEYS = ["amount", "card", "currency", "description", "error", "invoice", "kind", "livemode", "redirectUrl", "status", "subscription"];
const EVENTS = ["subscription.past_due", "payment.failed", "payment.recovered", "payment.retry_failed", "subscription.canceled"];
const UNKNOWN_TRANSACTION = "txn_01K00000000000000000000000";

/** 00:00 UTC on the 1st of the month after `now`. */
function nextFirstOfMonth(now) {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString();
}

function savedCard(brand, last4) {
  return { brand, last4, expMonth: 12, expYear: 2034 };
}

function cardFields(cardNumber) {
  return { cardNumber, expMonth: "12", expYear: "34", cvc: "123" };
}

/** GET (no body) or POST JSON to a hosted page, without a key: [HTTP status, body]. */
async function hosted(url, body) {
  const init = { headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return [res.status, json];
}

/** Pays a 10.00 link with a visa on its page: the card becomes the customer's default. */
async function cardOnFile(sdk, customer) {
  const link = unwrap(await sdk.payments.create({ customerId: customer.id, amount: 1000, currency: "usd", description: "Card on file" }));
  const [status, state] = await hosted(link.url, { action: "pay", ...cardFields(VISA) });
  assert.deepEqual([status, state.status, state.card], [200, "succeeded", savedCard("visa", "4242")], JSON.stringify(state));
}

/** A new customer with a visa on file, subscribed to `plan` monthly: charged at once, active. */
async function subscribe(sdk, plan, tag) {
  const customer = await newCustomer(sdk, tag);
  await cardOnFile(sdk, customer);
  const sub = unwrap(await sdk.subscriptions.create({ customerId: customer.id, planCode: plan.code, billingInterval: "monthly" }));
  assert.equal(sub.status, "active");
  return { customer, sub };
}

/** The card-update page of `updatePaymentMethod` saves `number` as the default; its state. */
async function saveCard(sdk, subscriptionId, number) {
  const update = unwrap(await sdk.subscriptions.updatePaymentMethod({ id: subscriptionId }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${subscriptionId}/payment-method/update`);
  const [status, state] = await hosted(update.checkoutUrl, cardFields(number));
  assert.deepEqual([status, state.kind, state.status, state.error], [200, "payment_method", "succeeded", null], JSON.stringify(state));
  return state;
}

/** The recovery page's JSON state (GET without `body`, POST with it), its keys checked. */
async function recoverPage(url, body) {
  const [status, state] = await hosted(url, body);
  assert.equal(status, 200, `${body ? "POST" : "GET"} ${url} -> ${status}: ${JSON.stringify(state)}`);
  assert.deepEqual(sortedKeys(state), RECOVER_KEYS, "recovery page state fields");
  assert.deepEqual([state.kind, state.livemode, state.redirectUrl], ["recover", false, null]);
  return state;
}

const paySaved = (url) => recoverPage(url, { action: "pay_saved" });
const payWith = (url, number) => recoverPage(url, { action: "pay", ...cardFields(number) });

/** The state of a recovery page whose invoice is still owed. */
function openPage({ plan, sub, invoice, card, error = null }) {
  return {
    kind: "recover",
    status: "open",
    livemode: false,
    amount: invoice.total,
    currency: "usd",
    description: `${plan.name} subscription`,
    invoice: { id: invoice.id, invoiceNumber: invoice.invoiceNumber, total: invoice.total },
    subscription: { id: sub.id, status: "past_due", planName: plan.name },
    card,
    error,
    redirectUrl: null,
  };
}

/** `createRecoveryLink` through the SDK: request line, body and the exact RecoveryLink. */
async function recoveryLink(sdk, subscriptionId) {
  const link = unwrap(await sdk.subscriptions.createRecoveryLink({ id: subscriptionId }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${subscriptionId}/recovery-link`);
  assert.equal(lastExchange().requestBody, "{}", "N7 sends an empty object");
  assert.equal(lastExchange().status, 200);
  assert.match(link.token, TOKEN);
  assert.deepEqual(link, { url: `${TALLY}/recover/${link.token}`, token: link.token, object: "subscription", livemode: false });
  assert.match(link.url, RECOVER_URL);
  return link;
}

/** A customer's transactions, newest first (one page), as [status, invoiceId, grossAmount, createdAt]. */
async function attempts(sdk, customer) {
  const res = await sdk.transactions.list({ customerEmail: customer.email, limit: 100 });
  const txns = assertLegacyList(res);
  assert.equal(res.hasMore, false);
  for (const txn of txns) {
    assert.match(txn.id, TRANSACTION_ID);
    assertTimestamp(txn.createdAt, "createdAt");
    assert.deepEqual(
      [txn.currency, txn.subtotal, txn.taxAmount, txn.presentmentAmount, txn.provider, txn.customerEmail, txn.object, txn.livemode],
      ["usd", txn.grossAmount, 0, null, "commet", customer.email, "transaction", false],
    );
    assert.equal(txn.paidAt, txn.status === "succeeded" ? txn.createdAt : null, "paidAt");
  }
  const times = txns.map((t) => t.createdAt);
  assert.deepEqual(times, [...times].sort().reverse(), "newest first");
  return txns;
}

/** [status, invoiceId, grossAmount, createdAt] of a legacy Transaction. */
const row = (txn) => [txn.status, txn.invoiceId, txn.grossAmount, txn.createdAt];
/** Rows compared as multisets (attempts at one frozen instant share their createdAt). */
const rows = (txns) => txns.map(row).map((r) => JSON.stringify(r)).sort();

/** The subscription's invoices, newest first, as [status, invoiceType, total, periodStart]. */
async function invoiceRows(sdk, subscriptionId) {
  return (await invoicesOf(sdk, subscriptionId)).map((i) => [i.status, i.invoiceType, i.total, i.periodStart]);
}

/**
 * A manual attempt that must be declined: `402 charge_failed` on the SDK error and on the wire,
 * the request line and N7's empty body, and the details (kept by CommetAPIError). Returns them.
 */
async function expectChargeFailed(promise, path, invoiceId, decline) {
  const error = await rejection(promise);
  assert.ok(error instanceof CommetAPIError, `expected CommetAPIError, got ${error?.name}: ${error?.message}`);
  assert.deepEqual([error.statusCode, error.code, error.type, error.message], [402, "charge_failed", "billing_error", decline.message]);
  assert.equal(requestLine(lastExchange()), `POST /api/v1${path}`);
  assert.equal(lastExchange().requestBody, "{}");
  const wire = await wireError(402);
  assert.deepEqual([wire.code, wire.type, wire.message, wire.param], ["charge_failed", "billing_error", decline.message, null]);
  const details = wire.details;
  assert.match(details?.transactionId ?? "", TRANSACTION_ID);
  assert.match(details.recoveryUrl ?? "", RECOVER_URL);
  assert.deepEqual(details, {
    invoiceId,
    transactionId: details.transactionId,
    failureCode: decline.code,
    failureMessage: decline.message,
    recoveryUrl: details.recoveryUrl,
  });
  assert.deepEqual(error.details, details, "CommetAPIError.details");
  return details;
}

/**
 * A manual attempt over the day's three: `429 rate_limited` with {limit, resetsAt}, no
 * Retry-After, and exactly one request (the SDK did not retry).
 */
async function expectLimited(promise, path, resetsAt) {
  const before = lastExchange();
  const error = await expectApiError(promise, { status: 429, code: "rate_limited", type: "rate_limit_error" });
  assert.deepEqual(error.details, { limit: 3, resetsAt });
  assert.equal(lastExchange().headers["retry-after"], undefined, "no Retry-After");
  const sent = exchanges.slice(exchanges.indexOf(before) + 1);
  assert.deepEqual(sent.map(requestLine), [`POST /api/v1${path}`], "sent once: the SDK does not retry this 429");
}

/** Moves the legacy clock to `at`, then runs what is due; returns the counts (none failed). */
async function billAt(sdk, at) {
  await advanceTo(sdk, at);
  const counts = await processBilling(sdk);
  assert.deepEqual(sortedKeys(counts), ["customersFound", "dunningFailed", "dunningRetried", "enqueued", "failed", "livemode", "object"]);
  assert.deepEqual([counts.object, counts.livemode], ["test_clock", false]);
  return counts;
}

/** A webhook endpoint for `receiver` with the dunning events; returns its secret. */
async function dunningEndpoint(sdk, receiver) {
  const endpoint = unwrap(await sdk.webhooks.create({ url: receiver.url, events: EVENTS }));
  receiver.endpointIds.push(endpoint.id);
  assert.deepEqual([endpoint.events, endpoint.apiVersion], [EVENTS, API_VERSION]);
  return endpoint.secretKey;
}

/**
 * Waits until `receiver` holds `counts[event]` distinct events of each event for this
 * subscription (more fail), verifies every one of them with the SDK's Webhooks.verify and
 * verifyAndParse (and a wrong secret failing), and returns their `data` by event, oldest first.
 */
async function deliveries(sdk, receiver, secret, subscriptionId, counts) {
  const byEvent = () => {
    const seen = Object.fromEntries(Object.keys(counts).map((event) => [event, new Map()]));
    for (const request of receiver.mine()) {
      const body = parsed(request);
      if (body?.data?.subscriptionId === subscriptionId && body.event in seen && !seen[body.event].has(body.id)) {
        seen[body.event].set(body.id, request);
      }
    }
    return seen;
  };
  await until(
    () => Object.entries(byEvent()).every(([event, found]) => found.size >= counts[event]),
    () => `expected ${JSON.stringify(counts)} for ${subscriptionId}; ${summary(receiver)}`,
  );
  const found = byEvent();
  const out = {};
  for (const [event, requests] of Object.entries(found)) {
    assert.equal(requests.size, counts[event], `${counts[event]} × ${event} for ${subscriptionId}; ${summary(receiver)}`);
    out[event] = [];
    for (const request of requests.values()) {
      const signature = request.headers["x-commet-signature"];
      assert.equal(sdk.webhooks.verify({ payload: request.text, signature, secret }), true, `${event}: Webhooks.verify`);
      const envelope = sdk.webhooks.verifyAndParse({ rawBody: request.text, signature, secret });
      assert.deepEqual(envelope, JSON.parse(request.text), `${event}: Webhooks.verifyAndParse`);
      assert.equal(sdk.webhooks.verify({ payload: request.text, signature, secret: `${secret}x` }), false, "a wrong secret fails");
      assert.deepEqual(
        [envelope.event, envelope.mode, envelope.apiVersion, request.headers["x-commet-event"]],
        [event, "sandbox", API_VERSION, event],
      );
      out[event].push(envelope);
    }
    out[event].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    out[event] = out[event].map((envelope) => envelope.data);
  }
  return out;
}

/** `payment.failed` data of a declined attempt at `invoice`. */
function failedData(customer, sub, invoice, decline, recovery, recoveryUrl) {
  return {
    invoiceId: invoice.id,
    invoiceNumber: invoice.invoiceNumber,
    customerId: customer.externalId,
    subscriptionId: sub.id,
    provider: "commet",
    failureCode: decline.code,
    failureMessage: decline.message,
    recoveryUrl,
    paymentContext: { reason: "recurring_billing", paymentLinkId: null, recovery },
    paymentMethod: "card",
    subPaymentMethod: "credit_card",
  };
}

/** `payment.recovered` data of a paid past-due invoice. */
function recoveredData(customer, sub, invoice) {
  return {
    invoiceId: invoice.id,
    invoiceNumber: invoice.invoiceNumber,
    invoiceTotal: invoice.total,
    customerId: customer.externalId,
    subscriptionId: sub.id,
    provider: "commet",
    paymentMethod: "card",
    subPaymentMethod: "credit_card",
  };
}

/** The renewal invoice opening the period that starts at `renewal` (a legacy list item). */
async function renewalInvoice(sdk, subscriptionId, renewal) {
  const found = (await invoicesOf(sdk, subscriptionId)).filter((i) => i.periodStart === renewal);
  assert.equal(found.length, 1, `one invoice opens ${renewal}`);
  const [invoice] = found;
  assert.match(invoice.id, INVOICE_ID);
  assert.match(invoice.invoiceNumber, INVOICE_NUMBER);
  return invoice;
}

test("a declined renewal: past_due, a recovery link, manual attempts declined with 402, then a card saved on the card-update page pays", async () => {
  const sandbox = client(SANDBOX_KEY);
  const receiver = await startReceiver();
  try {
    const secret = await dunningEndpoint(sandbox, receiver);
    const { plan } = await plainPlan(sandbox, "Dunning", PRICE);
    const start = nextFirstOfMonth(await clockNow(sandbox));
    await billAt(sandbox, start);

    // ---- Creation charges the default card at once; without one the subscription waits for its
    // checkout, and canceling it then voids its invoice -------------------------------------------
    const customer = await newCustomer(sandbox, "dunning");
    const create = { customerId: customer.id, planCode: plan.code, billingInterval: "monthly" };
    const waiting = unwrap(await sandbox.subscriptions.create(create));
    assert.deepEqual([waiting.status, waiting.checkoutProvider, waiting.nextBillingDate], ["pending_payment", "commet", null]);
    assert.match(waiting.checkoutUrl ?? "", CHECKOUT_URL);
    assert.deepEqual(unwrap(await sandbox.subscriptions.get({ id: waiting.id })).checkoutUrl, waiting.checkoutUrl, "the same page at every read");
    const [checkoutStatus, checkout] = await hosted(waiting.checkoutUrl);
    assert.deepEqual([checkoutStatus, checkout.kind, checkout.status, checkout.amount, checkout.subscription.status], [200, "checkout", "open", PRICE, "pending_payment"]);
    assert.deepEqual(await invoiceRows(sandbox, waiting.id), [["outstanding", "recurring", PRICE, start]]);
    const abandoned = unwrap(await sandbox.subscriptions.cancel({ id: waiting.id }));
    assert.equal(abandoned.status, "canceled", "a checkout is canceled at once");
    assert.equal(unwrap(await sandbox.subscriptions.get({ id: waiting.id })).checkoutUrl, null);
    assert.deepEqual(await invoiceRows(sandbox, waiting.id), [["void", "recurring", PRICE, start]]);
    assert.equal((await hosted(waiting.checkoutUrl))[0], 410);

    await cardOnFile(sandbox, customer);
    const sub = unwrap(await sandbox.subscriptions.create(create));
    assert.equal(requestLine(lastExchange()), "POST /api/v1/subscriptions");
    const end = addMonths(start, 1);
    const view = { original: sub, customer, plan, basePrice: PRICE };
    assertLegacyPlainSubscription(sub, { ...view, start, end, now: start });
    assert.equal(sub.startDate, start);
    assert.deepEqual(await invoiceRows(sandbox, sub.id), [["paid", "recurring", PRICE, start]]);
    const [firstInvoice] = await invoicesOf(sandbox, sub.id);
    const [firstPaid, linkPaid, ...none] = await attempts(sandbox, customer);
    assert.deepEqual(none, []);
    assert.deepEqual(row(firstPaid), ["succeeded", firstInvoice.id, PRICE, start]);
    assert.deepEqual([linkPaid.status, linkPaid.grossAmount], ["succeeded", 1000]);

    // ---- The default card becomes one that declines; the renewal is declined: past_due -----------
    const onFile = await saveCard(sandbox, sub.id, DECLINES);
    assert.deepEqual([onFile.card, onFile.subscription], [savedCard("visa", "0341"), { id: sub.id, status: "active", planName: plan.name }]);
    await advanceTo(sandbox, end);
    assert.equal(unwrap(await sandbox.subscriptions.get({ id: sub.id })).status, "active", "advance only moves the clock");
    const renewed = await processBilling(sandbox);
    assert.ok(renewed.enqueued >= 1 && renewed.customersFound >= 1, JSON.stringify(renewed));
    assert.deepEqual([renewed.dunningRetried, renewed.dunningFailed], [0, 0], "no retry is due yet");

    const next = addMonths(start, 2);
    const pastDue = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
    assertLegacyPlainSubscription(pastDue, { ...view, start: end, end: next, now: end, overrides: { status: "past_due", updatedAt: end } });
    const owed = await renewalInvoice(sandbox, sub.id, end);
    assert.deepEqual(await invoiceRows(sandbox, sub.id), [["outstanding", "recurring", PRICE, end], ["paid", "recurring", PRICE, start]]);
    assert.deepEqual([owed.periodEnd, owed.issueDate, owed.total], [next, end, PRICE]);
    const [renewalDeclined] = await attempts(sandbox, customer);
    assert.deepEqual(row(renewalDeclined), ["failed", owed.id, PRICE, end], "the declined attempt names its invoice");
    assert.deepEqual(unwrap(await sandbox.transactions.get({ id: renewalDeclined.id })), renewalDeclined);

    let events = await deliveries(sandbox, receiver, secret, sub.id, { "subscription.past_due": 1, "payment.failed": 1 });
    assert.deepEqual(events["subscription.past_due"], [
      { subscriptionId: sub.id, customerId: customer.externalId, status: "past_due", invoiceId: owed.id, invoiceNumber: owed.invoiceNumber },
    ]);
    const [renewalFailure] = events["payment.failed"];
    assert.match(renewalFailure.recoveryUrl ?? "", RECOVER_URL);
    assert.deepEqual(renewalFailure, failedData(customer, sub, owed, CARD_DECLINED, null, renewalFailure.recoveryUrl));

    // ---- A recovery link: a fresh token each time; its page shows the invoice and the card --------
    const link = await recoveryLink(sandbox, sub.id);
    const again = await recoveryLink(sandbox, sub.id);
    assert.notEqual(again.token, link.token, "each call mints a fresh token");
    const page = openPage({ plan, sub, invoice: owed, card: savedCard("visa", "0341") });
    assert.deepEqual(await recoverPage(link.url), page);
    assert.deepEqual(await recoverPage(renewalFailure.recoveryUrl), page, "payment.failed names a working page");

    // ---- Manual attempts from the API, declined: 402 charge_failed and payment.failed -------------
    const retried = await expectChargeFailed(
      sandbox.transactions.retry({ id: renewalDeclined.id }),
      `/transactions/${renewalDeclined.id}/retry`,
      owed.id,
      CARD_DECLINED,
    );
    const reactivated = await expectChargeFailed(
      sandbox.subscriptions.reactivate({ id: sub.id }),
      `/subscriptions/${sub.id}/reactivate`,
      owed.id,
      CARD_DECLINED,
    );
    const declinedNow = await attempts(sandbox, customer);
    assert.equal(declinedNow.length, 5);
    assert.deepEqual(
      declinedNow.slice(0, 3).map((t) => t.id).sort(),
      [renewalDeclined.id, retried.transactionId, reactivated.transactionId].sort(),
      "each attempt is a transaction of its own; the failed one never changes",
    );
    assert.deepEqual(declinedNow.slice(0, 3).map(row), Array(3).fill(["failed", owed.id, PRICE, end]));
    assert.deepEqual(unwrap(await sandbox.transactions.get({ id: renewalDeclined.id })), renewalDeclined);
    assert.equal(unwrap(await sandbox.subscriptions.get({ id: sub.id })).status, "past_due");
    events = await deliveries(sandbox, receiver, secret, sub.id, { "payment.failed": 3 });
    const manual = { type: "payment_recovery" };
    for (const details of [retried, reactivated]) {
      const data = events["payment.failed"].find((d) => d.recoveryUrl === details.recoveryUrl);
      assert.deepEqual(data, failedData(customer, sub, owed, CARD_DECLINED, manual, details.recoveryUrl), "announced with the page of the answer");
    }

    // ---- A card refused on the card-update page changes nothing; a good one pays at once ----------
    const update = unwrap(await sandbox.subscriptions.updatePaymentMethod({ id: sub.id }));
    const [refusedStatus, refusedState] = await hosted(update.checkoutUrl, cardFields(REFUSED));
    assert.deepEqual([refusedStatus, refusedState.status, refusedState.error, refusedState.card], [200, "open", CARD_DECLINED, savedCard("visa", "0341")]);
    assert.equal((await attempts(sandbox, customer)).length, 5, "a refused card makes no attempt");
    const saved = await saveCard(sandbox, sub.id, VISA); // the day's third manual attempt
    assert.deepEqual(saved.card, savedCard("visa", "4242"));
    const recovered = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
    assertLegacyPlainSubscription(recovered, { ...view, start: end, end: next, now: end, overrides: { updatedAt: end } });
    assert.deepEqual(await invoiceRows(sandbox, sub.id), [["paid", "recurring", PRICE, end], ["paid", "recurring", PRICE, start]]);
    const [paid, ...rest] = await attempts(sandbox, customer);
    assert.deepEqual(row(paid), ["succeeded", owed.id, PRICE, end]);
    assert.deepEqual(rows(rest), rows(declinedNow));
    events = await deliveries(sandbox, receiver, secret, sub.id, { "payment.recovered": 1, "payment.failed": 3, "subscription.past_due": 1 });
    assert.deepEqual(events["payment.recovered"], [recoveredData(customer, sub, owed)]);

    // ---- Nothing is owed any more -------------------------------------------------------------------
    await expectApiError(sandbox.transactions.retry({ id: renewalDeclined.id }), { status: 409, code: "no_outstanding_invoice", type: "conflict_error" });
    await expectValidationError(sandbox.transactions.retry({ id: paid.id }), "id");
    await expectApiError(sandbox.transactions.retry({ id: UNKNOWN_TRANSACTION }), { status: 404, code: "transaction_not_found", type: "not_found_error" });
    assert.equal(requestLine(lastExchange()), `POST /api/v1/transactions/${UNKNOWN_TRANSACTION}/retry`);
    await expectApiError(sandbox.subscriptions.createRecoveryLink({ id: sub.id }), { status: 409, code: "subscription_not_active", type: "conflict_error" });
    await expectApiError(sandbox.subscriptions.reactivate({ id: sub.id }), { status: 409, code: "invalid_subscription_status", type: "conflict_error" });
    for (const url of [link.url, renewalFailure.recoveryUrl]) {
      const [gone] = await hosted(url);
      assert.equal(gone, 410, "the page has done its work");
    }
    assert.equal((await attempts(sandbox, customer)).length, 6, "the refusals charged nothing");

    // ---- The schedule was dropped: nothing runs on the retry days ---------------------------------
    for (const days of [1, 3, 5, 7]) {
      const counts = await billAt(sandbox, addMs(end, days * DAY_MS));
      assert.deepEqual([counts.dunningRetried, counts.dunningFailed], [0, 0], `day ${days}: ${JSON.stringify(counts)}`);
    }
    assert.equal(unwrap(await sandbox.subscriptions.get({ id: sub.id })).status, "active");
    await deliveries(sandbox, receiver, secret, sub.id, { "payment.recovered": 1, "payment.failed": 3, "subscription.past_due": 1 });
  } finally {
    await receiver.close(sandbox);
  }
});

test("one renewal day, five customers: the recovery page, the daily limit (429), retry and reactivate paid, a retry recovering, four retries ending a subscription", async () => {
  const sandbox = client(SANDBOX_KEY);
  const receiver = await startReceiver();
  try {
    const secret = await dunningEndpoint(sandbox, receiver);
    const { plan } = await plainPlan(sandbox, "Dunning", PRICE);
    const start = nextFirstOfMonth(await clockNow(sandbox));
    await billAt(sandbox, start);
    const renewal = addMonths(start, 1);
    const day = (n) => addMs(renewal, n * DAY_MS);

    // B pays on the recovery page; C runs out of retries; D and E use up the day, then a retry
    // (D) and a reactivation (E) pay the next day; F's scheduled retry pays.
    const B = await subscribe(sandbox, plan, "dunning-page");
    const C = await subscribe(sandbox, plan, "dunning-exhausted");
    const D = await subscribe(sandbox, plan, "dunning-retry");
    const E = await subscribe(sandbox, plan, "dunning-reactivate");
    const F = await subscribe(sandbox, plan, "dunning-scheduled");
    assert.deepEqual((await saveCard(sandbox, B.sub.id, NO_FUNDS)).card, savedCard("visa", "9995"));
    for (const { sub } of [C, D, E, F]) assert.deepEqual((await saveCard(sandbox, sub.id, DECLINES)).card, savedCard("visa", "0341"));

    // ---- The renewal day: all five declined ------------------------------------------------------
    const renewed = await billAt(sandbox, renewal);
    assert.ok(renewed.enqueued >= 5, JSON.stringify(renewed));
    assert.deepEqual([renewed.failed, renewed.dunningRetried, renewed.dunningFailed], [0, 0, 0]);
    for (const { sub } of [B, C, D, E, F]) assert.equal(unwrap(await sandbox.subscriptions.get({ id: sub.id })).status, "past_due");
    const owed = {};
    for (const [name, { sub }] of Object.entries({ B, C, D, E, F })) owed[name] = await renewalInvoice(sandbox, sub.id, renewal);

    // ---- B: the recovery page — a refused card, the saved card declined, a new card pays ----------
    const link = await recoveryLink(sandbox, B.sub.id);
    const page = openPage({ plan, sub: B.sub, invoice: owed.B, card: savedCard("visa", "9995") });
    assert.deepEqual(await recoverPage(link.url), page);
    assert.deepEqual(await payWith(link.url, REFUSED), { ...page, error: CARD_DECLINED }, "refused when saving: nothing charged");
    assert.deepEqual(await paySaved(link.url), { ...page, error: INSUFFICIENT });
    const paidOnPage = await payWith(link.url, MASTERCARD);
    assert.deepEqual(paidOnPage, {
      ...page,
      status: "succeeded",
      subscription: { ...page.subscription, status: "active" },
      card: savedCard("mastercard", "4444"),
    });
    const [goneStatus] = await hosted(link.url);
    assert.equal(goneStatus, 410, "paid: the page is gone");
    assert.equal((await hosted(link.url, { action: "pay_saved" }))[0], 410);
    assert.equal(unwrap(await sandbox.subscriptions.get({ id: B.sub.id })).status, "active");
    assert.deepEqual((await renewalInvoice(sandbox, B.sub.id, renewal)).status, "paid");
    const [bPaid, bDeclined, bRenewal] = await attempts(sandbox, B.customer);
    assert.deepEqual([row(bPaid), row(bDeclined), row(bRenewal)], [
      ["succeeded", owed.B.id, PRICE, renewal],
      ["failed", owed.B.id, PRICE, renewal],
      ["failed", owed.B.id, PRICE, renewal],
    ]);
    let events = await deliveries(sandbox, receiver, secret, B.sub.id, { "payment.recovered": 1, "payment.failed": 1 });
    assert.deepEqual(events["payment.recovered"], [recoveredData(B.customer, B.sub, owed.B)]);
    assert.equal(events["payment.failed"][0].failureCode, "insufficient_funds", "the page's own decline sends no payment.failed");

    // ---- Day 1: the first retry, declined for the four still past due -----------------------------
    const first = await billAt(sandbox, day(1));
    assert.deepEqual([first.dunningRetried, first.dunningFailed, first.failed], [4, 4, 0], JSON.stringify(first));

    // D: three manual attempts declined, then 429 on every way to try again that day
    const [dFailed] = (await attempts(sandbox, D.customer)).filter((t) => t.status === "failed" && t.createdAt === renewal);
    const retryPath = `/transactions/${dFailed.id}/retry`;
    await expectChargeFailed(sandbox.transactions.retry({ id: dFailed.id }), retryPath, owed.D.id, CARD_DECLINED);
    await expectChargeFailed(sandbox.subscriptions.reactivate({ id: D.sub.id }), `/subscriptions/${D.sub.id}/reactivate`, owed.D.id, CARD_DECLINED);
    const dLink = await recoveryLink(sandbox, D.sub.id);
    const dPage = openPage({ plan, sub: D.sub, invoice: owed.D, card: savedCard("visa", "0341") });
    assert.deepEqual(await paySaved(dLink.url), { ...dPage, error: CARD_DECLINED });
    const dAttempts = await attempts(sandbox, D.customer);
    const resetsAt = day(2);
    await expectLimited(sandbox.transactions.retry({ id: dFailed.id }), retryPath, resetsAt);
    await expectLimited(sandbox.subscriptions.reactivate({ id: D.sub.id }), `/subscriptions/${D.sub.id}/reactivate`, resetsAt);
    const limitedPage = {
      code: "rate_limited",
      message: `Too many payment attempts today. Try again after ${resetsAt}.`,
    };
    assert.deepEqual(await paySaved(dLink.url), { ...dPage, error: limitedPage });
    // a good card is saved all the same, without an attempt: still past due
    const dSaved = await saveCard(sandbox, D.sub.id, VISA);
    assert.deepEqual([dSaved.card, dSaved.subscription.status], [savedCard("visa", "4242"), "past_due"]);
    assert.deepEqual(rows(await attempts(sandbox, D.customer)), rows(dAttempts), "no attempt over the limit");
    assert.deepEqual(await recoverPage(dLink.url), { ...dPage, card: savedCard("visa", "4242") });

    // E and F: the day used up on the recovery page, then a good card saved
    for (const [name, X] of Object.entries({ E, F })) {
      const xLink = await recoveryLink(sandbox, X.sub.id);
      const xPage = openPage({ plan, sub: X.sub, invoice: owed[name], card: savedCard("visa", "0341") });
      for (let n = 0; n < 3; n++) assert.deepEqual(await paySaved(xLink.url), { ...xPage, error: CARD_DECLINED });
      assert.deepEqual(await paySaved(xLink.url), { ...xPage, error: limitedPage });
      const xSaved = await saveCard(sandbox, X.sub.id, VISA);
      assert.equal(xSaved.subscription.status, "past_due");
    }

    // ---- Day 2: a retry (D) and a reactivation (E) pay ---------------------------------------------
    await advanceTo(sandbox, day(2));
    const retry = unwrap(await sandbox.transactions.retry({ id: dFailed.id }));
    assert.equal(requestLine(lastExchange()), `POST /api/v1${retryPath}`);
    assert.equal(lastExchange().requestBody, "{}");
    assert.match(retry.id, TRANSACTION_ID);
    assert.notEqual(retry.id, dFailed.id, "a new attempt; the failed one never changes");
    assert.deepEqual(retry, { id: retry.id, status: "processing", object: "transaction", livemode: false });
    assert.deepEqual(row(unwrap(await sandbox.transactions.get({ id: retry.id }))), ["succeeded", owed.D.id, PRICE, day(2)]);
    assert.deepEqual(unwrap(await sandbox.transactions.get({ id: dFailed.id })), dFailed);
    assert.equal(unwrap(await sandbox.subscriptions.get({ id: D.sub.id })).status, "active");
    assert.equal((await renewalInvoice(sandbox, D.sub.id, renewal)).status, "paid");
    const [dLinkGone] = await hosted(dLink.url);
    assert.equal(dLinkGone, 410);

    const reactivated = unwrap(await sandbox.subscriptions.reactivate({ id: E.sub.id }));
    assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${E.sub.id}/reactivate`);
    assert.deepEqual(reactivated, { id: E.sub.id, retryInitiated: true, object: "subscription", livemode: false });
    const eBack = unwrap(await sandbox.subscriptions.get({ id: E.sub.id }));
    assertLegacyPlainSubscription(eBack, {
      original: E.sub,
      customer: E.customer,
      plan,
      basePrice: PRICE,
      start: renewal,
      end: addMonths(start, 2),
      now: day(2),
      overrides: { updatedAt: day(2) },
    });
    assert.deepEqual(await invoiceRows(sandbox, E.sub.id), [["paid", "recurring", PRICE, renewal], ["paid", "recurring", PRICE, start]], "no new invoice: the past-due one is paid");
    const [ePaid] = await attempts(sandbox, E.customer);
    assert.deepEqual(row(ePaid), ["succeeded", owed.E.id, PRICE, day(2)]);
    const second = await processBilling(sandbox);
    assert.deepEqual([second.dunningRetried, second.dunningFailed], [0, 0], "nothing is due on day 2");

    // ---- Day 3: the second retry — C declined again, F's new card pays ---------------------------
    const third = await billAt(sandbox, day(3));
    assert.deepEqual([third.dunningRetried, third.dunningFailed], [2, 1], JSON.stringify(third));
    assert.equal(unwrap(await sandbox.subscriptions.get({ id: F.sub.id })).status, "active");
    assert.equal((await renewalInvoice(sandbox, F.sub.id, renewal)).status, "paid");
    const [fPaid] = await attempts(sandbox, F.customer);
    assert.deepEqual(row(fPaid), ["succeeded", owed.F.id, PRICE, day(3)]);
    events = await deliveries(sandbox, receiver, secret, F.sub.id, { "payment.recovered": 1, "payment.failed": 2 });
    assert.deepEqual(events["payment.recovered"], [recoveredData(F.customer, F.sub, owed.F)]);
    assert.equal(unwrap(await sandbox.subscriptions.get({ id: C.sub.id })).status, "past_due");

    // ---- Day 7: the third (day 5) and fourth retries declined: C ends, its invoice uncollectible --
    const seventh = await billAt(sandbox, day(7));
    assert.deepEqual([seventh.dunningRetried, seventh.dunningFailed], [2, 2], JSON.stringify(seventh));
    const ended = unwrap(await sandbox.subscriptions.get({ id: C.sub.id }));
    assertLegacyPlainSubscription(ended, {
      original: C.sub,
      customer: C.customer,
      plan,
      basePrice: PRICE,
      start: renewal,
      end: addMonths(start, 2),
      now: day(7),
      overrides: {
        status: "canceled",
        currentPeriod: null,
        nextBillingDate: null,
        endDate: day(7),
        cancellation: { scheduledAt: day(7), reason: "dunning_exhausted", effectiveAt: day(7) },
        updatedAt: day(7),
      },
    });
    assert.deepEqual(await invoiceRows(sandbox, C.sub.id), [["uncollectible", "recurring", PRICE, renewal], ["paid", "recurring", PRICE, start]]);
    const cAttempts = await attempts(sandbox, C.customer);
    assert.deepEqual(
      cAttempts.slice(0, 5).map(row),
      [day(7), day(5), day(3), day(1), renewal].map((at) => ["failed", owed.C.id, PRICE, at]),
      "the renewal and its four retries",
    );
    events = await deliveries(sandbox, receiver, secret, C.sub.id, {
      "subscription.past_due": 1,
      "payment.failed": 4,
      "payment.retry_failed": 1,
      "subscription.canceled": 1,
      "payment.recovered": 0,
    });
    const retries = events["payment.failed"].map((d) => d.paymentContext.recovery);
    assert.deepEqual(retries, [null, 1, 2, 3].map((attempt) => (attempt === null ? null : { type: "dunning_retry", attempt, maxAttempts: 4 })));
    for (const data of events["payment.failed"]) {
      assert.deepEqual(data, failedData(C.customer, C.sub, owed.C, CARD_DECLINED, data.paymentContext.recovery, data.recoveryUrl));
      assert.match(data.recoveryUrl, RECOVER_URL);
    }
    assert.deepEqual(events["payment.retry_failed"], [
      {
        invoiceId: owed.C.id,
        invoiceNumber: owed.C.invoiceNumber,
        customerId: C.customer.externalId,
        subscriptionId: C.sub.id,
        provider: "commet",
        reason: "card_declined",
      },
    ]);
    const [canceled] = events["subscription.canceled"];
    assert.deepEqual(
      [canceled.subscriptionId, canceled.customerId, canceled.status, canceled.cancelReason, canceled.endDate],
      [C.sub.id, C.customer.externalId, "canceled", "dunning_exhausted", day(7)],
      JSON.stringify(canceled),
    );
    const [cGone] = await hosted(events["payment.failed"][3].recoveryUrl);
    assert.equal(cGone, 410, "an ended subscription's page is gone");
    await expectApiError(sandbox.subscriptions.createRecoveryLink({ id: C.sub.id }), { status: 409, code: "subscription_not_active", type: "conflict_error" });
    const [cLast] = assertLegacyList(await sandbox.transactions.list({ customerEmail: C.customer.email, limit: 1 }));
    await expectValidationError(sandbox.transactions.retry({ id: cLast.id }), "id"); // the invoice is no longer owed

    // ---- A declined first charge: C subscribes again with its declining card and waits for its
    // checkout; the declined attempt is kept --------------------------------------------------------
    const again = unwrap(await sandbox.subscriptions.create({ customerId: C.customer.id, planCode: plan.code, billingInterval: "monthly" }));
    assert.deepEqual([again.status, again.checkoutProvider], ["pending_payment", "commet"]);
    assert.match(again.checkoutUrl ?? "", CHECKOUT_URL);
    const [firstDeclined, ...earlier] = await attempts(sandbox, C.customer);
    assert.deepEqual(earlier, cAttempts);
    assert.deepEqual([firstDeclined.status, firstDeclined.grossAmount], ["failed", PRICE]);
    assert.equal(unwrap(await sandbox.subscriptions.cancel({ id: again.id })).status, "canceled");

    // Every other subscription is active and left with a card that pays.
    for (const { sub } of [B, D, E, F]) assert.equal(unwrap(await sandbox.subscriptions.get({ id: sub.id })).status, "active");
  } finally {
    await receiver.close(sandbox);
  }
});
