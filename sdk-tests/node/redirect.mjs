// Preload module: node --import ./redirect.mjs --test ...
//
// @commet/node 7.10.0 hard-codes `BASE_URL = "https://commet.co"` and has no base-URL option
// (dist/index.mjs, src/utils/http.ts: `new URL("/api/v1" + endpoint, BASE_URL)`, then
// `fetch(url, {method, headers, body, signal})` with `url` a string). We never patch the SDK:
// this module wraps globalThis.fetch and rewrites every URL whose origin is exactly
// https://commet.co to $TALLY_URL, keeping path, query and fragment, so
//   https://commet.co/api/v1/customers?limit=1  ->  $TALLY_URL/api/v1/customers?limit=1
// Any other URL is passed through untouched.
//
// It also records the redirected exchanges (method, url, status, request/response headers and a
// clone of the body) so tests can look at the wire where the SDK hides it, e.g. the HTTP status
// of a validation error (N7's CommetValidationError carries no status code).

const STATE = Symbol.for("tally.sdk-tests.redirect");
const COMMET_ORIGIN = "https://commet.co";
const MAX_RECORDED = 100;

function targetBase() {
  const raw = process.env.TALLY_URL;
  if (!raw) {
    throw new Error(
      "redirect.mjs: TALLY_URL is not set (expected the Tally server's base URL, e.g. http://127.0.0.1:40123)",
    );
  }
  const parsed = new URL(raw); // throws on garbage
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`redirect.mjs: TALLY_URL must be an http(s) URL, got ${raw}`);
  }
  if (parsed.search || parsed.hash) {
    throw new Error(`redirect.mjs: TALLY_URL must not carry a query or fragment, got ${raw}`);
  }
  // Keep an optional path prefix, drop trailing slashes: "<origin><prefix>" + "/api/v1/...".
  return parsed.origin + parsed.pathname.replace(/\/+$/, "");
}

/** Returns the Tally URL for a commet.co URL, or null when the URL is not commet.co's. */
export function rewriteUrl(url, base = targetBase()) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.origin !== COMMET_ORIGIN) return null;
  return base + parsed.pathname + parsed.search + parsed.hash;
}

function headersToObject(headers) {
  if (!headers) return {};
  const out = {};
  new Headers(headers).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

function install() {
  if (globalThis[STATE]) return globalThis[STATE];
  const base = targetBase();
  const originalFetch = globalThis.fetch;
  const state = { base, originalFetch, exchanges: [] };

  async function tallyFetch(input, init) {
    const isRequest = typeof Request !== "undefined" && input instanceof Request;
    const url = isRequest ? input.url : String(input);
    const rewritten = rewriteUrl(url, base);
    if (rewritten === null) return originalFetch(input, init);

    const target = isRequest ? new Request(rewritten, input) : rewritten;
    const response = await originalFetch(target, init);

    const copy = response.clone();
    const bodyText = copy.text();
    bodyText.catch(() => {});
    const exchange = {
      method: (init?.method ?? (isRequest ? input.method : "GET")).toUpperCase(),
      originalUrl: url,
      url: rewritten,
      requestHeaders: headersToObject(init?.headers ?? (isRequest ? input.headers : undefined)),
      requestBody: typeof init?.body === "string" ? init.body : undefined,
      status: response.status,
      headers: headersToObject(response.headers),
      text: () => bodyText,
      json: async () => JSON.parse(await bodyText),
    };
    state.exchanges.push(exchange);
    if (state.exchanges.length > MAX_RECORDED) state.exchanges.shift();
    return response;
  }

  globalThis.fetch = tallyFetch;
  globalThis[STATE] = state;
  return state;
}

const state = install();

/** Redirected exchanges, oldest first (at most the last 100). */
export const exchanges = state.exchanges;

/** The most recent redirected exchange. */
export function lastExchange() {
  const last = state.exchanges.at(-1);
  if (!last) throw new Error("redirect.mjs: no request has been redirected yet");
  return last;
}

/** The base every commet.co URL is rewritten to. */
export const tallyBase = state.base;
