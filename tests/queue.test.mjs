// Click recording through the optional CLICKS queue (Miniflare runs it locally): every
// redirect is counted once, in a handful of D1 statements, and a redelivered batch
// counts nothing twice, in the counters or the statistics. The first test sums every click and visit in the tables, so
// each test gets a fresh worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor, workerPerTest } from "./harness.mjs";

const worker = workerPerTest();
const withQueue = () => worker({ queue: true, vars: { BENCH_COUNTERS: "1" } });

/** One visit as the worker puts it in a click batch. */
const visitRecord = (key, extra = {}) => ({ key, at: Date.now(), ref: null, cc: null, dev: "desktop", bot: 0, ...extra });
let batches = 0;
/** A click batch id as the worker makes them: the sending time in 12 hex digits first. */
const clickBatchId = () => `${Date.now().toString(16).padStart(12, "0")}test${String(++batches).padStart(12, "0")}`;

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
  // It proves that no click is counted twice, which no poll can.
  await w.settleClickWindow();

  assert.ok(responses.every((r) => r.status === 302));
  assert.equal(await w.totalClicks(), 500);
  for (const link of links) assert.equal(await w.clicks(link.key), 100);
  assert.equal(await w.aggregatedClicks(), 500);
  const after = await w.counters();
  const perThousand = ((after.d1_statements - before.d1_statements) / 500) * 1000;
  assert.ok(perThousand <= 20, `${perThousand} D1 statements per 1,000 redirects`);
});

test("a redelivered batch adds nothing, to the counters or to the statistics", async () => {
  const w = await withQueue();
  const link = await w.create({ target_url: "https://example.com/redelivered" });
  const queue = await w.clickQueue();
  const batch = JSON.stringify({ batch: clickBatchId(), shard: 0, visits: [1, 2, 3].map(() => visitRecord(link.key, { cc: "DE" })) });
  // The worker sends each batch as JSON text.
  await queue.send(batch, { contentType: "text" });
  await waitFor(async () => (await w.clicks(link.key)) === 3, { message: "the first delivery" });

  await queue.send(batch, { contentType: "text" });
  // A new batch counts, also one sent as an object (the format before JSON text).
  await queue.send({ batch: clickBatchId(), shard: 0, visits: [visitRecord(link.key)] });
  await waitFor(async () => (await w.clicks(link.key)) >= 4, { timeout: 10000, message: "the new batch" });
  // The redelivered batch would be counted after the new one, and what is proven here
  // is that it is not.
  await w.settleClickWindow();

  assert.equal(await w.clicks(link.key), 4);
  const { days, dims } = await w.aggregates(link.key);
  assert.equal(days.reduce((n, d) => n + d.clicks, 0), 4);
  assert.deepEqual(dims.filter((d) => d.dim === "c").map((d) => [d.value, d.clicks]), [["", 1], ["DE", 3]]);
});

test("a batch in the format before batch ids is recognized when it comes again", async () => {
  const w = await withQueue();
  const link = await w.create({ target_url: "https://example.com/legacy-batch" });
  const queue = await w.clickQueue();
  const legacy = JSON.stringify({ visits: [1, 2].map((i) => ({ id: `legacy-${i}`, ...visitRecord(link.key) })) });

  await queue.send(legacy, { contentType: "text" });
  await waitFor(async () => (await w.clicks(link.key)) === 2, { message: "the first delivery" });
  await queue.send(legacy, { contentType: "text" });
  await queue.send(JSON.stringify({ batch: clickBatchId(), shard: 0, visits: [visitRecord(link.key)] }), { contentType: "text" });
  await waitFor(async () => (await w.clicks(link.key)) >= 3, { timeout: 10000, message: "the new batch" });
  // As above: proves the repeated legacy batch is not counted.
  await w.settleClickWindow();

  assert.equal(await w.clicks(link.key), 3);
  assert.equal((await w.aggregates(link.key)).days.reduce((n, d) => n + d.clicks, 0), 3);
});

test("a shard that fails is retried by the queue until both sides hold the batch once", async () => {
  const w = await withQueue();
  const link = await w.create({ target_url: "https://example.com/retried" });
  const daily = await w.analytics[0].prepare("SELECT sql FROM sqlite_master WHERE name = 'daily'").first();
  await w.analytics[0].prepare("DROP TABLE daily").run();

  const answers = await w.visitConcurrently(link.key, 5);
  await w.waitForLog("will be redelivered", 10000);
  // The statistics could not be written, so the counters were not either.
  assert.equal(await w.clicks(link.key), 0);
  await w.analytics[0].prepare(daily.sql).run();
  await waitFor(async () => (await w.clicks(link.key)) >= 5, { timeout: 30000, message: "the redelivery" });
  // A second application would land after the first.
  await w.settleClickWindow();

  assert.ok(answers.every((r) => r.status === 302));
  assert.equal(await w.clicks(link.key), 5);
  const { days, dims: values } = await w.aggregates(link.key);
  assert.equal(days.reduce((n, d) => n + d.clicks, 0), 5);
  assert.equal(values.filter((d) => d.dim === "d").reduce((n, d) => n + d.clicks, 0), 5);
});

test("a message that is not a click batch is logged and dropped; the visits sent with it are written", async () => {
  const w = await withQueue();
  const link = await w.create({ target_url: "https://example.com/garbled" });
  const queue = await w.clickQueue();
  const visit = visitRecord(link.key, { dev: "bot", bot: 1 });

  await queue.sendBatch([
    { body: "{not json", contentType: "text" },
    { body: JSON.stringify({ batch: clickBatchId(), shard: 0, visits: [visit] }), contentType: "text" },
  ]);

  await waitFor(async () => (await w.clicks(link.key)) === 1, { timeout: 10000, message: "the valid message's visit" });
  await w.waitForLog("click queue message dropped", 10000);
});
