// Black-box tests of abuse controls: creation rate limits per client IP, the target
// host blocklist, CORS, security headers, and secrets kept out of logs, KV and errors.
// Each test starts the worker its configuration needs.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { kvKey, workerPerTest } from "./harness.mjs";

const worker = workerPerTest();

describe("rate limiting", () => {
  test("creations over the limit answer 429 with Retry-After, per client IP", async () => {
    const w = await worker({ rateLimit: { limit: 3, period: 60 } });
    for (let i = 0; i < 3; i++) {
      assert.equal((await w.tryCreate({ target_url: `https://example.com/${i}` }, { ip: "203.0.113.7" })).status, 201);
    }

    const limited = await w.tryCreate({ target_url: "https://example.com/4" }, { ip: "203.0.113.7" });
    const otherClient = await w.tryCreate({ target_url: "https://example.com/5" }, { ip: "198.51.100.9" });

    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "60");
    assert.match((await limited.json()).detail, /Too many/);
    assert.equal(otherClient.status, 201);

    // Redirects are never rate limited.
    const link = await w.create({ target_url: "https://example.com/r" }, { ip: "192.0.2.44" });
    for (let i = 0; i < 10; i++) assert.equal((await w.visit(link.key)).status, 302);
  });
});

describe("blocklist", () => {
  test("blocked hosts are refused at creation and stop redirecting when blocked later", async () => {
    // A KV entry for the host, written by a deployment that did not block it yet.
    const plain = await worker();
    const link = await plain.create({ target_url: "https://www.bad.example/x" });
    await plain.visit(link.key);
    const cached = await plain.waitUntilCached(link.key);
    const w = await worker({ vars: { BLOCKED_HOSTS: "bad.example, Worse.Example." } });

    const refused = await w.tryCreate({ target_url: "https://sub.worse.example/" });

    assert.equal(refused.status, 400);
    assert.match((await refused.json()).detail, /blocked/);

    // The same link in a deployment that blocked its host later: from D1 and from KV.
    await w.db.prepare("INSERT INTO links (key, target_url, target_host, secret_hash, created_at, updated_at, stats_key) VALUES ('blockedlater', 'https://www.bad.example/x', 'www.bad.example', ?1, 0, 0, 'blockedlater')").bind("a".repeat(64)).run();
    const fromD1 = await w.visit("blockedlater");
    await w.kv.put(kvKey("blockedlater"), cached);
    const fromKv = await w.visit("blockedlater");

    assert.equal(fromD1.status, 410);
    assert.match((await fromD1.json()).detail, /blocked/);
    assert.equal(fromKv.status, 410);
    assert.equal((await w.tryCreate({ target_url: "https://notbad.example/" })).status, 201);
  });
});

describe("CORS", () => {
  test("only configured origins may read API answers, and preflights are answered", async () => {
    const w = await worker({ vars: { CORS_ORIGINS: "https://app.example" } });
    const none = await worker();

    const ok = await w.tryCreate({ target_url: "https://example.com/" }, { headers: { origin: "https://app.example" } });
    const other = await w.fetch("/", { headers: { origin: "https://evil.example" } });
    const pre = await w.fetch("/url", { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    const denied = await w.fetch("/url", { method: "OPTIONS", headers: { origin: "https://evil.example" } });
    const unconfigured = await none.fetch("/", { headers: { origin: "https://app.example" } });

    assert.equal(ok.status, 201);
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example");
    assert.match(ok.headers.get("vary"), /Origin/);
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-methods"), "POST");
    assert.match(pre.headers.get("access-control-allow-headers"), /Content-Type/);
    assert.equal(denied.status, 405);
    assert.equal(unconfigured.headers.get("access-control-allow-origin"), null);
  });
});

describe("security headers", () => {
  test("JSON, redirects and HTML carry nosniff and a referrer policy; HTML a strict CSP", async () => {
    const w = await worker();
    const link = await w.create({ target_url: "https://example.com/h" });

    const answers = [await w.get("/"), await w.visit(link.key), await w.visit("nope-nope"), await w.get("/docs"), await w.qr(link.key)];
    const csp = (await w.get("/docs")).headers.get("content-security-policy");

    for (const res of answers) {
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
    }
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(!/unsafe-eval|\*/.test(csp), csp);
  });
});

describe("secrets", () => {
  test("never appear in logs, KV or error messages", async () => {
    const token = "tok-0123456789abcdef-operator";
    const w = await worker({ vars: { ADMIN_TOKEN: token } });
    const link = await w.create({ target_url: "https://example.com/secret" });
    const secret = link.secret_key;

    const bodies = [];
    const keep = async (res) => bodies.push(`${res.status} ${[...res.headers].join(" ")} ${await res.text()}`);
    await keep(await w.visit(link.key));
    await keep(await w.stats(link, 0));
    await keep(await w.patch(link, "{bad"));
    await keep(await w.fetch(`/admin/${secret}`, { method: "PUT" }));
    await keep(await w.fetch(`/admin/${secret.toUpperCase()}x`));
    await keep(await w.operator("/api/links", { token: `${token}x` }));
    await keep(await w.operator("/api/links/export"));
    // Make the worker log: a failing click write after the redirect.
    await w.breakClickWrites();
    await keep(await w.visit(link.key));
    await w.waitForLog("not recorded");
    await w.deactivate(link);
    // A sleep on purpose: whatever the DELETE writes or logs after its response must be
    // in the scan below, which proves that no secret appears.
    await sleep(200);

    const kvValues = await Promise.all((await w.kv.list()).keys.map((k) => w.kv.get(k.name)));
    const everything = [...w.log.lines, ...kvValues.filter(Boolean), ...bodies.slice(1)].join("\n");
    for (const s of [secret, secret.split("_").pop(), token]) {
      assert.ok(!everything.toLowerCase().includes(s.toLowerCase()), `found a secret: ${s}`);
    }
    assert.ok(w.log.lines.length > 0, "the scan saw some log lines");
  });
});
