// A local webhook receiver for the @commet/node tests, shared by test/webhooks.test.mjs and
// test/dunning/dunning.test.mjs. The server must be allowed to deliver to 127.0.0.1
// (`--webhook-allow-networks 127.0.0.0/8`, as the Rust harness starts it).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { sleep } from "./helpers.mjs";

// The dispatcher runs every 100 ms, so a delivery normally arrives well under a second after the
// change. 15 s leaves room for a loaded machine (2 cores, the Node test files run in parallel
// against one server) while failing long before node's --test-timeout (120 s). Retries cannot help
// inside it: a failed first attempt is only retried after 60 s (webhooks.md §6).
export const DELIVERY_DEADLINE_MS = 15_000;

/**
 * An HTTP receiver on 127.0.0.1, port 0: records every request (method, path, lowercase headers,
 * raw body bytes and their UTF-8 text) before answering 200.
 */
export async function startReceiver() {
  const path = `/hooks/${randomUUID()}`;
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method, path: req.url, headers: req.headers, body, text: body.toString("utf8") });
      res.writeHead(200, { "Content-Type": "text/plain", Connection: "close" });
      res.end("ok");
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  const endpointIds = [];
  return {
    url: `http://127.0.0.1:${port}${path}`,
    path,
    endpointIds, // deleted by close()
    /** Requests sent to this receiver's path (other endpoints may share the port after it closes). */
    mine: () => requests.filter((r) => r.path === path),
    /** Deletes the endpoints created for it (ignoring errors), then stops listening. */
    async close(sdk) {
      for (const id of endpointIds) await sdk.webhooks.delete({ id }).catch(() => {});
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it returns something truthy; fails after DELIVERY_DEADLINE_MS. */
export async function until(check, describe) {
  const deadline = Date.now() + DELIVERY_DEADLINE_MS;
  for (;;) {
    const result = check();
    if (result) return result;
    if (Date.now() >= deadline) assert.fail(`${describe()} (waited ${DELIVERY_DEADLINE_MS / 1000} s)`);
    await sleep(50);
  }
}

/** A received request's JSON body, or undefined. */
export function parsed(request) {
  try {
    return JSON.parse(request.text);
  } catch {
    return undefined;
  }
}

/** What the receiver got, for failure messages: event and customer of each request. */
export function summary(receiver) {
  const seen = receiver.mine().map((r) => {
    const body = parsed(r);
    return `${body?.event}/${body?.data?.customerId ?? body?.data?.webhookId}/${body?.data?.trigger ?? ""}`;
  });
  return seen.length ? `received ${seen.join(", ")}` : "received nothing";
}
