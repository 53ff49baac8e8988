// Black-box tests of the operator API (/api/links...), which exists only when the
// ADMIN_TOKEN secret is set and answers only to its bearer token. Listing and export
// are checked against every row of the table, so each test gets a fresh worker.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readJson, workerPerTest } from "./harness.mjs";

const TOKEN = "operator-token-for-tests-0123456789";
const worker = workerPerTest();
const withOperatorApi = () => worker({ vars: { ADMIN_TOKEN: TOKEN } });

describe("access", () => {
  test("without ADMIN_TOKEN every /api path answers 404", async () => {
    const plain = await worker();
    for (const path of ["/api/links", "/api/links/export", "/api/links/abc", "/api/nothing"]) {
      const res = await plain.operator(path, { token: TOKEN });

      assert.equal(res.status, 404, path);
      assert.ok((await res.json()).detail);
    }
  });

  test("a missing or wrong token answers 401 with WWW-Authenticate", async () => {
    const w = await withOperatorApi();
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Bearer ${TOKEN.slice(0, -1)}` }]) {
      const res = await w.fetch("/api/links", { headers });

      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.headers.get("www-authenticate"), "Bearer");
      assert.ok(!(await res.text()).includes(TOKEN));
    }
    assert.equal((await w.fetch("/api/links", { method: "PUT" })).status, 401);
  });
});

describe("links by key", () => {
  test("GET, PATCH and DELETE work like the owner's endpoints, without secrets", async () => {
    const w = await withOperatorApi();
    const link = await w.create({ target_url: "https://example.com/op" });

    const shown = await readJson(w.operator(`/api/links/${link.key.toUpperCase()}`));
    assert.equal(shown.key, link.key);
    assert.equal(shown.target_url, "https://example.com/op");
    assert.ok(!("secret_key" in shown) && !("admin_url" in shown));

    const patched = await w.operator(`/api/links/${link.key}`, { method: "PATCH", json: { target_url: "https://example.com/op2" } });
    assert.equal(patched.status, 200);
    assert.equal((await w.visit(link.key)).headers.get("location"), "https://example.com/op2");

    const deleted = await w.operator(`/api/links/${link.key}`, { method: "DELETE" });
    assert.match((await deleted.json()).detail, /^Deactivated: the short link to 'https:\/\/example.com\/op2' no longer redirects\. This can be undone/);
    assert.equal((await w.visit(link.key)).status, 410);

    assert.equal((await w.operator("/api/links/nosuchkey")).status, 404);
    assert.equal((await w.operator(`/api/links/${link.key}`, { method: "POST" })).status, 405);
  });
});

describe("listing", () => {
  test("pages newest first with a cursor and filters by target host", async () => {
    const w = await withOperatorApi();
    const made = [];
    for (let i = 0; i < 7; i++) {
      made.push(await w.create({ target_url: `https://list${i % 2}.example/${i}` }));
    }

    const seen = [];
    let cursor = "";
    for (let page = 0; page < 20; page++) {
      const res = await w.operator(`/api/links?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.ok(body.links.length <= 3);
      seen.push(...body.links);
      if (!body.next_cursor) break;
      cursor = body.next_cursor;
    }
    const filtered = await readJson(w.operator("/api/links?q=LIST1.example&limit=100"));

    const total = await w.linkCount();
    assert.equal(seen.length, total);
    assert.equal(new Set(seen.map((l) => l.key)).size, total);
    const created = seen.map((l) => l.created_at);
    assert.deepEqual(created, [...created].sort().reverse());
    assert.ok(seen.every((l) => !("secret_key" in l)));
    assert.deepEqual(
      filtered.links.map((l) => l.key).sort(),
      made.filter((_, i) => i % 2 === 1).map((l) => l.key).sort(),
    );
    assert.equal(filtered.next_cursor, null);
  });

  test("bad limits and cursors answer 400", async () => {
    const w = await withOperatorApi();
    for (const q of ["limit=0", "limit=101", "limit=x", "cursor=garbage", "cursor=12.a%20b"]) {
      const res = await w.operator(`/api/links?${q}`);

      assert.equal(res.status, 400, q);
    }
  });
});

describe("bulk creation", () => {
  test("answers one result per item, in order, and inserts the good ones", async () => {
    const w = await withOperatorApi();
    await w.create({ target_url: "https://example.com/taken", custom_key: "bulk-taken" });
    const items = [
      { target_url: "https://example.com/b1" },
      { target_url: "javascript:alert(1)" },
      { target_url: "https://example.com/b3", custom_key: "bulk-taken" },
      { target_url: "https://example.com/b4", custom_key: "Bulk-New" },
      { target_url: "https://example.com/b5", custom_key: "bulk-new" },
      { url: "https://example.com/b6", max_clicks: 2 },
      { target_url: "https://example.com/b7", reuse: true },
      "not an object",
    ];

    const res = await w.operator("/api/links/bulk", { method: "POST", json: items });

    assert.equal(res.status, 200);
    const { results } = await res.json();
    assert.deepEqual(results.map((r) => r.status), [201, 400, 409, 201, 409, 201, 400, 422]);
    assert.equal(results[3].link.key, "bulk-new");
    for (const i of [0, 3, 5]) {
      const r = results[i];
      assert.ok(r.link.secret_key.startsWith(`${r.link.key}_`));
      const row = await w.row(r.link.key);
      assert.equal(row.target_url, r.link.target_url);
      assert.equal((await w.visit(r.link.key)).status, 302);
    }
    assert.equal(results[5].link.max_clicks, 2);
    assert.ok(results[1].detail && results[2].detail && results[7].detail);
  });

  test("refuses bodies that are not an array of 1 to 100 items", async () => {
    const w = await withOperatorApi();
    for (const body of [{}, [], Array.from({ length: 101 }, () => ({ target_url: "https://example.com/" }))]) {
      const res = await w.operator("/api/links/bulk", { method: "POST", json: body });

      assert.equal(res.status, 422);
    }
    const hundred = Array.from({ length: 100 }, (_, i) => ({ target_url: `https://example.com/h${i}` }));

    const { results } = await readJson(w.operator("/api/links/bulk", { method: "POST", json: hundred }));

    assert.equal(results.filter((r) => r.status === 201).length, 100);
    assert.equal(new Set(results.map((r) => r.link.key)).size, 100);
  });
});

describe("export", () => {
  test("streams every link as JSON Lines without secrets", async () => {
    const w = await withOperatorApi();
    for (let i = 0; i < 3; i++) await w.create({ target_url: `https://example.com/x${i}` });

    const res = await w.operator("/api/links/export");

    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-ndjson");
    const text = await res.text();
    assert.ok(text.endsWith("\n"));
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l));
    const total = await w.linkCount();
    // A finished export ends with a line saying so, which a broken-off stream lacks.
    assert.deepEqual(lines.pop(), { export: "complete", links: total, skipped: 0 });
    assert.equal(lines.length, total);
    assert.equal(new Set(lines.map((l) => l.key)).size, total);
    const hashes = (await w.db.prepare("SELECT secret_hash FROM links").all()).results.map((r) => r.secret_hash);
    assert.ok(lines.every((l) => !("secret_key" in l) && !("admin_url" in l) && !("secret_hash" in l)));
    assert.ok(!hashes.some((h) => text.includes(h)));
  });

  test("pages through more links than one D1 query returns", async () => {
    const w = await withOperatorApi();
    const before = await w.linkCount();
    // 1,200 links in one statement: as 1,200 statements in a batch they took 9 s to send.
    await w.db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1199)
         INSERT INTO links (key, target_url, secret_hash, created_at, updated_at, stats_key)
         SELECT 'bulkexport-' || i, 'https://example.com/e' || i, printf('%064x', i), ?1 + i % 3, ?1 + i % 3,
                'bulkexport-' || i FROM n`,
      )
      .bind(Date.now())
      .run();

    const text = await (await w.operator("/api/links/export")).text();

    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.pop(), { export: "complete", links: before + 1200, skipped: 0 });
    const keys = lines.map((l) => l.key);
    assert.equal(keys.length, before + 1200);
    assert.equal(new Set(keys).size, keys.length);
  });
});
