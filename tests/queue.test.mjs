// Click recording through the optional CLICKS queue (Miniflare runs it locally): every
// redirect is counted once, in a handful of D1 statements, and a redelivered batch
// counts nothing twice. The first test sums every click and visit in the tables, so
// each test gets a fresh worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor, workerPerTest } from "./harness.mjs";

const worker = workerPerTest();
const withQueue = () => worker({ queue: true, vars: { BENCH_COUNTERS: "1" } });

/** One visit as the worker puts it in a click batch. */
const visitRecord = (id, key, extra = {}) => ({ id, key, at: Date.now(), ref: null, cc: null, dev: "desktop", bot: 0, ...extra });

test("500 redirects through the queue are all counted, with at most 20 D1 statements per 1,000", async () => {
  const w = await withQueue();
  const links = [];
  for (let i = 0; i < 5; i++) links.push(await w.create({ target_url: `https://example.com/q${i}` }));
  // Warm the caches so the count below is of click writes only.
  for (const link of links) await w.visit(link.key, { method: "HEAD" });
  for (const link of links) await w.waitUntilCached(link.key);
  const before = await w.counters();

  const responses = [];
  for (let round = 0; round < 5; round++) {
    responses.push(...(await Promise.all(Array.from({ length: 100 }, (_, i) => w.visit(links[i % 5].key)))));
  }
  await waitFor(async () => (await w.totalClicks()) >= 500, { timeout: 20000, message: "500 clicks" });
  // A sleep on purpose: it proves that no click is counted twice, which no poll can.
  await sleep(300);

  assert.ok(responses.every((r) => r.status === 302));
  assert.equal(await w.totalClicks(), 500);
  for (const link of links) assert.equal(await w.clicks(link.key), 100);
  const visits = await w.db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT visit_id) AS d FROM visits").first();
  assert.deepEqual(visits, { n: 500, d: 500 });
  const after = await w.counters();
  const perThousand = ((after.d1_statements - before.d1_statements) / 500) * 1000;
  assert.ok(perThousand <= 20, `${perThousand} D1 statements per 1,000 redirects`);
});

test("a redelivered batch adds nothing: visits are written once per id", async () => {
  const w = await withQueue();
  const link = await w.create({ target_url: "https://example.com/redelivered" });
  const queue = await w.clickQueue();
  const batch = { visits: [1, 2, 3].map((i) => visitRecord(`redelivery-${i}`, link.key, { cc: "DE" })) };
  // The worker sends each batch as JSON text.
  await queue.send(JSON.stringify(batch), { contentType: "text" });
  await waitFor(async () => (await w.clicks(link.key)) === 3, { message: "the first delivery" });

  await queue.send(JSON.stringify(batch), { contentType: "text" });
  // A batch sent as an object (the format before JSON text) is read too.
  await queue.send({ visits: [...batch.visits, { ...batch.visits[0], id: "redelivery-4" }] });
  await waitFor(async () => (await w.clicks(link.key)) >= 4, { timeout: 10000, message: "the new visit" });
  // A sleep on purpose: the redelivered visits would be counted after the new one, and
  // what is proven here is that they are not.
  await sleep(1500);

  assert.equal(await w.clicks(link.key), 4);
  assert.equal((await w.visitRows(link.key)).length, 4);
});

test("a message that is not a click batch is logged and dropped; the visits sent with it are written", async () => {
  const w = await withQueue();
  const link = await w.create({ target_url: "https://example.com/garbled" });
  const queue = await w.clickQueue();
  const visit = visitRecord("garbled-1", link.key, { dev: "bot", bot: 1 });

  await queue.sendBatch([
    { body: "{not json", contentType: "text" },
    { body: JSON.stringify({ visits: [visit] }), contentType: "text" },
  ]);

  await waitFor(async () => (await w.clicks(link.key)) === 1, { timeout: 10000, message: "the valid message's visit" });
  await w.waitForLog("click queue message dropped", 10000);
});
