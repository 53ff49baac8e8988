// Black-box tests of folding old days into months (issue 28): the Cron job folds a
// link's daily rows of months before the previous one into one row per link and month
// (clicks, bots and every dimension summed, visitors united), and the statistics of a
// long window read those months whole, with the same totals as the days they replace.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readJson, workerPerTest } from "./harness.mjs";

const fresh = workerPerTest();
const DAY_MS = 86_400_000;
const DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";
const now = new Date();
/** Day number of the `d`th day of the month `back` months before this one. */
const dayOf = (back, d) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, d) / DAY_MS;
const monthLabel = (back) => new Date(dayOf(back, 1) * DAY_MS).toISOString().slice(0, 7);

/** Copies `key`'s row of today to `day`, with `clicks` and `dims` of its own. */
function seedDay(worker, key, day, clicks, dims) {
  return worker.analytics[0]
    .prepare(
      "INSERT INTO daily (link_key, day, clicks, bots, dims, visitors, hours) SELECT link_key, ?2, ?3, 1, ?4, visitors, '{\"3\":1}' FROM daily WHERE link_key = ?1 AND day = ?5",
    )
    .bind(key, day, clicks, JSON.stringify(dims), Math.floor(Date.now() / DAY_MS))
    .run();
}

async function rows(worker, sql, ...args) {
  return (await worker.analytics[0].prepare(sql).bind(...args).all()).results;
}

/** A link with today's clicks from three visitors (a real sketch to copy). */
async function linkWithVisitors(worker) {
  const link = await worker.create({ target_url: "https://example.com/m" });
  for (const ip of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) {
    await worker.visit(link.key, { userAgent: DESKTOP, headers: { "cf-connecting-ip": ip } });
  }
  await worker.settleClicks(link.key, 3);
  return link;
}

describe("old days fold into months", () => {
  test("days of months before the previous one become one row per month; the last two months stay days", async () => {
    const worker = await fresh();
    const link = await linkWithVisitors(worker);
    await seedDay(worker, link.key, dayOf(2, 3), 5, { "r:a.example": 3, "r:": 2, "s:qr": 5 });
    await seedDay(worker, link.key, dayOf(2, 20), 7, { "r:a.example": 4, "c:DE": 7, "m:launch": 7 });
    await seedDay(worker, link.key, dayOf(3, 28), 2, { "r:": 2 });
    await seedDay(worker, link.key, dayOf(1, 1), 4, { "r:": 4 });
    const before = await readJson(worker.stats(link, 365));

    await worker.upkeep();

    const months = await rows(worker, "SELECT month, clicks, bots, dims, visitors FROM monthly WHERE link_key = ?1 ORDER BY month", link.key);
    assert.deepEqual(
      months.map((m) => [m.month, m.clicks, m.bots, JSON.parse(m.dims)]),
      [
        [dayOf(3, 1), 2, 1, { "r:": 2 }],
        // Every dimension is summed, those the fold does not know (s:, m:) too.
        [dayOf(2, 1), 12, 2, { "r:a.example": 7, "r:": 2, "s:qr": 5, "c:DE": 7, "m:launch": 7 }],
      ],
    );
    const today = Math.floor(Date.now() / DAY_MS);
    const todays = (await rows(worker, "SELECT visitors FROM daily WHERE link_key = ?1 AND day = ?2", link.key, today))[0];
    assert.equal(Object.keys(JSON.parse(todays.visitors)).length, 3);
    assert.deepEqual(JSON.parse(months[1].visitors), JSON.parse(todays.visitors), "a union of the same visitors");
    assert.deepEqual(
      (await rows(worker, "SELECT day FROM daily WHERE link_key = ?1 ORDER BY day", link.key)).map((r) => r.day),
      [dayOf(1, 1), today],
      "the previous month's days and this month's stay days",
    );
    await worker.waitForLog('"days_folded":3');

    const after = await readJson(worker.stats(link, 365));
    const windowClicks = (s) => s.by_day.reduce((n, d) => n + d.clicks, 0) + (s.by_month ?? []).reduce((n, m) => n + m.clicks, 0);
    assert.equal(windowClicks(after), windowClicks(before));
    assert.equal(windowClicks(after), 3 + 5 + 7 + 2 + 4);
    assert.deepEqual(after.by_month, [
      { month: monthLabel(3), clicks: 2, visitors: 3 },
      { month: monthLabel(2), clicks: 12, visitors: 3 },
    ]);
    assert.equal(after.visitors, 3, "the same three visitors every day: a union");
    assert.deepEqual(after.referrers, before.referrers);
    assert.deepEqual(after.countries, before.countries);
    // A window of the last 30 days reads days only.
    const month = await readJson(worker.stats(link, 30));
    assert.equal(month.by_month, undefined);
    assert.equal(month.by_day.at(-1).clicks, 3);
  });

  test("a late day of a folded month is added to its month, not over it", async () => {
    const worker = await fresh();
    const link = await linkWithVisitors(worker);
    await seedDay(worker, link.key, dayOf(2, 3), 5, { "r:": 5 });
    await worker.upkeep();
    await seedDay(worker, link.key, dayOf(2, 4), 6, { "r:": 6 });

    await worker.upkeep();

    const months = await rows(worker, "SELECT month, clicks, dims FROM monthly WHERE link_key = ?1", link.key);
    assert.deepEqual(months.map((m) => [m.month, m.clicks, JSON.parse(m.dims)]), [[dayOf(2, 1), 11, { "r:": 11 }]]);
    assert.equal((await rows(worker, "SELECT COUNT(*) AS n FROM daily WHERE day < ?1", dayOf(1, 1)))[0].n, 0);
  });

  test("a folded month keeps the busiest values of each dimension, as a day does", async () => {
    const worker = await fresh();
    const link = await linkWithVisitors(worker);
    for (let d = 1; d <= 3; d++) {
      const dims = {};
      for (let i = 0; i < 9; i++) dims[`r:host${d}-${i}.example`] = 10 * d + i;
      await seedDay(worker, link.key, dayOf(2, d), 1, dims);
    }
    await worker.upkeep();
    const [month] = await rows(worker, "SELECT dims FROM monthly WHERE link_key = ?1", link.key);
    const dims = JSON.parse(month.dims);
    assert.equal(Object.keys(dims).length, 10, "nine values and the rest");
    assert.equal(dims["r:host3-8.example"], 38);
    const total = Object.values(dims).reduce((a, b) => a + b, 0);
    assert.equal(total, [1, 2, 3].reduce((n, d) => n + 9 * 10 * d + 36, 0), "no click lost to the cap");
  });

  test("the retention prunes a month once all its days are past it", async () => {
    const worker = await fresh({ vars: { AGGREGATE_RETENTION_DAYS: "100" } });
    const link = await linkWithVisitors(worker);
    const firstKept = Math.floor(Date.now() / DAY_MS) - 99;
    const monthOf = (day) => {
      const d = new Date(day * DAY_MS);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / DAY_MS;
    };
    const straddling = monthOf(firstKept);
    const older = monthOf(straddling - 1);
    for (const month of [older, straddling]) {
      await worker.analytics[0].prepare("INSERT INTO monthly (link_key, month, clicks, bots) VALUES (?1, ?2, 5, 0)").bind(link.key, month).run();
    }

    await worker.upkeep();

    const months = await rows(worker, "SELECT month FROM monthly WHERE link_key = ?1", link.key);
    assert.deepEqual(months.map((m) => m.month), [straddling], "the month with days still kept stays");
  });
});
