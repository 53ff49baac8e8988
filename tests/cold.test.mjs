// The cold path as deployed: which cache misses fill the caches (the admission policy of
// wrangler.toml's CACHE_AFTER_MISSES, which the other test files set to the first miss),
// and the D1 session bookmarks that let an owner read their own writes from a replica.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { workerPerTest, wranglerConfig } from "./harness.mjs";

const worker = workerPerTest();
const deployed = () => ({ vars: { CACHE_AFTER_MISSES: wranglerConfig().vars.CACHE_AFTER_MISSES } });

describe("cache admission (deployed default: the second miss)", () => {
  test("the default in wrangler.toml is the second miss", () => {
    assert.equal(wranglerConfig().vars.CACHE_AFTER_MISSES, "2");
  });

  test("a link visited once is redirected and counted but never written to KV; its second miss caches it", async () => {
    const w = await worker(deployed());
    const link = await w.create({ target_url: "https://example.com/once" });

    const first = await w.visit(link.key);
    // The click is written after the fill would have been (same waitUntil), so once it
    // landed, a fill would have too.
    await w.settleClicks(link.key, 1);
    const afterFirst = await w.cached(link.key);
    const second = await w.visit(link.key);
    const cached = await w.waitUntilCached(link.key);

    assert.equal(first.status, 302);
    assert.equal(first.headers.get("location"), "https://example.com/once");
    assert.equal(afterFirst, null);
    assert.equal(second.headers.get("location"), "https://example.com/once");
    assert.ok(cached.endsWith("\nhttps://example.com/once"), cached);
    assert.equal(await w.settleClicks(link.key, 2), 2);
  });

  test("a link's first miss is not cached even in memory: an edit elsewhere shows at once", async () => {
    const w = await worker(deployed());
    const link = await w.create({ target_url: "https://example.com/first" });
    await w.visit(link.key);
    await w.settleClicks(link.key, 1);

    // Changed behind the worker's back (as another isolate's edit would be).
    await w.db.prepare("UPDATE links SET target_url = 'https://example.com/second', version = version + 1 WHERE key = ?1").bind(link.key).run();

    assert.equal((await w.visit(link.key)).headers.get("location"), "https://example.com/second");
  });

  test("a slow fill on the second miss, racing a deactivation, does not bring the old target back", async () => {
    const w = await worker({ ...deployed(), kvFault: "slow", putDelayMs: 600 });
    const link = await w.create({ target_url: "https://example.com/race2" });
    await w.visit(link.key);
    await w.settleClicks(link.key, 1);

    // The second miss reads D1 (active), answers, and starts a KV fill that lands 600 ms later.
    const visit = await w.visit(link.key);
    // A sleep on purpose: the deactivation must land while the fill is in flight.
    await sleep(100);
    const deactivated = await w.deactivate(link);
    // A sleep on purpose: it outlasts the late fill and the re-check that follows it.
    await sleep(1500);

    assert.equal(visit.status, 302);
    assert.equal(deactivated.status, 200);
    assert.equal(await w.cached(link.key), null);
    assert.equal((await w.visit(link.key)).status, 410);
  });
});

describe("D1 session bookmarks", () => {
  const BOOKMARK = /^[0-9a-f-]{8,}$/;

  test("writes and owner reads hand back a bookmark, and a read sent with it sees the write", async () => {
    const w = await worker();
    const created = await w.tryCreate({ target_url: "https://example.com/bm" });
    const link = await created.json();
    const afterCreate = created.headers.get("x-d1-bookmark");

    const patched = await w.patch(link, { target_url: "https://example.com/bm2" });
    const afterPatch = patched.headers.get("x-d1-bookmark");
    const read = await w.get(`/admin/${link.secret_key}`, { "x-d1-bookmark": afterPatch });
    const readBody = await read.json();

    assert.equal(created.status, 201);
    assert.match(afterCreate, BOOKMARK);
    assert.equal(patched.status, 200);
    assert.match(afterPatch, BOOKMARK);
    // Bookmarks order the database's history: the patch came after the creation.
    assert.ok(afterPatch >= afterCreate, `${afterPatch} < ${afterCreate}`);
    assert.equal(read.status, 200);
    assert.equal(readBody.target_url, "https://example.com/bm2");
    assert.ok(read.headers.get("x-d1-bookmark") >= afterPatch);
  });

  test("a malformed bookmark is ignored (the read goes to the primary), and redirects carry none", async () => {
    const w = await worker();
    const link = await w.create({ target_url: "https://example.com/bm-junk" });

    const junk = [];
    for (const value of ["first-unconstrained", "not a bookmark", "x".repeat(500), "'; DROP TABLE links"]) {
      const res = await w.get(`/admin/${link.secret_key}`, { "x-d1-bookmark": value });
      junk.push([value, res.status, (await res.json()).key]);
    }
    const redirect = await w.visit(link.key, { headers: { "x-d1-bookmark": "garbage!" } });

    for (const [value, status, key] of junk) {
      assert.equal(status, 200, value);
      assert.equal(key, link.key, value);
    }
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("x-d1-bookmark"), null);
  });

  test("browser clients on an allowed origin may send and read the bookmark", async () => {
    const w = await worker({ vars: { CORS_ORIGINS: "https://app.example" } });
    const link = await w.create({ target_url: "https://example.com/bm-cors" });

    const preflight = await w.fetch("/url", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "x-d1-bookmark" },
    });
    const read = await w.get(`/admin/${link.secret_key}`, { origin: "https://app.example" });

    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get("access-control-allow-headers"), /X-D1-Bookmark/i);
    assert.match(read.headers.get("access-control-expose-headers"), /X-D1-Bookmark/i);
    assert.match(read.headers.get("x-d1-bookmark"), BOOKMARK);
  });
});
