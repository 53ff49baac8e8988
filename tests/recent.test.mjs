// Black-box tests of recent activity by the hour (issue 28): every link's statistics
// show its clicks in each of the last 48 hours, kept in the daily rows and cleared from
// older rows by the Cron job.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readJson, workerForFile, workerPerTest } from "./harness.mjs";

const w = await workerForFile({ vars: { ADMIN_TOKEN: "recent-operator-token" } });
const fresh = workerPerTest();

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const hourStart = (hour) => new Date(hour * HOUR_MS).toISOString().replace(".000Z", "Z");

/** Runs `body` again if the UTC hour changed while it ran (its clicks then span two). */
async function onOneUtcHour(body) {
  for (let attempt = 0; ; attempt++) {
    const hour = Math.floor(Date.now() / HOUR_MS);
    const result = await body(hour);
    if (Math.floor(Date.now() / HOUR_MS) === hour || attempt > 0) return result;
  }
}

/** A daily row of `key` for `day` with `hours`, as earlier flushes would have left it. */
function seedDay(worker, key, day, hours) {
  const clicks = Object.values(hours).reduce((a, b) => a + b, 0);
  return worker.analytics[0]
    .prepare("INSERT INTO daily (link_key, day, clicks, bots, dims, hours) VALUES (?1, ?2, ?3, 0, '{}', ?4)")
    .bind(key, day, clicks, JSON.stringify(hours))
    .run();
}

describe("clicks by the hour", () => {
  test("the statistics show the last 48 hours, the current one last with its clicks", () =>
    onOneUtcHour(async (hour) => {
      const link = await w.create({ target_url: "https://example.com/h1" });
      for (let i = 0; i < 3; i++) await w.visit(link.key);
      await w.settleClicks(link.key, 3);

      const s = await readJson(w.stats(link));

      assert.equal(s.by_hour.length, 48);
      assert.deepEqual(s.by_hour.at(-1), { hour: hourStart(hour), clicks: 3 });
      assert.equal(s.by_hour[0].hour, hourStart(hour - 47));
      assert.equal(s.by_hour.reduce((n, h) => n + h.clicks, 0), 3);
    }));

  test("hours of yesterday are shown whatever the window, and hours older than 48 are not", () =>
    onOneUtcHour(async (hour) => {
      const link = await w.create({ target_url: "https://example.com/h2" });
      const today = Math.floor(Date.now() / DAY_MS);
      await seedDay(w, link.key, today - 1, { 23: 5 });
      // 47 hours ago is shown; 48 hours ago is not.
      const shown = hour - 47;
      const hidden = hour - 48;
      const dayOf = (h) => Math.floor((h * HOUR_MS) / DAY_MS);
      const hourOf = (h) => h - dayOf(h) * 24;
      if (dayOf(shown) < today - 1) await seedDay(w, link.key, dayOf(shown), { [hourOf(shown)]: 2, [hourOf(hidden)]: 40 });
      else await w.analytics[0].prepare("UPDATE daily SET hours = json_set(hours, '$.' || ?2, 2), clicks = clicks + 2 WHERE link_key = ?1 AND day = ?3").bind(link.key, String(hourOf(shown)), dayOf(shown)).run();

      const s = await readJson(w.stats(link, 1));

      assert.equal(s.by_day.length, 1);
      const yesterday23 = Math.floor(today * 24 - 1);
      assert.equal(s.by_hour.find((h) => h.hour === hourStart(yesterday23)).clicks, 5);
      assert.equal(s.by_hour[0].clicks, 2, "47 hours ago");
      assert.equal(s.by_hour.reduce((n, h) => n + h.clicks, 0), 7, "nothing from 48 hours ago");
    }));

  test("the operator's stats of a link carry the same hours and visitors", async () => {
    const link = await w.create({ target_url: "https://example.com/h3" });
    await w.visit(link.key, { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", headers: { "cf-connecting-ip": "192.0.2.50" } });
    await w.settleClicks(link.key, 1);
    const res = await w.operator(`/api/links/${link.key}/stats`);
    assert.equal(res.status, 200);
    const s = await res.json();
    assert.equal(s.visitors, 1);
    assert.equal(s.by_hour.reduce((n, h) => n + h.clicks, 0), 1);
    assert.deepEqual(s, await readJson(w.stats(link)));
  });
});

describe("the Cron job clears hours no answer shows", () => {
  test("rows of days before the last 48 hours lose their hours, keep their clicks; recent rows keep theirs", async () => {
    const worker = await fresh();
    const link = await worker.create({ target_url: "https://example.com/h4" });
    const today = Math.floor(Date.now() / DAY_MS);
    await seedDay(worker, link.key, today - 3, { 5: 2, 6: 1 });
    await seedDay(worker, link.key, today - 4, { 0: 4 });
    await seedDay(worker, link.key, today - 1, { 23: 5 });

    await worker.upkeep();

    const rows = (await worker.analytics[0].prepare("SELECT day, clicks, hours FROM daily WHERE link_key = ?1 ORDER BY day").bind(link.key).all()).results;
    assert.deepEqual(
      rows.map((r) => [today - r.day, r.clicks, JSON.parse(r.hours)]),
      [
        [4, 4, {}],
        [3, 3, {}],
        [1, 5, { 23: 5 }],
      ],
    );
    await worker.waitForLog('"hours_cleared":2');
  });
});
