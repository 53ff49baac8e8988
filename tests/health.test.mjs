// Black-box tests of link health (issue 12): checks at creation, on demand and on the
// schedule, the states they lead to, the safe fetch (redirects, time limit, bodies),
// what a visitor of a dead link gets in each DEAD_LINK_MODE, and the signed webhook.
// Every fetch the worker makes goes to `fakeWeb` below through Miniflare's
// `outboundService`: nothing leaves 127.0.0.1. The scheduled checks take every due link
// in the table, so each test that runs them starts its own worker.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readJson, waitFor, workerPerTest } from "./harness.mjs";

const startWorker = workerPerTest();

/**
 * The outside world as the worker sees it: one behaviour per host, and a log of every
 * request that reached it. `state` lets a test change a host's answer between checks.
 */
function fakeWeb() {
  const seen = [];
  const state = { flaky: [500], webhookFailures: 0, webhook: [] };
  // Bodies that would take far longer than a check's time limit to read to the end:
  // a check that answers in time has not read them. Each ends when the reader cancels
  // or the test calls `stop`, so none outlives its test.
  let stopped = false;
  const paced = (chunk, pauseMs, chunks) => {
    let sent = 0;
    return new ReadableStream({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, pauseMs));
        if (stopped || sent >= chunks) return controller.close();
        sent += 1;
        controller.enqueue(chunk);
      },
      cancel() {
        stopped = true;
      },
    });
  };
  // One byte a second for a minute.
  const slowBody = () => paced(new Uint8Array([120]), 1000, 60);
  // 1 GiB in 1 MiB chunks, 100 ms apart: 100 s to read it all.
  const hugeBody = () => paced(new Uint8Array(1024 * 1024), 100, 1024);
  const redirect = (location, status = 302) => new Response(null, { status, headers: { location } });
  async function outbound(request) {
    const url = new URL(request.url);
    seen.push({ method: request.method, url: request.url, userAgent: request.headers.get("user-agent"), range: request.headers.get("range"), cookie: request.headers.get("cookie"), authorization: request.headers.get("authorization") });
    switch (url.hostname) {
      case "healthy.example":
        return new Response(request.method === "HEAD" ? null : "ok");
      case "gone.example":
        return new Response("not found", { status: 404 });
      case "removed.example":
        return new Response("gone", { status: 410 });
      case "flaky.example": {
        // The next answer in `state.flaky` (then 200): HEAD sees it, and the GET a
        // failed HEAD is followed by uses it up.
        const status = state.flaky.length ? state.flaky[0] : 200;
        if (request.method === "GET") state.flaky.shift();
        return new Response(null, { status });
      }
      case "walled.example":
        return new Response("forbidden", { status: 403 });
      case "challenge.example":
        return new Response("Just a moment...", { status: 503, headers: { "cf-mitigated": "challenge" } });
      case "no-head.example":
        return request.method === "HEAD" ? new Response(null, { status: 405 }) : new Response("ok", { status: 206 });
      case "slow-answer.example":
        // Answers long after any check's time limit.
        await new Promise((r) => setTimeout(r, 4000));
        return new Response("late");
      case "slow-body.example":
        if (request.method === "HEAD") return new Response(null, { status: 405 });
        return new Response(slowBody(), { status: 200 });
      case "huge.example":
        if (request.method === "HEAD") return new Response(null, { status: 405 });
        return new Response(hugeBody(), { status: 200 });
      case "hops.example":
        if (url.pathname === "/a") return redirect("/b", 301);
        if (url.pathname === "/b") return redirect("https://hops-2.example/c");
        return new Response("ok");
      case "hops-2.example":
        return new Response("ok");
      case "to-private.example":
        if (url.pathname === "/a") return redirect("https://to-private.example/b");
        return redirect("http://10.0.0.7/admin");
      case "loop.example":
        return redirect(url.pathname === "/a" ? "/b" : "/a");
      case "hooks.example":
        state.webhook.push({ headers: Object.fromEntries(request.headers), body: await request.text() });
        if (state.webhookFailures > 0) {
          state.webhookFailures -= 1;
          return new Response("try later", { status: 503 });
        }
        return new Response(null, { status: 204 });
      default:
        return new Response("unexpected host in test", { status: 599 });
    }
  }
  return { outbound, seen, state, stop: () => (stopped = true) };
}

const SECRET = "whsec-test-secret";
const HOOK = "https://hooks.example/shortener";

/** A worker whose outside world is a fresh `fakeWeb`; `vars` are added. */
async function healthWorker(vars = {}) {
  const web = fakeWeb();
  const w = await startWorker({ outbound: web.outbound, vars: { HEALTH_CHECK_MIN_INTERVAL_SECONDS: "0", ...vars } });
  return { w, web };
}

/** Runs one scheduled check of `key` (made due first, as time passing would). */
async function scheduledCheck(w, key) {
  await w.makeDue(key);
  await w.upkeep();
  return readJson(w.operator(`/api/links/${key}`));
}

const ADMIN = { ADMIN_TOKEN: "t0ken-for-health-tests" };

describe("checks at creation", () => {
  test("a healthy target: the answer carries the check, made with HEAD and an honest User-Agent", async () => {
    const { w, web } = await healthWorker();

    const link = await w.create({ target_url: "https://healthy.example/page", check: true });

    assert.equal(link.health.state, "healthy");
    assert.equal(link.health.status_code, 200);
    assert.ok(link.health.checked_at && link.health.since);
    const req = web.seen.find((r) => r.url === "https://healthy.example/page");
    assert.equal(req.method, "HEAD");
    assert.match(req.userAgent, /^shortener-link-check\/\S+ \(\+http:\/\/localhost\/docs\)$/);
    assert.equal(req.cookie, null);
    assert.equal(req.authorization, null);
  });

  test("404 and 410 are dead at once; the link is still created unless the check is required", async () => {
    const { w, web } = await healthWorker();

    const missing = await w.create({ target_url: "https://gone.example/x", check: true });
    const removed = await w.create({ target_url: "https://removed.example/x", check: true });
    const refused = await w.tryCreate({ target_url: "https://gone.example/y", check: "require" });
    const required = await w.tryCreate({ target_url: "https://healthy.example/y", check: "require" });

    assert.deepEqual([missing.health.state, missing.health.status_code], ["dead", 404]);
    assert.deepEqual([removed.health.state, removed.health.status_code], ["dead", 410]);
    // HEAD said 404; only the GET that followed may call the link dead.
    assert.deepEqual(
      web.seen.filter((r) => r.url === "https://gone.example/x").map((r) => [r.method, r.range]),
      [["HEAD", null], ["GET", "bytes=0-1023"]],
    );
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).detail, /HTTP 404.*not created/);
    assert.equal(await w.linkCount(), 3);
    assert.equal(required.status, 201);
    assert.equal((await required.json()).health.state, "healthy");
  });

  test("without check, nothing is fetched and the state is unknown", async () => {
    const { w, web } = await healthWorker();

    const link = await w.create({ target_url: "https://healthy.example/quiet" });

    assert.deepEqual(link.health, { state: "unknown", checked_at: null, status_code: null, reason: null, since: null });
    assert.equal(web.seen.length, 0);
  });

  test("check and dead_link_mode are validated like every field", async () => {
    const { w } = await healthWorker();

    const badCheck = await w.tryCreate({ target_url: "https://healthy.example/", check: "yes" });
    const badMode = await w.tryCreate({ target_url: "https://healthy.example/", dead_link_mode: "vanish" });

    assert.equal(badCheck.status, 422);
    assert.equal(badMode.status, 400);
    assert.match((await badMode.json()).detail, /redirect, interstitial or gone/);
  });
});

describe("classification of what a check sees", () => {
  test("403 and a bot challenge are unverifiable, never dead; a server refusing HEAD is asked with a ranged GET", async () => {
    const { w } = await healthWorker();

    const walled = await w.create({ target_url: "https://walled.example/", check: true });
    const challenged = await w.create({ target_url: "https://challenge.example/", check: true });
    const noHead = await w.create({ target_url: "https://no-head.example/", check: true });

    assert.deepEqual([walled.health.state, walled.health.status_code], ["unverifiable", 403]);
    assert.deepEqual([challenged.health.state, challenged.health.reason], ["unverifiable", "bot challenge"]);
    assert.deepEqual([noHead.health.state, noHead.health.status_code], ["healthy", 206]);
  });

  test("a timeout is unhealthy, and the check ends at its time limit", async () => {
    const { w } = await healthWorker({ HEALTH_CHECK_TIMEOUT_MS: "300" });

    const started = Date.now();
    const link = await w.create({ target_url: "https://slow-answer.example/", check: true });
    const took = Date.now() - started;

    assert.deepEqual([link.health.state, link.health.reason, link.health.status_code], ["unhealthy", "timeout", null]);
    assert.ok(took < 3000, `the check took ${took} ms; the target answers after 4000 ms`);
  });

  test("a slow body and a huge body are not read: the status decides, well within the limit", async () => {
    const { w, web } = await healthWorker({ HEALTH_CHECK_TIMEOUT_MS: "3000" });

    const started = Date.now();
    const slow = await w.create({ target_url: "https://slow-body.example/", check: true });
    const huge = await w.create({ target_url: "https://huge.example/", check: true });
    const took = Date.now() - started;

    web.stop();
    assert.equal(slow.health.state, "healthy");
    assert.equal(huge.health.state, "healthy");
    assert.ok(took < 3000, `two checks took ${took} ms`);
  });

  test("redirects are followed by hand, each hop under the target rules", async () => {
    const { w, web } = await healthWorker();

    const hops = await w.create({ target_url: "https://hops.example/a", check: true });
    const toPrivate = await w.create({ target_url: "https://to-private.example/a", check: true });
    const loop = await w.create({ target_url: "https://loop.example/a", check: true });

    assert.equal(hops.health.state, "healthy");
    assert.deepEqual(
      web.seen.filter((r) => /hops/.test(r.url)).map((r) => r.url),
      ["https://hops.example/a", "https://hops.example/b", "https://hops-2.example/c"],
    );
    assert.equal(toPrivate.health.state, "unverifiable");
    assert.match(toPrivate.health.reason, /^redirect not followed: .*private/);
    assert.ok(!web.seen.some((r) => r.url.includes("10.0.0.7")), "the private address was never requested");
    assert.deepEqual([loop.health.state, loop.health.reason], ["unhealthy", "too many redirects or a redirect loop"]);
    assert.ok(web.seen.filter((r) => r.url.startsWith("https://loop.example")).length <= 6, "at most 6 requests per check");
  });
});

describe("scheduled checks and state transitions", () => {
  test("unknown -> unhealthy (500) -> healthy (200), through the Cron Trigger", async () => {
    const { w } = await healthWorker(ADMIN);
    const link = await w.create({ target_url: "https://flaky.example/" });

    const first = await scheduledCheck(w, link.key);
    const second = await scheduledCheck(w, link.key);

    assert.deepEqual([first.health.state, first.health.status_code], ["unhealthy", 500]);
    assert.deepEqual([second.health.state, second.health.status_code], ["healthy", 200]);
    const row = await w.row(link.key);
    assert.equal(row.health_since, row.health_checked_at, "healthy since the second check");
    assert.equal(row.health_failures, 0);
  });

  test("the stalest links go first, a bounded number per run, and failing links come due sooner", async () => {
    const { w } = await healthWorker({ ...ADMIN, HEALTH_CHECKS_PER_RUN: "2" });
    const failing = await w.create({ target_url: "https://flaky.example/soon" });
    const healthy = await w.create({ target_url: "https://healthy.example/seldom" });
    const third = await w.create({ target_url: "https://healthy.example/third" });

    await w.upkeep();
    const afterOne = await Promise.all([failing, healthy, third].map((l) => w.row(l.key)));
    await w.upkeep();
    const thirdRow = await w.row(third.key);

    assert.deepEqual(afterOne.map((r) => r.health_state), ["unhealthy", "healthy", "unknown"]);
    assert.equal(thirdRow.health_state, "healthy");
    const [f, h] = afterOne;
    assert.equal(f.health_due_at - f.health_checked_at, 10 * 60 * 1000);
    assert.equal(h.health_due_at - h.health_checked_at, 24 * 60 * 60 * 1000);
  });

  test("three failures in a row make a link dead; a 200 brings it back; the webhook hears both, signed", async () => {
    const { w, web } = await healthWorker({ ...ADMIN, HEALTH_WEBHOOK_URL: HOOK, WEBHOOK_SECRET: SECRET });
    web.state.flaky = [500, 503, 502];
    const link = await w.create({ target_url: "https://flaky.example/dies" });

    const states = [];
    for (let i = 0; i < 3; i++) states.push((await scheduledCheck(w, link.key)).health.state);
    const dead = await waitFor(() => web.state.webhook.length >= 1 && web.state.webhook, { message: "the link.dead webhook" });
    const back = await scheduledCheck(w, link.key);
    await waitFor(() => web.state.webhook.length >= 2, { message: "the link.recovered webhook" });

    assert.deepEqual(states, ["unhealthy", "unhealthy", "dead"]);
    assert.equal(back.health.state, "healthy");
    const [died, recovered] = web.state.webhook.map((d) => ({ ...d, json: JSON.parse(d.body) }));
    assert.equal(died.json.event, "link.dead");
    assert.equal(died.headers["x-shortener-event"], "link.dead");
    assert.deepEqual([died.json.key, died.json.state, died.json.previous_state, died.json.status_code], [link.key, "dead", "unhealthy", 502]);
    assert.equal(recovered.json.event, "link.recovered");
    assert.deepEqual([recovered.json.state, recovered.json.previous_state], ["healthy", "dead"]);
    for (const d of [died, recovered]) {
      // What a receiver does: recompute the HMAC over "<t>.<body>" and compare; refuse an old t.
      const [, t, v1] = d.headers["x-shortener-signature"].match(/^t=(\d+),v1=([0-9a-f]{64})$/);
      assert.equal(v1, createHmac("sha256", SECRET).update(`${t}.${d.body}`).digest("hex"));
      assert.ok(Math.abs(Date.now() / 1000 - Number(t)) < 60, "timestamped now");
      assert.notEqual(v1, createHmac("sha256", "another secret").update(`${t}.${d.body}`).digest("hex"));
    }
    assert.equal(dead.length >= 1, true);
  });

  test("expired links are not checked but set aside, and come due again when they may redirect again", async () => {
    const { w, web } = await healthWorker(ADMIN);
    const link = await w.create({ target_url: "https://healthy.example/expired" });
    // Expired long ago, written around the service (the API refuses a past expiry).
    await w.db.prepare("UPDATE links SET expires_at = 1 WHERE key = ?1").bind(link.key).run();

    await w.upkeep();
    const parked = await w.row(link.key);
    const patch = await w.patch(link, { expires_at: null });
    const due = await w.row(link.key);
    await w.upkeep();

    assert.equal(web.seen.length, 1, "checked only once it could redirect again");
    assert.equal(parked.health_state, "unknown");
    assert.ok(parked.health_due_at > Date.now() + 29 * 24 * 3600 * 1000, "set aside for 30 days");
    assert.equal(patch.status, 200);
    assert.equal(due.health_due_at, 0);
    assert.equal((await w.row(link.key)).health_state, "healthy");
  });

  test("a webhook that fails is retried with the same delivery, and stops once accepted", async () => {
    const { w, web } = await healthWorker({ HEALTH_WEBHOOK_URL: HOOK, WEBHOOK_SECRET: SECRET });
    web.state.webhookFailures = 2;

    await w.create({ target_url: "https://gone.example/hooked", check: true });
    const deliveries = await waitFor(() => web.state.webhook.length >= 3 && web.state.webhook, { timeout: 10000, message: "three webhook attempts" });

    const bodies = deliveries.map((d) => JSON.parse(d.body));
    assert.deepEqual(bodies.map((b) => b.event), ["link.dead", "link.dead", "link.dead"]);
    assert.equal(new Set(bodies.map((b) => b.id)).size, 1, "one delivery id across retries");
    // A sleep on purpose: it proves no fourth attempt follows the accepted one.
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(web.state.webhook.length, 3);
  });

  test("with the HEALTH_NOTICES queue bound, a notice travels through it and a failed delivery is sent again later", async () => {
    const web = fakeWeb();
    const w = await startWorker({ outbound: web.outbound, queue: true, vars: { HEALTH_WEBHOOK_URL: HOOK, WEBHOOK_SECRET: SECRET } });
    web.state.webhookFailures = 1;

    const link = await w.create({ target_url: "https://removed.example/queued", check: true });
    // The first retry through the queue waits 5 s (QUEUED_BACKOFF_SECONDS).
    const deliveries = await waitFor(() => web.state.webhook.length >= 2 && web.state.webhook, { timeout: 20000, message: "a retried webhook delivery" });

    const bodies = deliveries.map((d) => JSON.parse(d.body));
    assert.deepEqual(bodies.map((b) => [b.event, b.key]), [["link.dead", link.key], ["link.dead", link.key]]);
    assert.equal(bodies[0].id, bodies[1].id);
    const [, t] = deliveries[1].headers["x-shortener-signature"].match(/^t=(\d+),/);
    assert.equal(deliveries[1].headers["x-shortener-signature"], `t=${t},v1=${createHmac("sha256", SECRET).update(`${t}.${deliveries[1].body}`).digest("hex")}`);
  });

  test("without HEALTH_WEBHOOK_URL and WEBHOOK_SECRET nothing is sent", async () => {
    const { w, web } = await healthWorker({ HEALTH_WEBHOOK_URL: HOOK });

    await w.create({ target_url: "https://gone.example/unsigned", check: true });
    // A sleep on purpose: it proves a webhook does not arrive, which no poll can.
    await new Promise((r) => setTimeout(r, 800));

    assert.equal(web.state.webhook.length, 0);
  });
});

describe("on-demand checks", () => {
  test("the owner and the operator can check now; a second check within the interval is 429", async () => {
    const web = fakeWeb();
    const w = await startWorker({ outbound: web.outbound, vars: ADMIN });
    const link = await w.create({ target_url: "https://gone.example/on-demand" });

    const res = await w.check(link);
    const again = await w.operator(`/api/links/${link.key}/check`, { method: "POST" });

    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.health.state, "dead");
    assert.equal(body.secret_key, link.secret_key, "the owner's view");
    assert.equal(again.status, 429);
    assert.ok(Number(again.headers.get("retry-after")) > 0);
    assert.match((await again.json()).detail, /checked moments ago/);
  });

  test("health shows in the owner's JSON and page, the operator's filtered list and the export", async () => {
    const { w } = await healthWorker(ADMIN);
    const dead = await w.create({ target_url: "https://gone.example/listed", check: true });
    const fine = await w.create({ target_url: "https://healthy.example/listed", check: true });

    const owner = await readJson(w.showAdmin(dead));
    const page = await (await w.get(`/admin/${dead.secret_key}`, { accept: "text/html" })).text();
    const listed = await readJson(w.operator("/api/links?health=dead"));
    const badFilter = await w.operator("/api/links?health=sick");
    const exported = (await (await w.operator("/api/links/export")).text()).trim().split("\n").map((l) => JSON.parse(l));

    assert.equal(owner.health.state, "dead");
    assert.match(page, /<span class="state health-dead" id="health">Dead<\/span>/);
    assert.match(page, /HTTP 404/);
    assert.deepEqual(listed.links.map((l) => l.key), [dead.key]);
    assert.equal(badFilter.status, 400);
    const states = Object.fromEntries(exported.filter((l) => l.key).map((l) => [l.key, l.health.state]));
    assert.deepEqual([states[dead.key], states[fine.key]], ["dead", "healthy"]);
  });
});

describe("DEAD_LINK_MODE", () => {
  const html = { accept: "text/html" };

  test("redirect (the default): a dead link still redirects", async () => {
    const { w } = await healthWorker();
    const link = await w.create({ target_url: "https://gone.example/still", check: true });

    const res = await w.visit(link.key);

    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://gone.example/still");
  });

  test("interstitial: people get a page with a way to continue, API clients the same facts", async () => {
    const { w } = await healthWorker({ DEAD_LINK_MODE: "interstitial" });
    const link = await w.create({ target_url: "https://gone.example/page", check: true });
    const healthy = await w.create({ target_url: "https://healthy.example/page", check: true });

    const page = await w.visit(link.key, { headers: html });
    const api = await w.visit(link.key);
    const fine = await w.visit(healthy.key);

    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /appears to be gone/);
    assert.match(text, /href="https:\/\/gone.example\/page"[^>]*>Continue anyway/);
    assert.match(text, new RegExp(`<time datetime="${link.health.since}">${link.health.since.slice(0, 10)}</time>`));
    assert.equal(api.status, 200);
    const facts = await api.json();
    assert.deepEqual(
      [facts.key, facts.target_url, facts.health, facts.dead_since, facts.dead_link_mode, "fallback_url" in facts],
      [link.key, "https://gone.example/page", "dead", link.health.since, "interstitial", false],
    );
    assert.equal(fine.status, 302, "a healthy link redirects as usual");
    await w.settleClickWindow();
    assert.equal(await w.clicks(link.key), 0, "the visitor was not forwarded: no click");
  });

  test("a dead link's own fallback URL is offered, on the page and in the JSON; a protected one reveals nothing first", async () => {
    const { w } = await healthWorker({ DEAD_LINK_MODE: "interstitial" });
    const link = await w.create({ target_url: "https://gone.example/fb", check: true, fallback_url: "https://example.com/instead" });
    const locked = await w.create({ target_url: "https://gone.example/secret", check: true, password: "open sesame" });

    const page = await (await w.visit(link.key, { headers: html })).text();
    const facts = await (await w.visit(link.key)).json();
    const noPassword = await w.visit(locked.key);
    const withPassword = await w.visit(locked.key, { headers: { "x-link-password": "open sesame" } });

    assert.match(page, /href="https:\/\/example.com\/instead"[^>]*>Go to the owner's alternative/);
    assert.equal(facts.fallback_url, "https://example.com/instead");
    assert.equal(noPassword.status, 401);
    assert.ok(!(await noPassword.text()).includes("gone.example"), "no target before the password");
    assert.equal(withPassword.status, 200);
    assert.equal((await withPassword.json()).target_url, "https://gone.example/secret");
  });

  test("gone: 410 with the facts and no button to continue", async () => {
    const { w } = await healthWorker({ DEAD_LINK_MODE: "gone" });
    const link = await w.create({ target_url: "https://removed.example/p", check: true });

    const page = await w.visit(link.key, { headers: html });
    const api = await w.visit(link.key);

    assert.equal(page.status, 410);
    const text = await page.text();
    assert.match(text, /appears to be gone/);
    assert.doesNotMatch(text, /Continue anyway/);
    assert.equal(api.status, 410);
    assert.deepEqual([(await api.json()).dead_link_mode], ["gone"]);
  });

  test("the health state costs a cached redirect nothing: no KV or D1 call for a healthy or a dead link", async () => {
    const { w } = await healthWorker({ DEAD_LINK_MODE: "gone", BENCH_COUNTERS: "1" });
    const healthy = await w.create({ target_url: "https://healthy.example/hot", check: true });
    const dead = await w.create({ target_url: "https://gone.example/hot", check: true });
    // HEAD counts no click, so the counters below see only the rule lookups.
    await w.visit(healthy.key, { method: "HEAD" });
    await w.visit(dead.key, { method: "HEAD" });
    await w.waitUntilCached(healthy.key);
    await w.waitUntilCached(dead.key);
    // Let the refills' re-check reads finish before the counters are taken.
    await waitFor(async () => {
      const a = await w.counters();
      await new Promise((r) => setTimeout(r, 100));
      const b = await w.counters();
      return a.d1_statements === b.d1_statements && a;
    }, { message: "the counters to settle" });
    const before = await w.counters();

    const answers = [];
    for (let i = 0; i < 10; i++) answers.push((await w.visit(healthy.key, { method: "HEAD" })).status, (await w.visit(dead.key, { method: "HEAD" })).status);
    const after = await w.counters();

    assert.deepEqual([...new Set(answers)].sort(), [302, 410]);
    assert.equal(after.d1_statements, before.d1_statements);
    assert.equal(after.kv_reads, before.kv_reads);
  });

  test("a shared link is reused only by callers asking for the same dead-link mode", async () => {
    const { w } = await healthWorker();
    const shared = await w.create({ target_url: "https://healthy.example/shared", reuse: true });

    const same = await w.tryCreate({ target_url: "https://healthy.example/shared", reuse: true });
    const other = await w.tryCreate({ target_url: "https://healthy.example/shared", reuse: true, dead_link_mode: "gone" });

    assert.equal(same.status, 200);
    assert.equal((await same.json()).key, shared.key);
    assert.equal(other.status, 201);
    assert.notEqual((await other.json()).key, shared.key);
  });

  test("a link's own mode wins over the instance's, and takes effect at once after a PATCH", async () => {
    const { w } = await healthWorker({ DEAD_LINK_MODE: "gone" });
    const own = await w.create({ target_url: "https://gone.example/own", check: true, dead_link_mode: "redirect" });
    const patched = await w.create({ target_url: "https://gone.example/patched", check: true });
    await w.visit(patched.key);
    await w.waitUntilCached(patched.key);

    const ownVisit = await w.visit(own.key);
    const patch = await w.patch(patched, { dead_link_mode: "interstitial" });
    const patchedVisit = await w.visit(patched.key);

    assert.equal(ownVisit.status, 302);
    assert.equal((await patch.json()).dead_link_mode, "interstitial");
    assert.equal(patchedVisit.status, 200);
    assert.equal((await patchedVisit.json()).dead_link_mode, "interstitial");
  });

  test("a new target is not the dead one: a retargeted link forgets its health and redirects at once", async () => {
    const { w } = await healthWorker({ DEAD_LINK_MODE: "interstitial" });
    const link = await w.create({ target_url: "https://gone.example/moved", check: true });
    assert.equal((await w.visit(link.key)).status, 200, "the interstitial");
    await w.waitUntilCached(link.key);

    const patched = await readJson(w.patch(link, { target_url: "https://healthy.example/moved-here" }));
    const visit = await w.visit(link.key);

    assert.deepEqual([patched.health.state, patched.health.checked_at], ["unknown", null]);
    assert.equal(visit.status, 302);
    assert.equal(visit.headers.get("location"), "https://healthy.example/moved-here");
    assert.equal((await w.row(link.key)).health_due_at, 0, "checked first by the next run");
  });

  test("a link that dies while cached stops redirecting here at once, and redirects again when it recovers", async () => {
    const { w, web } = await healthWorker({ ...ADMIN, DEAD_LINK_MODE: "gone" });
    web.state.flaky = [];
    const link = await w.create({ target_url: "https://flaky.example/cached" });
    await w.visit(link.key);
    await w.waitUntilCached(link.key);

    web.state.flaky = [404];
    await scheduledCheck(w, link.key);
    const whileDead = await w.visit(link.key);
    await scheduledCheck(w, link.key);
    const recovered = await w.visit(link.key);

    assert.equal(whileDead.status, 410);
    assert.equal(recovered.status, 302);
  });
});
