// Click recording through the optional CLICKS queue (Miniflare runs it locally): every
// redirect is counted once, in a handful of D1 statements, and a redelivered batch
// counts nothing twice.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./harness.mjs";

let w;
before(async () => {
  w = await startWorker({ queue: true, vars: { BENCH_COUNTERS: "1" } });
});
after(() => w.dispose());

const counters = async () => (await w.get("/__bench/counters")).json();

test("500 redirects through the queue are all counted, with at most 20 D1 statements per 1,000", async () => {
  const links = [];
  for (let i = 0; i < 5; i++) links.push(await w.create({ target_url: `https://example.com/q${i}` }));
  // Warm the caches so the count below is of click writes only.
  for (const link of links) await w.head(`/${link.key}`);
  await new Promise((r) => setTimeout(r, 300));
  const before = await counters();
  const responses = [];
  for (let round = 0; round < 5; round++) {
    responses.push(...(await Promise.all(Array.from({ length: 100 }, (_, i) => w.get(`/${links[i % 5].key}`)))));
  }
  assert.ok(responses.every((r) => r.status === 302));
  const total = async () => (await w.db.prepare("SELECT SUM(clicks) AS n FROM links").first()).n;
  await w.until(async () => (await total()) >= 500, "500 clicks", 20000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await total(), 500);
  for (const link of links) assert.equal(await w.clicks(link.key), 100);
  const visits = await w.db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT visit_id) AS d FROM visits").first();
  assert.deepEqual(visits, { n: 500, d: 500 });
  const after = await counters();
  const perThousand = ((after.d1_statements - before.d1_statements) / 500) * 1000;
  assert.ok(perThousand <= 20, `${perThousand} D1 statements per 1,000 redirects`);
});

test("a redelivered batch adds nothing: visits are written once per id", async () => {
  const link = await w.create({ target_url: "https://example.com/redelivered" });
  const producer = await w.mf.getQueueProducer("CLICKS", "shortener");
  const batch = {
    visits: [1, 2, 3].map((i) => ({ id: `redelivery-${i}`, key: link.key, at: Date.now(), ref: null, cc: "DE", dev: "desktop", bot: 0 })),
  };
  // The worker sends each batch as JSON text.
  await producer.send(JSON.stringify(batch), { contentType: "text" });
  await w.until(async () => (await w.clicks(link.key)) === 3, "the first delivery");
  await producer.send(JSON.stringify(batch), { contentType: "text" });
  // A batch sent as an object (the format before JSON text) is read too.
  await producer.send({ visits: [...batch.visits, { ...batch.visits[0], id: "redelivery-4" }] });
  await w.until(async () => (await w.clicks(link.key)) >= 4, "the new visit", 10000);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await w.clicks(link.key), 4);
  const rows = await w.db.prepare("SELECT COUNT(*) AS n FROM visits WHERE link_id = (SELECT id FROM links WHERE key = ?1)").bind(link.key).first();
  assert.equal(rows.n, 4);
});

test("a message that is not a click batch is logged and dropped; the visits sent with it are written", async () => {
  const link = await w.create({ target_url: "https://example.com/garbled" });
  const producer = await w.mf.getQueueProducer("CLICKS", "shortener");
  const visit = { id: "garbled-1", key: link.key, at: Date.now(), ref: null, cc: null, dev: "bot", bot: 1 };
  await producer.sendBatch([
    { body: "{not json", contentType: "text" },
    { body: JSON.stringify({ visits: [visit] }), contentType: "text" },
  ]);
  await w.until(async () => (await w.clicks(link.key)) === 1, "the valid message's visit", 10000);
  await w.until(async () => w.log.lines.some((l) => l.includes("click queue message dropped")), "the log line", 10000);
});
