// Black-box tests of unique visitors (issue 28): counted per link and day from a keyed
// hash of (address, User-Agent, link) under a key that lives one day, shown in the
// statistics, merged as a union over a window, and never stored as an address, a
// User-Agent or a hash that outlives its day.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { onOneUtcDate, readJson, workerForFile, workerPerTest } from "./harness.mjs";

const w = await workerForFile();
const fresh = workerPerTest();

const PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
const DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";
const BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const DAY_MS = 86_400_000;

/** A visit from `ip` with `userAgent`, as Cloudflare would pass the address. */
const from = (worker, key, ip, userAgent = DESKTOP) =>
  worker.visit(key, { userAgent, headers: { "cf-connecting-ip": ip } });

const today = () => Math.floor(Date.now() / DAY_MS);

describe("unique visitors in the statistics", () => {
  test("a visitor who comes back is one visitor; another address or browser is another; bots are none", () =>
    onOneUtcDate(async () => {
      const link = await w.create({ target_url: "https://example.com/u1" });
      for (let i = 0; i < 3; i++) await from(w, link.key, "198.51.100.1", PHONE);
      await from(w, link.key, "198.51.100.2", PHONE);
      await from(w, link.key, "198.51.100.1", DESKTOP);
      await from(w, link.key, "198.51.100.3", BOT);
      await w.settleClicks(link.key, 6);

      const s = await readJson(w.stats(link));

      assert.equal(s.clicks, 6);
      assert.equal(s.humans, 5);
      assert.equal(s.visitors, 3);
      assert.equal(s.by_day.at(-1).visitors, 3);
      assert.ok(s.by_day.slice(0, -1).every((d) => d.visitors === 0));
    }));

  test("the same visitor of two links is a visitor of each", () =>
    onOneUtcDate(async () => {
      const a = await w.create({ target_url: "https://example.com/u2a" });
      const b = await w.create({ target_url: "https://example.com/u2b" });
      await from(w, a.key, "198.51.100.9");
      await from(w, b.key, "198.51.100.9");
      await w.settleClicks(a.key, 1);
      await w.settleClicks(b.key, 1);
      assert.equal((await readJson(w.stats(a))).visitors, 1);
      assert.equal((await readJson(w.stats(b))).visitors, 1);
    }));

  test("a window's visitors are the union of its days, not their sum", () =>
    onOneUtcDate(async () => {
      const link = await w.create({ target_url: "https://example.com/u3" });
      await from(w, link.key, "192.0.2.1");
      await from(w, link.key, "192.0.2.2");
      await w.settleClicks(link.key, 2);
      // Yesterday had the same two visitors: its row is today's, a day earlier (the
      // entries are the same because the key is; only the day differs).
      const [db] = w.analytics;
      await db
        .prepare("INSERT INTO daily (link_key, day, clicks, bots, dims, visitors) SELECT link_key, day - 1, clicks, bots, dims, visitors FROM daily WHERE link_key = ?1")
        .bind(link.key)
        .run();
      await from(w, link.key, "192.0.2.3");
      await w.settleClicks(link.key, 3);

      const s = await readJson(w.stats(link, 2));

      assert.deepEqual(
        s.by_day.map((d) => d.visitors),
        [2, 3],
      );
      assert.equal(s.visitors, 3);
      assert.equal((await readJson(w.stats(link, 1))).visitors, 3);
    }));

  test("2,600 visitors a day are counted within 5%, in a row of at most 4,096 registers", async () => {
    const worker = await fresh();
    const link = await worker.create({ target_url: "https://example.com/u4" });
    const n = 2600;
    for (let start = 0; start < n; start += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, n - start) }, (_, i) => {
          const v = start + i;
          return from(worker, link.key, `10.${(v >> 16) & 255}.${(v >> 8) & 255}.${v & 255}`);
        }),
      );
    }
    await worker.settleClicks(link.key, n);

    const s = await readJson(worker.stats(link, 1));

    assert.equal(s.clicks, n);
    assert.ok(Math.abs(s.visitors - n) / n <= 0.049, `${s.visitors} visitors for ${n}`);
    const rows = (await worker.analytics[0].prepare("SELECT visitors FROM daily WHERE link_key = ?1").bind(link.key).all()).results;
    assert.equal(rows.length, 1);
    const entries = Object.keys(JSON.parse(rows[0].visitors));
    assert.ok(entries.length <= 4096, `${entries.length} entries`);
    assert.ok(entries.every((k) => /^\d+$/.test(k) && Number(k) < 4096), "registers only");
  });

  test("a small count is exact or within the documented bound: one visitor, then fifty within 4", async () => {
    const worker = await fresh();
    const link = await worker.create({ target_url: "https://example.com/u5" });
    await from(worker, link.key, "203.0.113.1");
    await worker.settleClicks(link.key, 1);
    assert.equal((await readJson(worker.stats(link))).visitors, 1);
    await Promise.all(Array.from({ length: 50 }, (_, i) => from(worker, link.key, `203.0.113.${i + 1}`)));
    await worker.settleClicks(link.key, 51);
    // 50 visitors over 4,096 registers: two share one in about 3 days of 10, which
    // linear counting mostly corrects; domain::visitors::small_count_bound(50) is 4.2.
    const visitors = (await readJson(worker.stats(link))).visitors;
    assert.ok(Math.abs(visitors - 50) <= 4, `${visitors} visitors for 50`);
  });
});

describe("no identifier is stored", () => {
  /** Every row of every table of `db` (SQLite's and the platform's own tables aside), as text. */
  async function everything(db) {
    const tables = (await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'").all()).results;
    const dump = {};
    for (const { name } of tables) dump[name] = (await db.prepare(`SELECT * FROM "${name}"`).all()).results;
    return dump;
  }

  test("after a run, no table holds an address or a User-Agent, and the Cron job forgets every past day's key", async () => {
    const worker = await fresh({ vars: { VISIT_RETENTION_DAYS: "30" } });
    const IP = "203.0.113.77";
    const IPV6 = "2001:db8::7a7a";
    const AGENT = "Mozilla/5.0 (X11; Linux x86_64) Distinctive/9.9.9";
    const link = await worker.create({ target_url: "https://example.com/u6" });
    await from(worker, link.key, IP, AGENT);
    await from(worker, link.key, IPV6, AGENT);
    await worker.settleClicks(link.key, 2);
    assert.equal((await readJson(worker.stats(link))).visitors, 2);
    // A key of yesterday, as yesterday's first flush would have made it.
    const yesterdays = "ab".repeat(32);
    await worker.db.prepare("INSERT INTO day_keys (day, secret) VALUES (?1, ?2)").bind(today() - 1, yesterdays).run();
    // A day of a month before the previous one, as that day's flushes would have left
    // it: the Cron job folds it into its month, whose sketch must hold no more.
    const now = new Date();
    const oldDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 10) / DAY_MS;
    await worker.analytics[0]
      .prepare("INSERT INTO daily (link_key, day, clicks, bots, dims, visitors) SELECT link_key, ?2, clicks, bots, dims, visitors FROM daily WHERE link_key = ?1")
      .bind(link.key, oldDay)
      .run();

    await worker.upkeep();

    const stored = JSON.stringify([await everything(worker.db), ...(await Promise.all(worker.analytics.map(everything)))]);
    for (const secret of [IP, IPV6, "203.0.113", "2001:db8", "Distinctive", yesterdays]) {
      assert.ok(!stored.includes(secret), `${secret} is stored`);
    }
    const keys = (await worker.db.prepare("SELECT day, secret FROM day_keys").all()).results;
    assert.deepEqual(
      keys.map((k) => k.day),
      [today()],
      "only today's key is kept",
    );
    // A sketch holds registers only: a 12-bit index and a rank, what a dense sketch of
    // 4,096 registers holds anyway; nothing finer per visitor, in any table.
    const sketches = [];
    for (const db of worker.analytics) {
      for (const table of ["daily", "monthly"]) {
        for (const row of (await db.prepare(`SELECT visitors FROM ${table}`).all()).results) sketches.push(JSON.parse(row.visitors));
      }
    }
    assert.equal(sketches.length, 2, "today's row and the folded month's");
    for (const sketch of sketches) {
      for (const [entry, rank] of Object.entries(sketch)) {
        assert.match(entry, /^\d+$/);
        assert.ok(Number(entry) < 4096 && rank >= 1 && rank <= 53, `${entry}: ${rank}`);
      }
    }
    assert.ok(Object.keys(sketches[0]).length <= 2);
    assert.ok(!worker.log.lines.some((l) => l.includes(IP) || l.includes("Distinctive")), "no log line names the visitor");
    assert.ok(worker.log.lines.some((l) => l.includes('"day_keys_forgotten":1')), worker.log.lines.filter((l) => l.includes("upkeep")).join("\n"));
  });

  test("in queue mode visitors are counted the same, and no address is stored", async () => {
    const worker = await fresh({ queue: true });
    const link = await worker.create({ target_url: "https://example.com/u7" });
    await from(worker, link.key, "203.0.113.88");
    await from(worker, link.key, "203.0.113.89");
    await worker.settleClicks(link.key, 2);
    assert.equal((await readJson(worker.stats(link))).visitors, 2);
    const stored = JSON.stringify(await everything(worker.analytics[0]));
    assert.ok(!stored.includes("203.0.113"));
  });
});
