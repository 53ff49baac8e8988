// Key collisions made frequent: the test-only KEY_LENGTH=3 leaves 31^3 = 29,791 keys,
// and most of them are taken up front. Concurrent creations must never produce two
// rows with one key, must retry a bounded number of times, and must answer 503 with a
// clear detail once the space is exhausted.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./harness.mjs";

const ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
let w;
before(async () => {
  w = await startWorker({ vars: { KEY_LENGTH: "3" } });
});
after(() => w.dispose());

/** Takes every 3-symbol key whose index modulo 10 is below `tenths`, in one statement. */
async function takeKeys(tenths) {
  await w.db
    .prepare(
      `WITH RECURSIVE s(i, c) AS (SELECT 1, substr(?1, 1, 1) UNION ALL SELECT i + 1, substr(?1, i + 1, 1) FROM s WHERE i < 31)
       INSERT OR IGNORE INTO links (key, target_url, secret_hash, created_at, updated_at)
       SELECT a.c || b.c || c.c, 'https://example.com/taken', lower(hex(randomblob(32))), 0, 0
       FROM s a, s b, s c WHERE ((a.i - 1) * 961 + (b.i - 1) * 31 + (c.i - 1)) % 10 < ?2`,
    )
    .bind(ALPHABET, tenths)
    .run();
}

async function count() {
  return (await w.db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS d FROM links").first());
}

test("with 90% of keys taken, concurrent creations retry, never duplicate, and 503 when out of tries", async () => {
  await takeKeys(9);
  const before = await count();
  const responses = await Promise.all(
    Array.from({ length: 200 }, (_, i) => w.post("/url", { target_url: `https://example.com/c${i}` })),
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
  const after = await count();
  assert.equal(after.n, after.d, "two rows share a key");
  assert.equal(after.n - before.n, created.length);
  assert.match((await refused[0].json()).detail, /free short key/);
});

test("with every key taken, creation answers 503 and writes nothing; custom keys still work", async () => {
  await takeKeys(10);
  const before = await count();
  assert.equal(before.n >= 29791, true);
  const res = await w.post("/url", { target_url: "https://example.com/full" });
  assert.equal(res.status, 503);
  assert.match((await res.json()).detail, /choose a custom_key/);
  assert.equal((await count()).n, before.n);
  assert.equal((await w.post("/url", { target_url: "https://example.com/full", custom_key: "still-room" })).status, 201);
});
