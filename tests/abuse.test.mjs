// Black-box tests of abuse controls: creation rate limits per client IP, the target
// host blocklist, CORS, security headers, and secrets kept out of logs, KV and errors.
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { workerPerTest } from "./harness.mjs";

// Each test starts the worker it needs; all are stopped when the file is done.
const worker = workerPerTest(after);

const from = (ip) => ({ "content-type": "application/json", "cf-connecting-ip": ip });

describe("rate limiting", () => {
  test("creations over the limit answer 429 with Retry-After, per client IP", async () => {
    const w = await worker({ rateLimit: { limit: 3, period: 60 } });
    for (let i = 0; i < 3; i++) {
      assert.equal((await w.post("/url", { target_url: `https://example.com/${i}` }, from("203.0.113.7"))).status, 201);
    }
    const limited = await w.post("/url", { target_url: "https://example.com/4" }, from("203.0.113.7"));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "60");
    assert.match((await limited.json()).detail, /Too many/);
    assert.equal((await w.post("/url", { target_url: "https://example.com/5" }, from("198.51.100.9"))).status, 201);
    // Redirects are never rate limited.
    const link = await w.create({ target_url: "https://example.com/r" }, from("192.0.2.44"));
    for (let i = 0; i < 10; i++) assert.equal((await w.get(`/${link.key}`)).status, 302);
  });
});

describe("blocklist", () => {
  test("blocked hosts are refused at creation and stop redirecting when blocked later", async () => {
    const plain = await worker();
    const link = await plain.create({ target_url: "https://www.bad.example/x" });
    await plain.get(`/${link.key}`);
    const cached = await plain.until(() => plain.kv.get(`link:${link.key}`), "KV fill");

    const w = await worker({ vars: { BLOCKED_HOSTS: "bad.example, Worse.Example." } });
    const refused = await w.post("/url", { target_url: "https://sub.worse.example/" });
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).detail, /blocked/);
    // The same link in a deployment that blocked its host later: from D1 and from KV.
    await w.db.prepare("INSERT INTO links (key, target_url, target_host, secret_hash, created_at, updated_at) VALUES ('blockedlater', 'https://www.bad.example/x', 'www.bad.example', ?1, 0, 0)").bind("a".repeat(64)).run();
    const res = await w.get("/blockedlater");
    assert.equal(res.status, 410);
    assert.match((await res.json()).detail, /blocked/);
    await w.kv.put("link:blockedlater", cached);
    assert.equal((await w.get("/blockedlater")).status, 410);
    assert.equal((await w.post("/url", { target_url: "https://notbad.example/" })).status, 201);
  });
});

describe("CORS", () => {
  test("only configured origins may read API answers, and preflights are answered", async () => {
    const w = await worker({ vars: { CORS_ORIGINS: "https://app.example" } });
    const ok = await w.fetch("/url", { method: "POST", headers: { "content-type": "application/json", origin: "https://app.example" }, body: JSON.stringify({ target_url: "https://example.com/" }) });
    assert.equal(ok.status, 201);
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example");
    assert.match(ok.headers.get("vary"), /Origin/);
    const other = await w.fetch("/", { headers: { origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const pre = await w.fetch("/url", { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-methods"), "POST");
    assert.match(pre.headers.get("access-control-allow-headers"), /Content-Type/);
    const denied = await w.fetch("/url", { method: "OPTIONS", headers: { origin: "https://evil.example" } });
    assert.equal(denied.status, 405);
    const none = await worker();
    assert.equal((await none.fetch("/", { headers: { origin: "https://app.example" } })).headers.get("access-control-allow-origin"), null);
  });
});

describe("security headers", () => {
  test("JSON, redirects and HTML carry nosniff and a referrer policy; HTML a strict CSP", async () => {
    const w = await worker();
    const link = await w.create({ target_url: "https://example.com/h" });
    for (const res of [await w.get("/"), await w.get(`/${link.key}`), await w.get("/nope-nope"), await w.get("/docs"), await w.get(`/${link.key}/qr`)]) {
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
    }
    const csp = (await w.get("/docs")).headers.get("content-security-policy");
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
    await keep(await w.get(`/${link.key}`));
    await keep(await w.get(`/admin/${secret}/stats?days=0`));
    await keep(await w.fetch(`/admin/${secret}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: "{bad" }));
    await keep(await w.fetch(`/admin/${secret}`, { method: "PUT" }));
    await keep(await w.fetch(`/admin/${secret.toUpperCase()}x`));
    await keep(await w.fetch("/api/links", { headers: { authorization: `Bearer ${token}x` } }));
    await keep(await w.fetch("/api/links/export", { headers: { authorization: `Bearer ${token}` } }));
    // Make the worker log: a failing click write after the redirect.
    await w.db.prepare("DROP TABLE visits").run();
    await keep(await w.get(`/${link.key}`));
    await w.until(() => w.log.lines.some((l) => l.includes("not recorded")), "a log line");
    await w.delete(`/admin/${secret}`);
    await sleep(200);
    const kvValues = await Promise.all((await w.kv.list()).keys.map((k) => w.kv.get(k.name)));
    const everything = [...w.log.lines, ...kvValues.filter(Boolean), ...bodies.slice(1)].join("\n");
    for (const s of [secret, secret.split("_").pop(), token]) {
      assert.ok(!everything.toLowerCase().includes(s.toLowerCase()), `found a secret: ${s}`);
    }
    assert.ok(w.log.lines.length > 0, "the scan saw some log lines");
  });
});
