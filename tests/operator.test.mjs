// Black-box tests of the operator API (/api/links...), which exists only when the
// ADMIN_TOKEN secret is set and answers only to its bearer token.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./harness.mjs";

const TOKEN = "operator-token-for-tests-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };
let w;
before(async () => {
  w = await startWorker({ vars: { ADMIN_TOKEN: TOKEN } });
});
after(() => w.dispose());

const api = (path, init = {}) => w.fetch(path, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });
const apiJson = (path, method, body) =>
  api(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("access", () => {
  test("without ADMIN_TOKEN every /api path answers 404", async () => {
    const plain = await startWorker();
    try {
      for (const path of ["/api/links", "/api/links/export", "/api/links/abc", "/api/nothing"]) {
        const res = await plain.fetch(path, { headers: auth });
        assert.equal(res.status, 404, path);
        assert.ok((await res.json()).detail);
      }
    } finally {
      await plain.dispose();
    }
  });

  test("a missing or wrong token answers 401 with WWW-Authenticate", async () => {
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
    const link = await w.create({ target_url: "https://example.com/op" });
    const shown = await (await api(`/api/links/${link.key.toUpperCase()}`)).json();
    assert.equal(shown.key, link.key);
    assert.equal(shown.target_url, "https://example.com/op");
    assert.ok(!("secret_key" in shown) && !("admin_url" in shown));
    const patched = await apiJson(`/api/links/${link.key}`, "PATCH", { target_url: "https://example.com/op2" });
    assert.equal(patched.status, 200);
    assert.equal((await w.get(`/${link.key}`)).headers.get("location"), "https://example.com/op2");
    const deleted = await api(`/api/links/${link.key}`, { method: "DELETE" });
    assert.match((await deleted.json()).detail, /Successfully deleted shortened URL for 'https:\/\/example.com\/op2'/);
    assert.equal((await w.get(`/${link.key}`)).status, 410);
    assert.equal((await api("/api/links/nosuchkey")).status, 404);
    assert.equal((await api(`/api/links/${link.key}`, { method: "POST" })).status, 405);
  });
});

describe("listing", () => {
  test("pages newest first with a cursor and filters by target host", async () => {
    const made = [];
    for (let i = 0; i < 7; i++) {
      made.push(await w.create({ target_url: `https://list${i % 2}.example/${i}` }));
    }
    const seen = [];
    let cursor = "";
    for (let page = 0; page < 20; page++) {
      const res = await api(`/api/links?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.ok(body.links.length <= 3);
      seen.push(...body.links);
      if (!body.next_cursor) break;
      cursor = body.next_cursor;
    }
    const total = (await w.db.prepare("SELECT COUNT(*) AS n FROM links").first()).n;
    assert.equal(seen.length, total);
    assert.equal(new Set(seen.map((l) => l.key)).size, total);
    const created = seen.map((l) => l.created_at);
    assert.deepEqual(created, [...created].sort().reverse());
    assert.ok(seen.every((l) => !("secret_key" in l)));

    const filtered = await (await api("/api/links?q=LIST1.example&limit=100")).json();
    assert.deepEqual(
      filtered.links.map((l) => l.key).sort(),
      made.filter((_, i) => i % 2 === 1).map((l) => l.key).sort(),
    );
    assert.equal(filtered.next_cursor, null);
  });

  test("bad limits and cursors answer 400", async () => {
    for (const q of ["limit=0", "limit=101", "limit=x", "cursor=garbage", "cursor=12.a%20b"]) {
      assert.equal((await api(`/api/links?${q}`)).status, 400, q);
    }
  });
});

describe("bulk creation", () => {
  test("answers one result per item, in order, and inserts the good ones", async () => {
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
    const res = await apiJson("/api/links/bulk", "POST", items);
    assert.equal(res.status, 200);
    const { results } = await res.json();
    assert.deepEqual(results.map((r) => r.status), [201, 400, 409, 201, 409, 201, 400, 422]);
    assert.equal(results[3].link.key, "bulk-new");
    for (const i of [0, 3, 5]) {
      const r = results[i];
      assert.ok(r.link.secret_key.startsWith(`${r.link.key}_`));
      const row = await w.row(r.link.key);
      assert.equal(row.target_url, r.link.target_url);
      assert.equal((await w.get(`/${r.link.key}`)).status, 302);
    }
    assert.equal(results[5].link.max_clicks, 2);
    assert.ok(results[1].detail && results[2].detail && results[7].detail);
  });

  test("refuses bodies that are not an array of 1 to 100 items", async () => {
    for (const body of [{}, [], Array.from({ length: 101 }, () => ({ target_url: "https://example.com/" }))]) {
      assert.equal((await apiJson("/api/links/bulk", "POST", body)).status, 422);
    }
    const hundred = Array.from({ length: 100 }, (_, i) => ({ target_url: `https://example.com/h${i}` }));
    const res = await apiJson("/api/links/bulk", "POST", hundred);
    const { results } = await res.json();
    assert.equal(results.filter((r) => r.status === 201).length, 100);
    assert.equal(new Set(results.map((r) => r.link.key)).size, 100);
  });
});

describe("export", () => {
  test("streams every link as JSON Lines without secrets", async () => {
    const res = await api("/api/links/export");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-ndjson");
    const text = await res.text();
    assert.ok(text.endsWith("\n"));
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l));
    const total = (await w.db.prepare("SELECT COUNT(*) AS n FROM links").first()).n;
    // A finished export ends with a line saying so, which a broken-off stream lacks.
    assert.deepEqual(lines.pop(), { export: "complete", links: total, skipped: 0 });
    assert.equal(lines.length, total);
    assert.equal(new Set(lines.map((l) => l.key)).size, total);
    const hashes = (await w.db.prepare("SELECT secret_hash FROM links").all()).results.map((r) => r.secret_hash);
    assert.ok(lines.every((l) => !("secret_key" in l) && !("admin_url" in l) && !("secret_hash" in l)));
    assert.ok(!hashes.some((h) => text.includes(h)));
  });

  test("pages through more links than one D1 query returns", async () => {
    const before = (await w.db.prepare("SELECT COUNT(*) AS n FROM links").first()).n;
    const now = Date.now();
    const stmts = Array.from({ length: 1200 }, (_, i) =>
      w.db
        .prepare("INSERT INTO links (key, target_url, secret_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)")
        .bind(`bulkexport-${i}`, `https://example.com/e${i}`, i.toString(16).padStart(64, "0"), now + (i % 3)),
    );
    await w.db.batch(stmts);
    const text = await (await api("/api/links/export")).text();
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.pop(), { export: "complete", links: before + 1200, skipped: 0 });
    const keys = lines.map((l) => l.key);
    assert.equal(keys.length, before + 1200);
    assert.equal(new Set(keys).size, keys.length);
  });
});
