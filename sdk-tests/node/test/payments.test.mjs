// Payments and transactions through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope).
//
//   payments.create({amount,currency,description,customerId,successUrl,metadata})  POST /payments
//   payments.list({customerId,limit,cursor})                  GET  /payments?customerId=&limit=&cursor=
//   payments.get({id})                                        GET  /payments/{id}
//   payments.cancel({id})                                     POST /payments/{id}/cancel   body {}
//   payments.charge({customerId,amount,currency,description,metadata})  POST /payments/charge
//   transactions.list({status,customerEmail,limit,cursor})    GET  /transactions?status=&customerEmail=
//   transactions.get({id})                                    GET  /transactions/{id}
//   transactions.refund({id})                                 POST /transactions/{id}/refund  body {}
//
// A link is paid on Tally's hosted page, as a browser would, without a key: `POST {url}` with
// `{action:"pay", cardNumber, expMonth, expYear, cvc, attempt}` (plus email and name when the link
// has no customer) answers the page's JSON state; `POST {url}/authenticate` with `{result}` answers
// a 3-D Secure step. Sandbox cards: 4242… pays, 4000…0002 is declined, 4000 0025 0000 3155 asks
// for authentication first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  assertLegacyList,
  assertTimestamp,
  client,
  CUSTOMER_ID,
  DAY_MS,
  env,
  expectApiError,
  expectValidationError,
  lastExchange,
  LIVE_KEY,
  requestLine,
  SANDBOX_KEY,
  sortedKeys,
  unique,
  unwrap,
} from "./helpers.mjs";
import { newCustomer, seatPlan } from "./fixtures.mjs";

const sdk = client(SANDBOX_KEY);
const ULID = "[0-9A-HJKMNP-TV-Z]{26}";
const PAYMENT_ID = new RegExp(`^pay_${ULID}$`);
const TRANSACTION_ID = new RegExp(`^txn_${ULID}$`);
const REFUND_ID = new RegExp(`^re_${ULID}$`);
const INVOICE_ID = new RegExp(`^inv_${ULID}$`);
const TALLY = env("TALLY_URL").replace(/\/+$/, "");
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A link's page: `{publicBaseUrl}/pay/tok_…`, and the tests' server is its own public base. */
const PAY_URL = new RegExp(`^${escapeRegExp(TALLY)}/pay/tok_[^/?#]+$`);

const VISA = "4242424242424242";
const DECLINED = "4000000000000002";
const THREE_D_SECURE = "4000002500003155";

const PAGE_KEYS = ["amount", "card", "currency", "description", "error", "invoice", "kind", "livemode", "redirectUrl", "status", "subscription"];
const TRANSACTION_KEYS = [
  "availableAt",
  "createdAt",
  "currency",
  "customerEmail",
  "customerName",
  "grossAmount",
  "id",
  "invoiceId",
  "livemode",
  "object",
  "paidAt",
  "presentmentAmount",
  "provider",
  "status",
  "subtotal",
  "taxAmount",
  "updatedAt",
];

/** POSTs JSON to the hosted page (no API key) and returns its checked JSON state. */
async function page(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `POST ${url} -> ${res.status}: ${text}`);
  const state = JSON.parse(text);
  assert.deepEqual(sortedKeys(state), PAGE_KEYS, "page state fields");
  assert.equal(state.kind, "pay");
  assert.equal(state.livemode, false);
  assert.equal(state.subscription, null);
  return state;
}

/** Pays a link on its page with a card; every attempt carries its own nonce. */
function pay(url, cardNumber, extra = {}) {
  return page(url, { action: "pay", cardNumber, expMonth: "12", expYear: "34", cvc: "123", attempt: randomUUID(), ...extra });
}

/** Answers the page's 3-D Secure step: "approve" or "fail". */
function authenticate(url, result) {
  return page(`${url}/authenticate`, { result });
}

/** A legacy Transaction: exact fields; ids and timestamps read back from the object. */
function assertTransaction(txn, { status, amount, email, invoiceId }) {
  assert.deepEqual(sortedKeys(txn), TRANSACTION_KEYS, "legacy Transaction fields");
  assert.match(txn.id, TRANSACTION_ID);
  assertTimestamp(txn.createdAt, "createdAt");
  assertTimestamp(txn.updatedAt, "updatedAt");
  const paid = status === "succeeded" || status === "refunded";
  if (paid) assertTimestamp(txn.paidAt, "paidAt");
  assert.deepEqual(txn, {
    id: txn.id,
    invoiceId,
    grossAmount: amount,
    subtotal: amount,
    taxAmount: 0,
    presentmentAmount: null,
    currency: "usd",
    provider: "commet",
    status,
    customerEmail: email,
    customerName: txn.customerName,
    paidAt: paid ? txn.paidAt : null,
    createdAt: txn.createdAt,
    updatedAt: txn.updatedAt,
    availableAt: paid ? txn.paidAt : null,
    object: "transaction",
    livemode: false,
  });
  assert.ok(txn.customerName === null || typeof txn.customerName === "string", "customerName");
}

function emailQuery(email, extra = {}) {
  return new URLSearchParams({ ...extra, customerEmail: email }).toString();
}

test("a link is paid after a decline, its transactions listed, refunded once, and it cannot be canceled", async () => {
  const customer = await newCustomer(sdk, "pay-link");
  const successUrl = "https://example.test/thanks";
  const params = { customerId: customer.id, amount: 2500, currency: "usd", description: "Annual report", successUrl, metadata: { order: "A-1" } };
  const created = unwrap(await sdk.payments.create(params));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/payments");
  assert.deepEqual(JSON.parse(lastExchange().requestBody), params);
  assert.equal(lastExchange().status, 200);
  assert.match(created.id, PAYMENT_ID);
  assert.match(created.url, PAY_URL);
  assertTimestamp(created.createdAt, "createdAt");
  assertTimestamp(created.expiresAt, "expiresAt");
  assert.equal(Date.parse(created.expiresAt) - Date.parse(created.createdAt), DAY_MS, "a link is payable for 24 hours");
  assert.deepEqual(created, {
    id: created.id,
    customerId: customer.id,
    kind: "link",
    status: "pending",
    provider: "commet",
    amountSubtotal: 2500,
    taxAmount: 0,
    amountTotal: 2500,
    currency: "usd",
    description: "Annual report",
    metadata: { order: "A-1" },
    url: created.url,
    expiresAt: created.expiresAt,
    createdAt: created.createdAt,
    updatedAt: created.createdAt,
    object: "payment",
    livemode: false,
  });
  assert.deepEqual(unwrap(await sdk.payments.get({ id: created.id })), created);
  assert.equal(requestLine(lastExchange()), `GET /api/v1/payments/${created.id}`);
  const listed = await sdk.payments.list({ customerId: customer.id });
  assert.equal(requestLine(lastExchange()), `GET /api/v1/payments?customerId=${customer.id}`);
  assert.deepEqual(assertLegacyList(listed), [created]);

  // A declined card: the page stays open with the error, the payment is failed and still payable.
  const declined = await pay(created.url, DECLINED);
  assert.deepEqual(
    [declined.status, declined.amount, declined.currency, declined.description, declined.invoice, declined.error?.code],
    ["open", 2500, "usd", "Annual report", null, "card_declined"],
  );
  assert.equal(typeof declined.error.message, "string");
  assert.equal(unwrap(await sdk.payments.get({ id: created.id })).status, "failed");

  // A good card: paid, with a one-time invoice.
  const paid = await pay(created.url, VISA);
  assert.equal(paid.status, "succeeded");
  assert.equal(paid.error, null);
  assert.deepEqual(sortedKeys(paid.invoice), ["id", "invoiceNumber", "total"]);
  assert.match(paid.invoice.id, INVOICE_ID);
  assert.equal(typeof paid.invoice.invoiceNumber, "string");
  assert.ok(paid.invoice.invoiceNumber.length > 0, "invoice number");
  assert.equal(paid.invoice.total, 2500);
  assert.deepEqual([paid.card?.brand, paid.card?.last4], ["visa", "4242"]);
  assert.ok([null, successUrl].includes(paid.redirectUrl), `redirectUrl ${paid.redirectUrl}`);
  const succeeded = unwrap(await sdk.payments.get({ id: created.id }));
  assert.deepEqual([succeeded.status, succeeded.kind, succeeded.amountTotal, succeeded.customerId], ["succeeded", "link", 2500, customer.id]);
  const invoice = unwrap(await sdk.invoices.get({ id: paid.invoice.id }));
  assert.deepEqual(
    [invoice.customerId, invoice.invoiceType, invoice.status, invoice.total, invoice.invoiceNumber],
    [customer.id, "one_time_payment", "paid", 2500, paid.invoice.invoiceNumber],
  );

  // Both attempts, newest first.
  const txnPage = await sdk.transactions.list({ customerEmail: customer.email });
  assert.equal(requestLine(lastExchange()), `GET /api/v1/transactions?${emailQuery(customer.email)}`);
  const [won, lost, ...rest] = assertLegacyList(txnPage);
  assert.deepEqual(rest, [], "exactly the two attempts");
  assertTransaction(won, { status: "succeeded", amount: 2500, email: customer.email, invoiceId: paid.invoice.id });
  assertTransaction(lost, { status: "failed", amount: 2500, email: customer.email, invoiceId: null });
  const failedOnly = await sdk.transactions.list({ status: "failed", customerEmail: customer.email.toUpperCase() });
  assert.equal(requestLine(lastExchange()), `GET /api/v1/transactions?${emailQuery(customer.email.toUpperCase(), { status: "failed" })}`);
  assert.deepEqual(assertLegacyList(failedOnly), [lost], "customerEmail matches without regard to case");
  assert.deepEqual(unwrap(await sdk.transactions.get({ id: won.id })), won);
  assert.equal(requestLine(lastExchange()), `GET /api/v1/transactions/${won.id}`);

  // Refunds: never a failed attempt; the paid one once.
  await expectValidationError(sdk.transactions.refund({ id: lost.id }), "id");
  const refund = unwrap(await sdk.transactions.refund({ id: won.id }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/transactions/${won.id}/refund`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), {});
  assert.deepEqual(refund, { id: won.id, status: "refunded", object: "transaction", livemode: false });
  assert.equal(unwrap(await sdk.transactions.get({ id: won.id })).status, "refunded");
  const again = await expectApiError(sdk.transactions.refund({ id: won.id }), { status: 409, code: "duplicate", type: "conflict_error" });
  assert.match(again.details?.refundId, REFUND_ID);

  // A paid link cannot be canceled.
  await expectApiError(sdk.payments.cancel({ id: created.id }), { status: 409, code: "payment_not_cancelable", type: "conflict_error" });
  assert.equal(unwrap(await sdk.payments.get({ id: created.id })).status, "succeeded");
});

test("an open link is canceled once and stays canceled; a failed one can be canceled too", async () => {
  const customer = await newCustomer(sdk, "pay-cancel");
  // By externalId, currency in any case.
  const link = unwrap(await sdk.payments.create({ customerId: customer.externalId, amount: 990, currency: "USD", description: "Sticker pack" }));
  assert.deepEqual([link.customerId, link.currency, link.status, link.kind], [customer.id, "usd", "pending", "link"]);
  const canceled = unwrap(await sdk.payments.cancel({ id: link.id }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/payments/${link.id}/cancel`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), {});
  assertTimestamp(canceled.updatedAt, "updatedAt");
  assert.deepEqual(canceled, { ...link, status: "canceled", updatedAt: canceled.updatedAt });
  const again = unwrap(await sdk.payments.cancel({ id: link.id }));
  assert.equal(lastExchange().status, 200);
  assert.deepEqual(again, canceled, "canceling a canceled link changes nothing");
  assert.deepEqual(unwrap(await sdk.payments.get({ id: link.id })), canceled);

  const retried = unwrap(await sdk.payments.create({ customerId: customer.id, amount: 1200, currency: "usd", description: "Poster" }));
  assert.equal((await pay(retried.url, DECLINED)).error?.code, "card_declined");
  assert.equal(unwrap(await sdk.payments.get({ id: retried.id })).status, "failed");
  assert.equal(unwrap(await sdk.payments.cancel({ id: retried.id })).status, "canceled");
  const listed = assertLegacyList(await sdk.payments.list({ customerId: customer.id }));
  assert.deepEqual(listed.map((p) => [p.id, p.status]), [[retried.id, "canceled"], [link.id, "canceled"]], "newest first");
});

test("a charge takes a subscribed customer's saved card; without a card or a subscription it is refused", async () => {
  const { plan } = await seatPlan(sdk);
  const customer = await newCustomer(sdk, "pay-charge");
  unwrap(await sdk.subscriptions.create({ customerId: customer.id, planId: plan.id }));
  const params = { customerId: customer.id, amount: 1500, currency: "usd", description: "Extra report", metadata: { report: "R-7" } };
  await expectApiError(sdk.payments.charge(params), { status: 422, code: "no_payment_method", type: "conflict_error" });

  // Paying a link saves the card as the customer's default.
  const link = unwrap(await sdk.payments.create({ customerId: customer.id, amount: 1000, currency: "usd", description: "Card on file" }));
  assert.equal((await pay(link.url, VISA)).status, "succeeded");

  const charge = unwrap(await sdk.payments.charge(params));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/payments/charge");
  assert.deepEqual(JSON.parse(lastExchange().requestBody), params);
  assert.match(charge.id, PAYMENT_ID);
  assertTimestamp(charge.createdAt, "createdAt");
  assertTimestamp(charge.updatedAt, "updatedAt");
  assert.deepEqual(charge, {
    id: charge.id,
    customerId: customer.id,
    kind: "charge",
    status: "succeeded",
    provider: "commet",
    amountSubtotal: 1500,
    taxAmount: 0,
    amountTotal: 1500,
    currency: "usd",
    description: "Extra report",
    metadata: { report: "R-7" },
    url: null,
    expiresAt: null,
    createdAt: charge.createdAt,
    updatedAt: charge.updatedAt,
    object: "payment",
    livemode: false,
  });
  assert.deepEqual(unwrap(await sdk.payments.get({ id: charge.id })), charge);
  const listed = assertLegacyList(await sdk.payments.list({ customerId: customer.id }));
  assert.deepEqual(listed.map((p) => p.id), [charge.id, link.id], "newest first");
  const [newest] = assertLegacyList(await sdk.transactions.list({ customerEmail: customer.email, limit: 1 }));
  assert.deepEqual([newest.status, newest.grossAmount, newest.customerEmail], ["succeeded", 1500, customer.email]);
  await expectApiError(sdk.payments.cancel({ id: charge.id }), { status: 409, code: "payment_not_cancelable", type: "conflict_error" });

  // A saved card but no subscription.
  const loner = await newCustomer(sdk, "pay-nosub");
  const lonerLink = unwrap(await sdk.payments.create({ customerId: loner.id, amount: 1000, currency: "usd", description: "Card on file" }));
  assert.equal((await pay(lonerLink.url, VISA)).status, "succeeded");
  await expectApiError(sdk.payments.charge({ ...params, customerId: loner.id }), { status: 409, code: "subscription_required", type: "conflict_error" });
  assert.deepEqual(assertLegacyList(await sdk.payments.list({ customerId: loner.id })).map((p) => p.id), [lonerLink.id], "no charge was recorded");
});

test("a card asking for 3-D Secure pays once the holder approves", async () => {
  const email = `${unique("pay-3ds")}@example.test`;
  const holder = { email, name: "Ada Lovelace" };
  const link = unwrap(await sdk.payments.create({ amount: 4200, currency: "usd", description: "Workshop seat" }));
  assert.deepEqual([link.customerId, link.status], [null, "pending"]);
  assert.match(link.url, PAY_URL);

  const challenged = await pay(link.url, THREE_D_SECURE, holder);
  assert.deepEqual([challenged.status, challenged.error], ["requires_action", null]);
  assert.equal(unwrap(await sdk.payments.get({ id: link.id })).status, "requires_action");
  const refused = await authenticate(link.url, "fail");
  assert.deepEqual([refused.status, refused.error?.code], ["open", "authentication_failed"]);

  assert.equal((await pay(link.url, THREE_D_SECURE, holder)).status, "requires_action");
  const approved = await authenticate(link.url, "approve");
  assert.deepEqual([approved.status, approved.error, approved.invoice?.total], ["succeeded", null, 4200]);
  assert.match(approved.invoice.id, INVOICE_ID);
  const paid = unwrap(await sdk.payments.get({ id: link.id }));
  assert.deepEqual([paid.status, paid.amountTotal], ["succeeded", 4200]);
  if (paid.customerId !== null) assert.match(paid.customerId, CUSTOMER_ID);

  const [txn] = assertLegacyList(await sdk.transactions.list({ customerEmail: email, limit: 1 }));
  assertTransaction(txn, { status: "succeeded", amount: 4200, email, invoiceId: approved.invoice.id });
  assert.equal(txn.customerName, "Ada Lovelace");
});

test("bad payments are refused", async () => {
  const customer = await newCustomer(sdk, "pay-bad");
  const link = { amount: 5000, currency: "usd", description: "Consulting" };
  await expectValidationError(sdk.payments.create({ ...link, amount: 49 }), "amount");
  await expectValidationError(sdk.payments.create({ ...link, amount: 100_000_000 }), "amount");
  await expectValidationError(sdk.payments.create({ ...link, currency: "eur" }), "currency");
  await expectValidationError(sdk.payments.create({ ...link, description: "" }), "description");
  await expectValidationError(sdk.payments.charge({ ...link, customerId: customer.id, amount: 49 }), "amount");
  await expectValidationError(sdk.payments.charge({ ...link, customerId: customer.id, currency: "eur" }), "currency");
  const nobody = unique("nobody");
  await expectApiError(sdk.payments.create({ ...link, customerId: nobody }), { status: 404, code: "customer_not_found", type: "not_found_error" });
  await expectApiError(sdk.payments.charge({ ...link, customerId: nobody }), { status: 404, code: "customer_not_found", type: "not_found_error" });

  const noPayment = "pay_01JAAAAAAAAAAAAAAAAAAAAAAA";
  await expectApiError(sdk.payments.get({ id: noPayment }), { status: 404, code: "payment_not_found", type: "not_found_error" });
  await expectApiError(sdk.payments.cancel({ id: noPayment }), { status: 404, code: "payment_not_found", type: "not_found_error" });
  const noTransaction = "txn_01JAAAAAAAAAAAAAAAAAAAAAAA";
  await expectApiError(sdk.transactions.get({ id: noTransaction }), { status: 404, code: "transaction_not_found", type: "not_found_error" });
  await expectApiError(sdk.transactions.refund({ id: noTransaction }), { status: 404, code: "transaction_not_found", type: "not_found_error" });
  assert.deepEqual(assertLegacyList(await sdk.payments.list({ customerId: customer.id })), [], "refusals created nothing");
});

test("a live organization has no payment processor: links and charges are refused, lists still work", async () => {
  const live = client(LIVE_KEY);
  const message = "No payment processor is configured for this live organization.";
  const link = { amount: 5000, currency: "usd", description: "Live link" };
  const created = await expectApiError(live.payments.create(link), { status: 409, code: "provider_unsupported", type: "conflict_error" });
  assert.equal(created.message, message);
  assert.deepEqual(created.details, { mode: "live", operation: "payments.create" });
  const customer = unwrap(await live.customers.create({ email: `${unique("live-pay")}@example.test` }));
  const charged = await expectApiError(live.payments.charge({ ...link, customerId: customer.id }), {
    status: 409,
    code: "provider_unsupported",
    type: "conflict_error",
  });
  assert.equal(charged.message, message);
  assert.deepEqual(charged.details, { mode: "live", operation: "payments.charge" });

  const sandboxLink = unwrap(await sdk.payments.create(link));
  const listed = assertLegacyList(await live.payments.list({ limit: 100 }));
  assert.equal(requestLine(lastExchange()), "GET /api/v1/payments?limit=100");
  assert.ok(listed.every((p) => p.livemode === true), "only live payments");
  assert.ok(!listed.some((p) => p.id === sandboxLink.id), "the sandbox link is not listed");
  await expectApiError(live.payments.get({ id: sandboxLink.id }), { status: 404, code: "payment_not_found", type: "not_found_error" });
});

// Payouts (payments.md §9), through the same SDK:
//   payouts.addBankAccount({accountNumber,accountHolderName,routingNumber,accountType,setDefault})  POST /payouts/bank-accounts
//   payouts.request({amount,description})                     POST /payouts
//   payouts.completeVerification({...})                       POST /payouts/verification
/** An account number no other test uses. */
function accountNumber() {
  return `9${String(Date.now()).slice(-8)}${String(Math.floor(Math.random() * 1000)).padStart(3, "0")}`;
}

test("payouts go to the default bank account and never above what is available", async () => {
  const number = accountNumber();
  const account = unwrap(await sdk.payouts.addBankAccount({ accountNumber: number, accountHolderName: "Jane Doe", routingNumber: "110000000", accountType: "checking", setDefault: true }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/payouts/bank-accounts");
  assert.match(account.id, new RegExp(`^pba_${ULID}$`));
  assert.deepEqual(
    { last4: account.last4, isDefault: account.isDefault, bankName: account.bankName, currency: account.currency, status: account.status, object: account.object },
    { last4: number.slice(-4), isDefault: true, bankName: "Tally Sandbox Bank", currency: "usd", status: "active", object: "payout_bank_account" },
  );
  await expectApiError(sdk.payouts.addBankAccount({ accountNumber: number, accountHolderName: "Jane Doe" }), { status: 409, code: "duplicate", type: "conflict_error" });
  await expectValidationError(sdk.payouts.addBankAccount({ accountNumber: "12", accountHolderName: "Jane Doe" }), "accountNumber");
  await expectValidationError(sdk.payouts.request({ amount: 999 }), "amount");

  // Money comes in through a paid link; a payout of it is answered pending.
  const customer = await newCustomer(sdk, "payout");
  const link = unwrap(await sdk.payments.create({ amount: 2500, currency: "usd", description: unique("Payout source"), customerId: customer.id }));
  assert.equal((await pay(link.url, VISA)).status, "succeeded");
  const payout = unwrap(await sdk.payouts.request({ amount: 1000, description: "Weekly payout" }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/payouts");
  assert.match(payout.id, new RegExp(`^po_${ULID}$`));
  assert.deepEqual(
    { status: payout.status, amount: payout.amount, fee: payout.fee, netAmount: payout.netAmount, currency: payout.currency, description: payout.description, object: payout.object },
    { status: "pending", amount: 1000, fee: 0, netAmount: 1000, currency: "usd", description: "Weekly payout", object: "payout" },
  );
  assert.match(payout.providerTransferId, /^tr_sandbox_/);
  const error = await expectApiError(sdk.payouts.request({ amount: 100_000_000_000 }), { status: 400, code: "insufficient_balance", type: "billing_error" });
  assert.equal(error.details.requested, 100_000_000_000);
  assert.ok(error.details.available < 100_000_000_000, JSON.stringify(error));
});

test("the payout account is verified once in 2026-07-11", async () => {
  const params = {
    email: `${unique("ops")}@example.test`,
    businessType: "individual",
    businessUrl: "https://example.test",
    documentUrl: "https://example.test/id.pdf",
    bank: { accountNumber: accountNumber(), accountHolderName: "Jane Doe" },
    individual: {
      firstName: "Jane",
      lastName: "Doe",
      phone: "+15555550100",
      dateOfBirth: "1990-01-01",
      address: { line1: "1 Main St", city: "Springfield", postalCode: "12345", country: "US" },
    },
  };
  const first = unwrap(await sdk.payouts.completeVerification(params));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/payouts/verification");
  assert.match(first.providerAccountId, /^acct_sandbox_/);
  assert.deepEqual({ status: first.status, transfersEnabled: first.transfersEnabled, object: first.object }, { status: "verified", transfersEnabled: true, object: "payout_account" });
  const again = unwrap(await sdk.payouts.completeVerification(params));
  assert.deepEqual({ id: again.providerAccountId, alreadyExists: again.alreadyExists }, { id: first.providerAccountId, alreadyExists: true });
});

// The customer portal (payments.md §10.1):
//   portal.getUrl({customerId | email, returnUrl})            POST /portal/request-access
test("a portal link opens the customer's billing page", async () => {
  const customer = await newCustomer(sdk, "portal");
  const access = unwrap(await sdk.portal.getUrl({ customerId: customer.id, returnUrl: "https://example.test/account" }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/portal/request-access");
  assert.match(access.portalUrl, new RegExp(`^${escapeRegExp(TALLY)}/portal/tok_[^/?#]+$`));
  assert.deepEqual({ object: access.object, livemode: access.livemode }, { object: "portal_session", livemode: false });
  const res = await fetch(access.portalUrl, { headers: { Accept: "application/json" } });
  assert.equal(res.status, 200);
  const state = await res.json();
  assert.deepEqual({ kind: state.kind, email: state.customer.email, invoices: state.invoices, returnUrl: state.returnUrl }, { kind: "portal", email: customer.email, invoices: [], returnUrl: "https://example.test/account" });
  const byEmail = unwrap(await sdk.portal.getUrl({ email: customer.email.toUpperCase() }));
  assert.match(byEmail.portalUrl, /\/portal\/tok_/);
  await expectValidationError(sdk.portal.getUrl({}), "customerId");
  await expectApiError(sdk.portal.getUrl({ email: `${unique("nobody")}@example.test` }), { status: 404, code: "customer_not_found", type: "not_found_error" });
});

// subscriptions.updatePaymentMethod({id, successUrl})         POST /subscriptions/{id}/payment-method/update
test("a card update page saves the subscription customer's default card", async () => {
  const { plan } = await seatPlan(sdk);
  const customer = await newCustomer(sdk, "card-update");
  const sub = unwrap(await sdk.subscriptions.create({ customerId: customer.id, planId: plan.id }));
  const update = unwrap(await sdk.subscriptions.updatePaymentMethod({ id: sub.id, successUrl: "https://example.test/done" }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${sub.id}/payment-method/update`);
  assert.match(update.checkoutUrl, new RegExp(`^${escapeRegExp(TALLY)}/payment-method/tok_[^/?#]+$`));
  assert.deepEqual({ object: update.object, livemode: update.livemode }, { object: "subscription", livemode: false });
  const res = await fetch(update.checkoutUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ cardNumber: VISA, expMonth: "12", expYear: "34", cvc: "123" }),
  });
  const state = await res.json();
  assert.deepEqual({ status: state.status, last4: state.card?.last4, redirectUrl: state.redirectUrl }, { status: "succeeded", last4: "4242", redirectUrl: "https://example.test/done" });
  // The saved card now pays what the customer is charged.
  const charge = unwrap(await sdk.payments.charge({ customerId: customer.id, amount: 1200, currency: "usd", description: unique("After update") }));
  assert.equal(charge.status, "succeeded");
  await expectApiError(sdk.subscriptions.updatePaymentMethod({ id: "sub_01K00000000000000000000000" }), { status: 404, code: "subscription_not_found", type: "not_found_error" });
});
