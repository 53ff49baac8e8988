// Black-box tests of the operator's signed event webhooks (issue 28): registration
// through /api/webhooks, deliveries signed as the health webhook's, retried through
// the EVENTS queue and dead-lettered, clicks in batches. The receiver is Miniflare's
// `outboundService`: nothing leaves 127.0.0.1.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { DEAD_LETTER_QUEUE, EVENT_RETRIES, waitFor, workerPerTest } from "./harness.mjs";

const ROOT = "webhooks-root-token";
const worker = workerPerTest();

/** A receiver at https://hooks.example: `/ok` answers 204, `/flaky` 500 for its first `failures` requests, `/down` always 500. */
function receiver() {
  const got = [];
  const state = { failures: 1 };
  async function outbound(request) {
    const url = new URL(request.url);
    // A target that is gone, for the health checks that turn a link dead.
    if (url.hostname === "gone.example") return new Response("not found", { status: 404 });
    if (url.hostname !== "hooks.example") return new Response("unexpected host in test", { status: 599 });
    got.push({ path: url.pathname, headers: Object.fromEntries(request.headers), body: await request.text() });
    if (url.pathname === "/down") return new Response("down", { status: 500 });
    if (url.pathname === "/flaky" && state.failures > 0) {
      state.failures -= 1;
      return new Response("try later", { status: 500 });
    }
    return new Response(null, { status: 204 });
  }
  return { outbound, got, state, at: (path) => got.filter((g) => g.path === path) };
}

/** The check docs/webhooks.md gives a receiver. */
function verifies(secret, header, rawBody, toleranceSeconds = 300) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!m) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > toleranceSeconds) return false;
  const want = createHmac("sha256", secret).update(`${m[1]}.${rawBody}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2], "hex"));
}

async function start({ queue = true } = {}) {
  const hooks = receiver();
  const w = await worker({ outbound: hooks.outbound, queue, vars: { ADMIN_TOKEN: ROOT } });
  return { w, hooks };
}

async function register(w, path, events, token) {
  const res = await w.operator("/api/webhooks", { method: "POST", token, json: { url: `https://hooks.example${path}`, events } });
  return res;
}

describe("registering an endpoint", () => {
  test("an admin registers, lists and deletes endpoints; the secret is shown once; each write is audited", async () => {
    const { w } = await start({ queue: false });

    const res = await register(w, "/ok", ["link.created", "link.clicked"]);

    assert.equal(res.status, 201);
    const made = await res.json();
    assert.match(made.id, /^wh_[a-z0-9]{20}$/);
    assert.match(made.secret, /^whsec_/);
    assert.deepEqual(made.events, ["link.created", "link.clicked"]);
    const list = await (await w.operator("/api/webhooks")).json();
    assert.equal(list.webhooks.length, 1);
    assert.equal(list.webhooks[0].secret, undefined);
    assert.ok(!JSON.stringify(list).includes(made.secret));
    assert.equal((await w.operator(`/api/webhooks/${made.id}`, { method: "DELETE" })).status, 200);
    assert.equal((await w.operator(`/api/webhooks/${made.id}`, { method: "DELETE" })).status, 404);
    const audit = await (await w.operator("/api/audit")).json();
    const mine = audit.entries.filter((e) => e.target === made.id).map((e) => e.action).sort();
    assert.deepEqual(mine, ["webhook.create", "webhook.delete"]);
    assert.ok(!JSON.stringify(audit).includes(made.secret));
  });

  test("bad registrations are refused with clear JSON errors", async () => {
    const { w } = await start({ queue: false });
    const cases = [
      [{ url: "http://hooks.example/ok", events: ["link.created"] }, 400, /https/],
      [{ url: "https://hooks.example/ok", events: ["link.exploded"] }, 400, /known events/],
      [{ url: "https://hooks.example/ok", events: [] }, 400, /at least one/],
      [{ url: "https://hooks.example/ok" }, 400, /events.*required/],
      [{ url: "https://hooks.example/ok", events: ["link.dead"], secret: "mine" }, 422, /unknown field 'secret'/],
    ];
    for (const [json, status, detail] of cases) {
      const res = await w.operator("/api/webhooks", { method: "POST", json });
      assert.equal(res.status, status, JSON.stringify(json));
      assert.match((await res.json()).detail, detail, JSON.stringify(json));
    }
    // The harness serves http://localhost: a local instance may post to 127.0.0.1.
    assert.equal((await w.operator("/api/webhooks", { method: "POST", json: { url: "http://127.0.0.1:9/hook", events: ["link.dead"] } })).status, 201);
  });

  test("a key without operator rights cannot register, list or delete endpoints", async () => {
    const { w } = await start({ queue: false });
    for (const role of ["creator", "reader", "stats"]) {
      const key = await (await w.operator("/api/keys", { method: "POST", json: { name: role, role } })).json();
      assert.equal((await register(w, "/ok", ["link.created"], key.token)).status, 403, role);
      assert.equal((await w.operator("/api/webhooks", { token: key.token })).status, 403, role);
    }
    assert.equal((await register(w, "/ok", ["link.created"], "not-a-token")).status, 401);
    assert.equal((await (await w.operator("/api/webhooks")).json()).webhooks.length, 0);
  });
});

describe("deliveries", () => {
  test("link.created, link.updated and link.deactivated arrive signed with the endpoint's secret", async () => {
    const { w, hooks } = await start();
    const { secret } = await (await register(w, "/ok", ["link.created", "link.updated", "link.deactivated"])).json();

    const link = await w.create({ target_url: "https://example.com/events" });
    await w.patch(link, { title: "Events" });
    await w.deactivate(link);

    await waitFor(() => hooks.at("/ok").length >= 3, { message: "three deliveries" });
    const got = hooks.at("/ok");
    const events = got.map((g) => JSON.parse(g.body).event).sort();
    assert.deepEqual(events, ["link.created", "link.deactivated", "link.updated"]);
    for (const g of got) {
      assert.ok(verifies(secret, g.headers["x-shortener-signature"], g.body), g.headers["x-shortener-signature"]);
      assert.ok(!verifies("another secret", g.headers["x-shortener-signature"], g.body));
      const body = JSON.parse(g.body);
      assert.equal(g.headers["x-shortener-event"], body.event);
      assert.equal(body.link.key, link.key);
      assert.equal(body.link.admin_url, undefined);
      assert.ok(!g.body.includes(link.admin_url.split("/").at(-1)), "never the link's secret");
    }
    assert.equal(JSON.parse(got.find((g) => g.body.includes("link.updated")).body).link.title, "Events");

    const bulk = await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/b1" }, { target_url: "https://example.com/b2" }] });
    const made = (await bulk.json()).results.map((r) => r.link.key).sort();
    await waitFor(() => hooks.at("/ok").length >= 5, { message: "a delivery per link made in bulk" });
    const bulkKeys = hooks.at("/ok").slice(3).map((g) => JSON.parse(g.body).link.key).sort();
    assert.deepEqual(bulkKeys, made);
  });

  test("a delivery answered 500 is retried by the queue with the same body", async () => {
    const { w, hooks } = await start();
    const { secret } = await (await register(w, "/flaky", ["link.created"])).json();

    await w.create({ target_url: "https://example.com/retry" });

    await waitFor(() => hooks.at("/flaky").length >= 2, { timeout: 15000, message: "a retry" });
    const [first, second] = hooks.at("/flaky");
    assert.equal(second.body, first.body);
    assert.ok(verifies(secret, second.headers["x-shortener-signature"], second.body));
    // Delivered: no third attempt.
    await new Promise((r) => setTimeout(r, 1500)); // proves nothing more comes
    assert.equal(hooks.at("/flaky").length, 2);
  });

  test("a delivery that keeps failing is attempted max_retries + 1 times, then dead-lettered", async () => {
    const { w, hooks } = await start();
    await register(w, "/down", ["link.created"]);

    await w.create({ target_url: "https://example.com/dead-letter" });

    await waitFor(() => hooks.at("/down").length >= EVENT_RETRIES + 1, { timeout: 20000, message: "every attempt" });
    await w.waitForLog(DEAD_LETTER_QUEUE, 20000);
    await new Promise((r) => setTimeout(r, 1500)); // proves no attempt follows the dead letter
    assert.equal(hooks.at("/down").length, EVENT_RETRIES + 1);
    const bodies = new Set(hooks.at("/down").map((g) => g.body));
    assert.equal(bodies.size, 1, "every attempt sends the same body");
  });

  test("N clicks of a batch reach each endpoint as one request carrying N events", async () => {
    const { w, hooks } = await start();
    const { secret } = await (await register(w, "/ok", ["link.clicked"])).json();
    await register(w, "/flaky", ["link.clicked"]);
    hooks.state.failures = 0;
    const link = await w.create({ target_url: "https://example.com/batched", utm: { campaign: "spring" } });

    const N = 25;
    await w.visitConcurrently(link.key, N);
    await w.settleClicks(link.key, N);

    await waitFor(() => hooks.at("/ok").length >= 1 && hooks.at("/flaky").length >= 1, { message: "the click deliveries" });
    await w.settleClickWindow();
    for (const path of ["/ok", "/flaky"]) {
      const got = hooks.at(path);
      assert.equal(got.length, 1, `${path}: one request for the batch, not one per click`);
      const body = JSON.parse(got[0].body);
      assert.equal(body.event, "link.clicked");
      assert.equal(body.count, N);
      assert.equal(body.clicks.length, N);
      assert.ok(body.clicks.every((c) => c.key === link.key && c.source === "link" && c.campaign === "spring"));
    }
    assert.ok(verifies(secret, hooks.at("/ok")[0].headers["x-shortener-signature"], hooks.at("/ok")[0].body));
  });

  test("without the queue, a delivery is sent from the invocation and retried after a 500", async () => {
    const { w, hooks } = await start({ queue: false });
    const { secret } = await (await register(w, "/flaky", ["link.created"])).json();

    await w.create({ target_url: "https://example.com/direct" });

    await waitFor(() => hooks.at("/flaky").length >= 2, { timeout: 10000, message: "a retry" });
    const [first, second] = hooks.at("/flaky");
    assert.equal(second.body, first.body);
    assert.ok(verifies(secret, second.headers["x-shortener-signature"], second.body));
  });

  test("link.dead reaches the endpoints that asked for it, with the health notice's body", async () => {
    const { w, hooks } = await start();
    const { secret } = await (await register(w, "/ok", ["link.dead"])).json();
    await register(w, "/flaky", ["link.created"]);
    hooks.state.failures = 0;
    const link = await w.create({ target_url: "https://gone.example/page" });

    const checked = await w.check(link);

    assert.equal(checked.status, 200);
    await waitFor(() => hooks.at("/ok").length >= 1, { message: "the link.dead delivery" });
    const [got] = hooks.at("/ok");
    const body = JSON.parse(got.body);
    assert.equal(body.event, "link.dead");
    assert.equal(body.key, link.key);
    assert.equal(body.status_code, 404);
    assert.ok(verifies(secret, got.headers["x-shortener-signature"], got.body));
    assert.ok(hooks.at("/flaky").every((g) => JSON.parse(g.body).event === "link.created"));
  });

  test("a deleted endpoint hears nothing more", async () => {
    const { w, hooks } = await start();
    const made = await (await register(w, "/ok", ["link.created"])).json();
    await w.operator(`/api/webhooks/${made.id}`, { method: "DELETE" });

    await w.create({ target_url: "https://example.com/unheard" });

    await new Promise((r) => setTimeout(r, 2000)); // proves nothing is sent
    assert.equal(hooks.at("/ok").length, 0);
  });
});
