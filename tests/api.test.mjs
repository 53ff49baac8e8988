// Black-box tests of the v1 API against the built wasm under Miniflare, with real local
// D1 and KV. State is checked through the bindings, the way an operator would see it.
// One worker for the file: each test uses only the links it creates, under its own
// targets and custom keys.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { readJson, workerForFile } from "./harness.mjs";

const ALPHABET = /^[23456789abcdefghjkmnpqrstuvwxyz]{8}$/;
const sha256 = (s) => createHash("sha256").update(s).digest("hex");

const w = await workerForFile();

async function expectError(res, status, detailPattern) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}`);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  const body = await res.json();
  assert.equal(typeof body.detail, "string");
  if (detailPattern) assert.match(body.detail, detailPattern);
  return body;
}

describe("POST /url", () => {
  test("creates a link and answers 201 with every documented field", async () => {
    const res = await w.tryCreate({ target_url: "HTTPS://Example.COM/a b?x=1" });

    assert.equal(res.status, 201);
    assert.match(res.headers.get("content-type"), /^application\/json/);
    const body = await res.json();
    assert.match(body.key, ALPHABET);
    assert.equal(body.target_url, "https://example.com/a%20b?x=1");
    assert.equal(body.is_active, true);
    assert.equal(body.clicks, 0);
    assert.equal(body.url, `http://localhost/${body.key}`);
    assert.equal(body.tiny_url, body.url);
    assert.equal(body.admin_url, `http://localhost/admin/${body.secret_key}`);
    assert.match(body.secret_key, new RegExp(`^${body.key}_[23456789a-hjkmnp-z]{27}$`));
    assert.match(body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(body.created_at) - Date.now()) < 60_000);
  });

  test("stores the hash of the secret, never the secret, and does not touch KV", async () => {
    const body = await w.create({ target_url: "https://example.com/stored" });

    const row = await w.row(body.key);
    assert.equal(row.target_url, "https://example.com/stored");
    assert.equal(row.secret_hash, sha256(body.secret_key));
    assert.ok(!Object.values(row).includes(body.secret_key));
    assert.equal(row.is_active, 1);
    assert.equal(await w.cached(body.key), null);
  });

  test("accepts the older field name `url` as an alias", async () => {
    const body = await w.create({ url: "https://example.com/alias" });

    assert.equal(body.target_url, "https://example.com/alias");
  });

  test("stores internationalized hosts as punycode", async () => {
    const body = await w.create({ target_url: "https://bücher.example/" });

    assert.equal(body.target_url, "https://xn--bcher-kva.example/");
  });

  test("maps every spelling of an internationalized host, and refuses hosts no parser accepts", async () => {
    // The runtime's URL parser maps these (the wasm carries no Unicode tables).
    for (const [raw, stored] of [
      ["https://例え.jp/a", "https://xn--r8jz45g.jp/a"],
      ["https://B%C3%BCcher.example/", "https://xn--bcher-kva.example/"],
      ["https://BÜCHER.example/ü?q=ü", "https://xn--bcher-kva.example/%C3%BC?q=%C3%BC"],
    ]) {
      assert.equal((await w.create({ target_url: raw })).target_url, stored, raw);
    }
    for (const raw of ["http://ex%00ample.com/", "https://bü cher.example/", "https://xn--zz.example/"]) {
      const res = await w.tryCreate({ target_url: raw });
      assert.equal(res.status, 400, raw);
      assert.match((await res.json()).detail, /target_url/, raw);
    }
    // Mapped hosts meet every rule after mapping: a Unicode spelling of localhost.
    const local = await w.tryCreate({ target_url: "https://ＬＯＣＡＬＨＯＳＴ/" });
    assert.equal(local.status, 400);
  });

  test("uses a custom key, lower-cased, and refuses it once taken with 409", async () => {
    const body = await w.create({ target_url: "https://example.com/c", custom_key: "My-Custom_Key" });

    const again = await w.tryCreate({ target_url: "https://example.com/d", custom_key: "MY-CUSTOM_KEY" });

    assert.equal(body.key, "my-custom_key");
    assert.ok(body.secret_key.startsWith("my-custom_key_"));
    await expectError(again, 409, /taken/);
    assert.equal((await w.row("my-custom_key")).target_url, "https://example.com/c");
  });

  test("refuses bad or reserved custom keys with 400", async () => {
    for (const custom_key of ["ab", "a".repeat(65), "has space", "dot.ted", "ünï", "admin", "URL", "api", "docs", "healthz", "static"]) {
      const res = await w.tryCreate({ target_url: "https://example.com/", custom_key });

      await expectError(res, 400, /custom_key/);
    }
  });

  test("refuses targets that are not acceptable URLs with 400", async () => {
    const bad = [
      "javascript:alert(1)",
      " JaVaScRiPt:alert(1)",
      "data:text/html,hi",
      "ftp://example.com/",
      "example.com",
      "//example.com",
      "https://user:pw@example.com/",
      "http://localhost/",
      "http://127.0.0.1/",
      "http://2130706433/",
      "http://[::1]/",
      "http://[::ffff:10.0.0.1]/",
      "http://192.168.0.1/",
      "http://169.254.169.254/",
      "http://0.0.0.0/",
      `https://example.com/${"a".repeat(2100)}`,
      "",
    ];
    for (const target_url of bad) {
      const res = await w.tryCreate({ target_url });

      await expectError(res, 400, /target_url/);
    }
  });

  test("refuses the service's own host as a target", async () => {
    const res = await w.fetch("http://sho.rt/url", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target_url: "https://SHO.RT./abc" }),
    });

    await expectError(res, 400, /shortener itself/);
  });

  test("answers 422 for bodies that are not a JSON object with a string target_url", async () => {
    const bodies = ["", "{", "not json", "[]", "null", '"https://example.com"', "{}", '{"target_url": 5}', '{"target_url": null}', '{"custom_key": "abc"}', '{"target_url": "https://a.com", "extra": 1}'];
    for (const body of bodies) {
      await expectError(await w.tryCreate(body), 422);
    }
  });

  test("answers 413 for a body over 8 KiB and 415 for a non-JSON content type", async () => {
    const big = JSON.stringify({ target_url: `https://example.com/${"a".repeat(9000)}` });

    const tooBig = await w.tryCreate(big);
    const form = await w.tryCreate("target_url=https://example.com", { headers: { "content-type": "application/x-www-form-urlencoded" } });

    await expectError(tooBig, 413, /8192/);
    await expectError(form, 415);
  });
});

describe("GET /{key}", () => {
  test("redirects with 302, the documented Cache-Control, and counts one click", async () => {
    const link = await w.create({ target_url: "https://example.com/go" });

    const res = await w.visit(link.key);

    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://example.com/go");
    assert.equal(res.headers.get("cache-control"), "private, max-age=0");
    assert.equal(await w.settleClicks(link.key, 1), 1);
  });

  test("matches keys case-insensitively", async () => {
    const link = await w.create({ target_url: "https://example.com/case", custom_key: "CaseKey" });

    const res = await w.visit("CASEKEY");

    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://example.com/case");
    assert.equal(await w.settleClicks(link.key, 1), 1);
  });

  test("fills KV on the first visit and redirects from the cache afterwards", async () => {
    const link = await w.create({ target_url: "https://example.com/cached" });

    await w.visit(link.key);
    const cached = await w.waitUntilCached(link.key);
    await w.settleClicks(link.key, 1);
    // With the row gone from D1, only a cache can still answer the redirect.
    await w.eraseFromD1(link.key);
    const res = await w.visit(link.key);

    assert.ok(cached.endsWith("\nhttps://example.com/cached"), JSON.stringify(cached));
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://example.com/cached");
  });

  test("HEAD answers the same redirect and counts nothing", async () => {
    const link = await w.create({ target_url: "https://example.com/head" });

    const res = await w.visit(link.key, { method: "HEAD" });
    await w.visit(link.key); // one counted visit, to know when writes have landed

    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://example.com/head");
    assert.equal(res.headers.get("cache-control"), "private, max-age=0");
    assert.equal(await w.settleClicks(link.key, 1), 1);
  });

  test("200 concurrent visits leave exactly 200 clicks", async () => {
    const link = await w.create({ target_url: "https://example.com/busy" });

    const responses = await w.visitConcurrently(link.key, 200);

    assert.ok(responses.every((r) => r.status === 302));
    assert.equal(await w.settleClicks(link.key, 200), 200);
  });

  test("answers 404 JSON for an unknown key", async () => {
    await expectError(await w.visit("nosuchkey"), 404);
    await expectError(await w.peek("nosuchkey"), 404);
  });
});

describe("GET /{key}+", () => {
  test("peeks at the target without counting a click", async () => {
    const link = await w.create({ target_url: "https://example.com/peek" });

    const res = await w.peek(link.key);
    await w.visit(link.key);

    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      key: link.key,
      url: `http://localhost/${link.key}`,
      target_url: "https://example.com/peek",
    });
    assert.equal(await w.settleClicks(link.key, 1), 1);
  });
});

describe("/admin/{secret_key}", () => {
  test("GET shows the link with the creation fields and current clicks", async () => {
    const link = await w.create({ target_url: "https://example.com/admin" });
    await w.visit(link.key);
    await w.settleClicks(link.key, 1);

    const res = await w.showAdmin(link);

    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.deepEqual(await res.json(), { ...link, clicks: 1 });
  });

  test("DELETE deactivates: the row stays, KV is cleared, and the link answers 410 at once", async () => {
    const link = await w.create({ target_url: "https://example.com/bye" });
    await w.visit(link.key);
    await w.waitUntilCached(link.key);

    const res = await w.deactivate(link);

    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      detail: `Deactivated: the short link to 'https://example.com/bye' no longer redirects. This can be undone: PATCH with {"is_active": true} reactivates it.`,
    });
    assert.equal(await w.cached(link.key), null);
    await expectError(await w.visit(link.key), 410);
    assert.equal((await w.visit(link.key, { method: "HEAD" })).status, 410);
    await expectError(await w.peek(link.key), 410);

    const again = await w.deactivate(link);
    assert.equal(again.status, 200);
    assert.match((await again.json()).detail, /^Deactivated: .* This can be undone/);

    const row = await w.row(link.key);
    assert.equal(row.is_active, 0);
    assert.equal(row.target_url, "https://example.com/bye");
    // The visit before the DELETE counts, even if its write lands after it.
    assert.equal(await w.settleClicks(link.key, 1), 1);
    const shown = await readJson(w.showAdmin(link));
    assert.equal(shown.is_active, false);
    assert.equal(shown.clicks, 1);
  });

  test("visiting a deactivated link never puts it back into KV", async () => {
    const link = await w.create({ target_url: "https://example.com/stale" });
    await w.deactivate(link);

    const res = await w.visit(link.key);
    // A sleep on purpose: a fill would land after the response, and what is proven
    // here is that none does.
    await sleep(200);

    assert.equal(res.status, 410);
    assert.equal(await w.cached(link.key), null);
  });

  test("unknown or malformed secrets answer 404", async () => {
    const link = await w.create({ target_url: "https://example.com/secret" });
    const wrong = link.secret_key.slice(0, -1) + (link.secret_key.endsWith("a") ? "b" : "a");

    await expectError(await w.showAdmin(wrong), 404);
    await expectError(await w.deactivate(wrong), 404);
    await expectError(await w.showAdmin(link.key), 404);
    await expectError(await w.get("/admin/"), 404);
    await expectError(await w.showAdmin("x".repeat(500)), 404);
    assert.equal((await w.row(link.key)).is_active, 1);
  });
});

describe("service endpoints and routing", () => {
  test("GET / welcomes and GET /healthz reports ok after a D1 query", async () => {
    const home = await w.get("/");
    const health = await w.get("/healthz");

    assert.equal(home.status, 200);
    assert.match((await home.json()).message, /short link/);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
  });

  test("known paths with the wrong method answer 405 with Allow", async () => {
    const cases = [
      ["GET", "/url", "POST"],
      ["PUT", "/url", "POST"],
      // POST /{key} is a protected link's password form (see controls.test.mjs).
      ["DELETE", "/abcdef", "GET, HEAD, POST"],
      ["POST", "/", "GET, HEAD"],
      ["POST", "/healthz", "GET, HEAD"],
      ["PROPFIND", "/abcdef", "GET, HEAD, POST"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await w.fetch(path, { method });

      await expectError(res, 405);
      assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
    }
    const link = await w.create({ target_url: "https://example.com/m" });

    const res = await w.fetch(`/admin/${link.secret_key}`, { method: "PUT" });

    await expectError(res, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD, POST, PATCH, DELETE");
  });

  test("paths that cannot name a link answer 404 JSON", async () => {
    for (const path of ["/ab", "/abc/def", "/abc/", "/%F0%9F%98%80", "/a.b.c", "/admin", "/api", "/url/", `/${"a".repeat(65)}`]) {
      await expectError(await w.get(path), 404);
    }
  });

  test("every response carries nosniff and a referrer policy", async () => {
    for (const res of [await w.get("/"), await w.visit("nope12"), await w.tryCreate("{")]) {
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.ok(res.headers.get("referrer-policy"));
    }
  });
});
