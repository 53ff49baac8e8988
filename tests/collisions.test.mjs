// Key collisions made frequent: the test-only KEY_LENGTH=3 leaves 31^3 = 29,791 keys,
// and most of them are taken up front. Concurrent creations must never produce two
// rows with one key, must retry a bounded number of times, and must answer 503 with a
// clear detail once the space is exhausted. Each test fills the key space to its own
// level, so each gets a fresh worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { workerPerTest } from "./harness.mjs";

const ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
const worker = workerPerTest();
const withThreeSymbolKeys = () => worker({ vars: { KEY_LENGTH: "3" } });

/** Takes every 3-symbol key whose index modulo 10 is below `tenths`, in one statement. */
async function takeKeys(w, tenths) {
  await w.db
    .prepare(
      `WITH RECURSIVE s(i, c) AS (SELECT 1, substr(?1, 1, 1) UNION ALL SELECT i + 1, substr(?1, i + 1, 1) FROM s WHERE i < 31)
       INSERT OR IGNORE INTO links (key, target_url, secret_hash, created_at, updated_at, stats_key)
       SELECT a.c || b.c || c.c, 'https://example.com/taken', lower(hex(randomblob(32))), 0, 0, a.c || b.c || c.c
       FROM s a, s b, s c WHERE ((a.i - 1) * 961 + (b.i - 1) * 31 + (c.i - 1)) % 10 < ?2`,
    )
    .bind(ALPHABET, tenths)
    .run();
}

/** Rows in the links table, and distinct keys among them. */
async function count(w) {
  return w.db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS d FROM links").first();
}

test("with 90% of keys taken, concurrent creations retry, never duplicate, and 503 when out of tries", async () => {
  const w = await withThreeSymbolKeys();
  await takeKeys(w, 9);
  const before = await count(w);

  const responses = await Promise.all(
    Array.from({ length: 200 }, (_, i) => w.tryCreate({ target_url: `https://example.com/c${i}` })),
  );

  const statuses = responses.map((r) => r.status);
  const created = responses.filter((r) => r.status === 201);
  const refused = responses.filter((r) => r.status === 503);
  assert.equal(created.length + refused.length, 200, `unexpected statuses: ${statuses}`);
  // Five tries each at a 10% chance: about 41% succeed. Both outcomes must occur.
  assert.ok(created.length > 20 && refused.length > 20, `${created.length} created, ${refused.length} refused`);
  const keys = await Promise.all(created.map((r) => r.json().then((b) => b.key)));
  assert.ok(keys.every((k) => /^[23456789a-hjkmnp-z]{3}$/.test(k)));
  assert.equal(new Set(keys).size, keys.length);
  const after = await count(w);
  assert.equal(after.n, after.d, "two rows share a key");
  assert.equal(after.n - before.n, created.length);
  assert.match((await refused[0].json()).detail, /free short key/);
});

test("with every key taken, creation answers 503 and writes nothing; custom keys still work", async () => {
  const w = await withThreeSymbolKeys();
  await takeKeys(w, 10);
  const before = await count(w);
  assert.equal(before.n >= 29791, true);

  const res = await w.tryCreate({ target_url: "https://example.com/full" });

  assert.equal(res.status, 503);
  assert.match((await res.json()).detail, /choose a custom_key/);
  assert.equal((await count(w)).n, before.n);

  const custom = await w.tryCreate({ target_url: "https://example.com/full", custom_key: "still-room" });

  assert.equal(custom.status, 201);
});
