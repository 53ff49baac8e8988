// Black-box tests of configuration and of storage outages: BASE_URL, and the worker run
// without its D1 or KV binding. Each test starts the worker its configuration needs.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readJson, workerPerTest } from "./harness.mjs";

const worker = workerPerTest();

describe("BASE_URL", () => {
  test("prefixes every short and admin URL, and its host is refused as a target", async () => {
    const w = await worker({ vars: { BASE_URL: "https://sho.rt/" } });

    const link = await w.create({ target_url: "https://example.com/" });
    const peek = await readJson(w.peek(link.key));
    const loop = await w.tryCreate({ target_url: "http://Sho.Rt:8080/x" });

    assert.equal(link.url, `https://sho.rt/${link.key}`);
    assert.equal(link.tiny_url, link.url);
    assert.equal(link.admin_url, `https://sho.rt/admin/${link.secret_key}`);
    assert.equal(peek.url, `https://sho.rt/${link.key}`);
    assert.equal(loop.status, 400);
  });
});

describe("without a D1 binding", () => {
  test("creation and health answer 503 JSON; nothing is written to KV", async () => {
    const w = await worker({ withDb: false });

    const created = await w.tryCreate({ target_url: "https://example.com/" });
    const health = await w.get("/healthz");
    const visit = await w.visit("abcdefgh");

    assert.equal(created.status, 503);
    assert.match((await created.json()).detail, /unavailable/);
    assert.equal(health.status, 503);
    assert.equal(visit.status, 503);
    assert.deepEqual((await w.kv.list()).keys, []);
  });

  test("paths that cannot name a link still answer 404 without touching storage", async () => {
    const w = await worker({ withDb: false, withKv: false });
    for (const path of ["/ab", "/admin/nope", "/x/y"]) {
      const res = await w.get(path);

      assert.equal(res.status, 404, path);
    }
  });
});

describe("without a KV binding", () => {
  test("links are created and redirect from D1, with clicks counted", async () => {
    const w = await worker({ withKv: false });
    const link = await w.create({ target_url: "https://example.com/nokv" });

    const res = await w.visit(link.key);

    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://example.com/nokv");
    assert.equal(await w.settleClicks(link.key, 1), 1);

    assert.equal((await w.deactivate(link)).status, 200);
    assert.equal((await w.visit(link.key)).status, 410);
  });
});

describe("production-unsafe defaults are loud", () => {
  test("an unset COOKIE_SECRET, or a webhook without WEBHOOK_SECRET, makes /healthz degraded with the reason, logged once per isolate", async () => {
    const unsafe = await worker({ vars: { COOKIE_SECRET: "", HEALTH_WEBHOOK_URL: "https://hooks.example/health" } });
    const first = await unsafe.get("/healthz");
    const again = await readJson(unsafe.get("/healthz"));
    const safe = await worker({ vars: { COOKIE_SECRET: "a-real-secret", HEALTH_WEBHOOK_URL: "https://hooks.example/health", WEBHOOK_SECRET: "another-secret" } });

    assert.equal(first.status, 200, "the service still answers");
    const report = await first.json();
    assert.equal(report.status, "degraded");
    assert.match(report.cookie_secret, /COOKIE_SECRET is not set: password cookies are signed with a public default key/);
    assert.match(report.webhook_secret, /WEBHOOK_SECRET is not: .* none is sent/);
    assert.deepEqual(again, report);
    await unsafe.waitForLog("COOKIE_SECRET is not set");
    await unsafe.get("/healthz");
    const said = unsafe.log.lines.filter((l) => l.includes("COOKIE_SECRET is not set")).length;
    assert.equal(said, 1, "logged once per isolate, not per request");
    assert.deepEqual(await readJson(safe.get("/healthz")), { status: "ok" });
  });
});
