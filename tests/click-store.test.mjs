// The click store at scale: statistics come from daily aggregates on the analytics
// database(s), never from the links database; raw visits are optional and pruned by
// the Cron Trigger; visits recorded before the aggregates are folded into them once.
// Each test starts its own worker: several read whole tables.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readJson, workerPerTest } from "./harness.mjs";

const start = workerPerTest();
const DAY = 86_400_000;
const sum = (rows) => rows.reduce((n, r) => n + r.clicks, 0);

test("statistics come from the aggregates and match the counters; the links database holds no visit", async () => {
  const w = await start();
  const link = await w.create({ target_url: "https://example.com/aggregated" });
  for (const [referer, country] of [["https://a.example/", "DE"], ["https://a.example/x", "DE"], [undefined, "FR"]]) {
    await w.visit(link.key, { referer, country, userAgent: "Mozilla/5.0 (iPhone) Mobile" });
  }
  await w.settleClicks(link.key, 3);

  const stats = await readJson(w.stats(link));
  assert.equal(stats.clicks, 3);
  assert.equal(sum(stats.by_day), 3);
  assert.deepEqual(stats.referrers, [{ host: "a.example", clicks: 2 }, { host: "direct", clicks: 1 }]);
  assert.deepEqual(stats.countries, [{ country: "DE", clicks: 2 }, { country: "FR", clicks: 1 }]);
  assert.deepEqual(stats.devices, [{ device: "mobile", clicks: 3 }]);
  assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM visits").first()).n, 0);
  assert.equal((await w.visitRows(link.key)).length, 0, "VISIT_RETENTION_DAYS defaults to 0: no raw visits");
});

test("a day keeps at most nine values per dimension; the rest count as (other)", async () => {
  const w = await start();
  const link = await w.create({ target_url: "https://example.com/many-referrers" });
  for (let i = 0; i < 14; i++) {
    // The first site sends three visitors, so it is among the nine kept whatever the order.
    for (let j = 0; j < (i === 0 ? 3 : 1); j++) await w.visit(link.key, { referer: `https://site${i}.example/` });
  }
  await w.settleClicks(link.key, 16);

  const { dims } = await w.aggregates(link.key);
  const referrers = dims.filter((d) => d.dim === "r");
  assert.ok(referrers.length <= 10, JSON.stringify(referrers));
  assert.equal(sum(referrers), 16);
  const stats = await readJson(w.stats(link));
  assert.deepEqual(stats.referrers.find((r) => r.host === "site0.example"), { host: "site0.example", clicks: 3 });
  const other = stats.referrers.find((r) => r.host === "(other)");
  assert.ok(other && other.clicks >= 5, JSON.stringify(stats.referrers));
  assert.equal(sum(stats.referrers), 16);
});

test("links on different shards are counted on their own shard and report their own statistics", async () => {
  const w = await start({ shards: 2 });
  const links = [];
  for (let i = 0; i < 8; i++) links.push(await w.create({ target_url: `https://example.com/sharded${i}` }));
  for (const [i, link] of links.entries()) {
    for (let j = 0; j <= i; j++) await w.visit(link.key, { country: "JP" });
  }
  for (const [i, link] of links.entries()) await w.settleClicks(link.key, i + 1);

  const perShard = await Promise.all(w.analytics.map((db) => db.prepare("SELECT COUNT(DISTINCT link_key) AS n FROM daily").first()));
  assert.ok(perShard.every((s) => s.n > 0), `links per shard: ${perShard.map((s) => s.n)}`);
  assert.equal(perShard.reduce((n, s) => n + s.n, 0), links.length);
  for (const [i, link] of links.entries()) {
    const stats = await readJson(w.stats(link));
    assert.equal(sum(stats.by_day), i + 1);
    assert.deepEqual(stats.countries, [{ country: "JP", clicks: i + 1 }]);
  }
});

test("the Cron Trigger prunes raw visits and daily aggregates past their retention, and batch guards past a day", async () => {
  const w = await start({ vars: { VISIT_RETENTION_DAYS: "2" } });
  const link = await w.create({ target_url: "https://example.com/pruned" });
  await w.visit(link.key);
  await w.settleClicks(link.key, 1);
  const now = Date.now();
  const shard = w.analytics[0];
  await shard
    .prepare("INSERT INTO visits (link_key, at, device, is_bot) VALUES (?1, ?2, 'desktop', 0), (?1, ?3, 'desktop', 0)")
    .bind(link.key, now - 3 * DAY, now - DAY)
    .run();
  const hex = (ms) => ms.toString(16).padStart(12, "0");
  await w.db.prepare("INSERT INTO click_batches (id, write_id) VALUES (?1, 'w'), (?2, 'w')").bind(`${hex(now - 2 * DAY)}old`, `${hex(now - DAY / 24)}new`).run();
  await shard.prepare("INSERT INTO applied_batches (id, write_id) VALUES (?1, 'w')").bind(`${hex(now - 2 * DAY)}old`).run();
  const today = Math.floor(now / DAY);
  await shard
    .prepare("INSERT INTO daily (link_key, day, clicks, bots) VALUES ('gone-link', ?1, 1, 0), ('gone-link', ?2, 1, 0)")
    .bind(today - 400, today - 399)
    .run();

  await w.upkeep();

  const kept = (await w.visitRows(link.key)).map((v) => v.at).sort();
  assert.equal(kept.length, 2, "the visit of today and the one of yesterday stay");
  assert.ok(kept.every((at) => at > now - 2 * DAY));
  const guards = (await w.db.prepare("SELECT id FROM click_batches WHERE write_id = 'w'").all()).results.map((r) => r.id);
  assert.deepEqual(guards, [`${hex(now - DAY / 24)}new`]);
  assert.equal((await shard.prepare("SELECT COUNT(*) AS n FROM applied_batches WHERE write_id = 'w'").first()).n, 0);
  // AGGREGATE_RETENTION_DAYS defaults to 400: day today-400 goes, today-399 stays, folded
  // into its month by the same run (days before the previous month are kept by month).
  assert.deepEqual((await w.aggregates("gone-link")).days, []);
  const d399 = new Date((today - 399) * DAY);
  const month399 = Date.UTC(d399.getUTCFullYear(), d399.getUTCMonth(), 1) / DAY;
  assert.deepEqual(
    (await shard.prepare("SELECT month, clicks FROM monthly WHERE link_key = 'gone-link'").all()).results,
    [{ month: month399, clicks: 1 }],
    "the day past the retention was pruned, not folded",
  );
  // The run ends with its summary line (src/background/upkeep.rs).
  await w.waitForLog('"event":"upkeep"');
});

test("visits recorded before the aggregates are folded into them once, and leave the links database", async () => {
  const w = await start();
  const link = await w.create({ target_url: "https://example.com/history" });
  const now = Date.now();
  const today = Math.floor(now / DAY);
  // 2,500 visits as the earlier release stored them (more than one fold round), over
  // three days, already counted on the link row.
  await w.db
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2499)
       INSERT INTO visits (link_id, at, referrer_host, country, device, is_bot)
       SELECT (SELECT id FROM links WHERE key = ?1), ?2 - (i % 3) * ${DAY},
              CASE WHEN i % 5 = 0 THEN NULL ELSE 'news.example' END, 'DE',
              CASE WHEN i % 10 = 0 THEN 'bot' ELSE 'desktop' END, CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END FROM n`,
    )
    .bind(link.key, now)
    .run();
  await w.db.prepare("UPDATE links SET clicks = 2500, bot_clicks = 250 WHERE key = ?1").bind(link.key).run();

  await w.upkeep();
  await w.upkeep();

  assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM visits").first()).n, 0);
  assert.equal(await w.clicks(link.key), 2500, "the counters already held these clicks");
  // What the rows above hold per day: day offset i % 3, a bot when i % 10 = 0.
  const expected = [2, 1, 0].map((back) => {
    const rows = Array.from({ length: 2500 }, (_, i) => i).filter((i) => i % 3 === back);
    return [today - back, rows.length, rows.filter((i) => i % 10 === 0).length];
  });
  const { days } = await w.aggregates(link.key);
  assert.deepEqual(days.map((d) => [d.day, d.clicks, d.bots]), expected);
  const stats = await readJson(w.stats(link));
  assert.equal(sum(stats.by_day), 2500);
  assert.deepEqual(stats.referrers, [{ host: "news.example", clicks: 2000 }, { host: "direct", clicks: 500 }]);
  assert.deepEqual(stats.countries, [{ country: "DE", clicks: 2500 }]);
  assert.deepEqual(stats.devices, [{ device: "desktop", clicks: 2250 }, { device: "bot", clicks: 250 }]);
});

test("a repeated fold round, after its delete failed, counts nothing twice", async () => {
  const w = await start();
  const link = await w.create({ target_url: "https://example.com/refold" });
  await w.db
    .prepare("INSERT INTO visits (link_id, at, device, is_bot) SELECT id, ?2, 'mobile', 0 FROM links WHERE key = ?1")
    .bind(link.key, Date.now())
    .run();
  // The delete of folded rows fails once: a trigger refuses it.
  await w.db.prepare("CREATE TRIGGER keep_visits BEFORE DELETE ON visits BEGIN SELECT RAISE(ABORT, 'injected'); END").run();
  await w.upkeep();
  await w.waitForLog("folding visits into the aggregates failed");
  assert.ok(w.log.lines.some((l) => l.includes("injected")), "the log carries the real cause");
  await w.db.prepare("DROP TRIGGER keep_visits").run();

  await w.upkeep();

  assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM visits").first()).n, 0);
  assert.equal(sum((await w.aggregates(link.key)).days), 1);
});

test("the owner lists the raw visits kept, newest first, in pages; with retention off the list says so", async () => {
  const w = await start({ vars: { VISIT_RETENTION_DAYS: "7" } });
  const link = await w.create({ target_url: "https://example.com/listed" });
  const phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148";
  for (const country of ["DE", "FR", "JP"]) await w.visit(link.key, { country, referer: "https://news.example/a?secret=1", userAgent: phone });
  await w.settleClicks(link.key, 3);

  const first = await readJson(w.get(`/admin/${link.secret_key}/visits?limit=2`));
  const second = await readJson(w.get(`/admin/${link.secret_key}/visits?limit=2&cursor=${first.next_cursor}`));

  assert.equal(first.retention_days, 7);
  assert.equal(first.visits.length, 2);
  assert.equal(second.visits.length, 1);
  assert.equal(second.next_cursor, null);
  const all = [...first.visits, ...second.visits];
  assert.equal(new Set(all.map((v) => v.country)).size, 3);
  assert.ok(all.every((v) => v.referrer_host === "news.example" && v.device === "mobile" && v.bot === false), JSON.stringify(all));
  assert.ok(all.every((v, i) => i === 0 || v.at <= all[i - 1].at), "newest first");
  assert.ok(!JSON.stringify(all).includes("secret=1"));
  assert.equal((await w.get(`/admin/${link.secret_key}/visits?limit=0`)).status, 400);
  assert.equal((await w.get(`/admin/${link.secret_key}/visits?cursor=junk`)).status, 400);

  const off = await start();
  const other = await off.create({ target_url: "https://example.com/unlisted" });
  await off.visit(other.key);
  await off.settleClicks(other.key, 1);
  assert.deepEqual(await readJson(off.get(`/admin/${other.secret_key}/visits`)), { visits: [], next_cursor: null, retention_days: 0 });
});

test("with the Analytics Engine dataset bound, every click still counts and nothing fails", async () => {
  // Miniflare's dataset discards what it is given: this proves the service runs with the
  // binding and depends on nothing from it, not what a data point holds.
  const w = await start({ analyticsEngineDatasets: { CLICK_EVENTS: { dataset: "shortener_clicks" } } });
  const link = await w.create({ target_url: "https://example.com/with-events" });

  const answers = await w.visitConcurrently(link.key, 20);

  assert.ok(answers.every((r) => r.status === 302));
  assert.equal(await w.settleClicks(link.key, 20), 20);
  assert.ok(!w.log.lines.some((l) => l.includes("click event")), w.log.lines.join("\n"));
});
