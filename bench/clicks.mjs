// `make bench-clicks`: what the click store costs, measured on the release build under
// Miniflare with real local D1 files, and written to bench/clicks.md.
//
// Two workloads: one hot link, and a Zipf-distributed load over 10,000 links with varied
// referrers, countries and devices. Each runs with the defaults (aggregates only) and
// with raw visits kept (VISIT_RETENTION_DAYS=30, the shape of the store before the
// aggregates: one row per click). For each: D1 rows written per 1,000 clicks, from D1's
// own `meta.rows_written` (summed by the worker's bench counters over both databases),
// storage bytes per 1,000 clicks (SQLite's dbstat over the D1 files after VACUUM, minus
// the same files before the clicks), and the statistics endpoint's rows read for a link
// with 10 million clicks in its window, seeded straight into its aggregates (with dense
// visitor sketches and every hour clicked). Clicks come from 8,000 addresses, so the
// unique-visitor sketches and hourly splits are on, as in production. Also writes
// bench/clicks.json, the measured inputs of `node bench/project.mjs`.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { revision } from "./provenance.mjs";
import os from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { startWorker, waitFor } from "../tests/harness.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const CLICKS = Number(process.env.BENCH_CLICKS ?? 20_000);
const LINKS = 10_000;
const CONCURRENCY = 64;
const DAY = 86_400_000;

// Visitors: each click comes from one of this many addresses (CF-Connecting-IP), so the
// unique-visitor sketches fill as real traffic would fill them (the hot link's turns
// dense: its worst size).
const VISITORS = 8_000;
const REFERRERS = Array.from({ length: 50 }, (_, i) => (i === 0 ? undefined : `https://site${i}.example/page`));
const COUNTRIES = ["US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "ES", "IT", "NL", "SE", "PL", "MX", "AU", "KR", "TR", "AR", "CH", "BE", "AT", "NO", "DK", "FI", "IE", "PT", "CZ", "RO", "ZA", "NZ"];
const AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
  "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
];

/** A Zipf(s) sampler over n items (item 0 the most frequent), from a fixed seed. */
function zipf(n, s, seed) {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / (i + 1) ** s;
  let x = seed >>> 0;
  const random = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Bytes per table of every D1 file under `dir`, after VACUUM, by SQLite's dbstat. */
function tableBytes(dir) {
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith(".sqlite")) files.push(join(d, e.name));
    }
  };
  walk(dir);
  const bytes = {};
  const rows = {};
  for (const file of files) {
    const db = new DatabaseSync(file);
    db.exec("VACUUM");
    for (const row of db.prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name").all()) {
      bytes[row.name] = (bytes[row.name] ?? 0) + row.bytes;
    }
    for (const table of ["daily", "visits", "click_batches", "applied_batches"]) {
      try {
        rows[table] = (rows[table] ?? 0) + db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get().n;
      } catch {
        // Not in this database.
      }
    }
    db.close();
  }
  return { bytes, rows };
}

const isUserTable = (name) => !name.startsWith("sqlite_") && !name.startsWith("_cf") && name !== "d1_migrations";

/** Runs `CLICKS` visits of `workload` against a fresh worker; returns its figures. */
async function measure(workload, retention) {
  const dir = mkdtempSync(join(os.tmpdir(), "shortener-clicks-"));
  const w = await startWorker({ d1Persist: dir, vars: { BENCH_COUNTERS: "1", VISIT_RETENTION_DAYS: String(retention) } });
  try {
    const now = Date.now();
    const keys = workload === "hot" ? ["hot-link"] : Array.from({ length: LINKS }, (_, i) => `zipf-${i}`);
    // The links, seeded straight into D1 (creating 10,000 through the API measures nothing here).
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      await w.db.batch(
        chunk.map((key, j) =>
          w.db
            .prepare("INSERT INTO links (key, target_url, secret_hash, created_at, updated_at, stats_key) VALUES (?1, ?2, ?3, ?4, ?4, ?1)")
            .bind(key, `https://example.com/${key}`, (i + j).toString(16).padStart(64, "0"), now),
        ),
      );
    }
    await w.dispose();
    const { bytes: before } = tableBytes(dir);
    const w2 = await startWorker({ d1Persist: dir, migrate: false, vars: { BENCH_COUNTERS: "1", VISIT_RETENTION_DAYS: String(retention) } });
    const pickLink = workload === "hot" ? () => 0 : zipf(LINKS, 1.0, 7);
    const pickReferrer = zipf(REFERRERS.length, 1.2, 11);
    const pickCountry = zipf(COUNTRIES.length, 1.1, 13);
    const pickAgent = zipf(AGENTS.length, 1.5, 17);
    const pickVisitor = zipf(VISITORS, 0.6, 19);
    const counters0 = await w2.counters();
    let sent = 0;
    const started = performance.now();
    const client = async () => {
      while (sent < CLICKS) {
        sent++;
        const res = await w2.visit(keys[pickLink()], {
          referer: REFERRERS[pickReferrer()],
          country: COUNTRIES[pickCountry()],
          userAgent: AGENTS[pickAgent()],
          headers: { "cf-connecting-ip": ((v) => `10.${v >> 16}.${(v >> 8) & 255}.${v & 255}`)(pickVisitor()) },
        });
        if (res.status !== 302) throw new Error(`visit answered ${res.status}`);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    const seconds = (performance.now() - started) / 1000;
    await waitFor(async () => (await w2.totalClicks()) >= CLICKS, { timeout: 60_000, interval: 200, message: `${CLICKS} clicks` });
    await waitFor(async () => (await w2.aggregatedClicks()) >= CLICKS, { timeout: 30_000, interval: 200, message: "aggregates" });
    const counters = await w2.counters();
    const exact = (await w2.totalClicks()) === CLICKS && (await w2.aggregatedClicks()) === CLICKS;
    await w2.dispose();
    const { bytes: after, rows } = tableBytes(dir);
    const grown = {};
    for (const [name, bytes] of Object.entries(after)) {
      if (!isUserTable(name)) continue;
      const delta = bytes - (before[name] ?? 0);
      if (delta !== 0) grown[name] = delta;
    }
    const storage = Object.values(grown).reduce((a, b) => a + b, 0);
    return {
      workload,
      retention,
      exact,
      rate: CLICKS / seconds,
      rowsWritten: ((counters.click_rows_written - counters0.click_rows_written) / CLICKS) * 1000,
      rowsRead: ((counters.click_rows_read - counters0.click_rows_read) / CLICKS) * 1000,
      statements: ((counters.d1_statements - counters0.d1_statements) / CLICKS) * 1000,
      bytes: (storage / CLICKS) * 1000,
      grown,
      rows,
      dailyRowBytes: rows.daily ? ((grown.daily ?? 0) + (grown.daily_day ?? 0)) / rows.daily : 0,
      // The links table and its indexes, per link (seeded before the clicks).
      linkRowBytes:
        Object.entries(before)
          .filter(([name]) => name.startsWith("links") || name.startsWith("sqlite_autoindex_links"))
          .reduce((n, [, b]) => n + b, 0) / keys.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows the statistics endpoint reads for a link with 10 million clicks in its window. */
async function statsRowsRead() {
  const w = await startWorker({ vars: { BENCH_COUNTERS: "1" } });
  try {
    const link = await w.create({ target_url: "https://example.com/ten-million" });
    const today = Math.floor(Date.now() / DAY);
    const shard = w.analytics[0];
    // 365 days of history, each day at the cap of every dimension: 9 kept values and
    // ~other for referrers and countries, every device. 10,000,000 clicks in 30 days.
    const perDay = Math.floor(10_000_000 / 30);
    const dims = {};
    for (const dim of ["r", "c"]) for (let j = 0; j < 10; j++) dims[`${dim}:${j === 9 ? "~other" : `value${j}`}`] = Math.floor(perDay / 10);
    for (const device of ["desktop", "mobile", "tablet", "bot", "other"]) dims[`d:${device}`] = Math.floor(perDay / 5);
    // Every day's visitor sketch dense (4,096 registers, ranks of a large count) and
    // every hour of the day clicked: the largest rows a day can have.
    const visitors = Object.fromEntries(Array.from({ length: 4096 }, (_, r) => [String(r), 1 + ((r * 7) % 12)]));
    const hours = Object.fromEntries(Array.from({ length: 24 }, (_, h) => [String(h), Math.floor(perDay / 24)]));
    await shard
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 364)
         INSERT INTO daily (link_key, day, clicks, bots, dims, visitors, hours) SELECT ?1, ?2 - i, ?3, 0, ?4, ?5, ?6 FROM n`,
      )
      .bind(link.key, today, perDay, JSON.stringify(dims), JSON.stringify(visitors), JSON.stringify(hours))
      .run();
    await w.db.prepare("UPDATE links SET clicks = ?2 WHERE key = ?1").bind(link.key, perDay * 365).run();
    // As the Cron job keeps them: days before the previous month folded into months.
    await w.upkeep();
    const read = async (days) => {
      const before = (await w.counters()).stats_rows_read;
      const res = await w.stats(link, days);
      if (res.status !== 200) throw new Error(`stats answered ${res.status}: ${await res.text()}`);
      const stats = await res.json();
      const clicks = stats.by_day.reduce((n, d) => n + d.clicks, 0) + (stats.by_month ?? []).reduce((n, m) => n + m.clicks, 0);
      return { days, rows: (await w.counters()).stats_rows_read - before, clicks, visitors: stats.visitors, hours: stats.by_hour.length };
    };
    return [await read(30), await read(365)];
  } finally {
    await w.dispose();
  }
}

const results = [];
for (const workload of ["hot", "zipf"]) {
  for (const retention of [0, 30]) {
    const r = await measure(workload, retention);
    console.log(JSON.stringify(r));
    results.push(r);
  }
}
const stats = await statsRowsRead();
console.log(JSON.stringify(stats));

const fmt = (n, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
// Which code and how busy the machine was: rows written per 1,000 clicks depend on how
// many click windows form, and a loaded machine forms more, smaller ones.
const commit = revision(["bench/clicks.md", "bench/clicks.json"]);
const load = os.loadavg().map((l) => l.toFixed(1)).join(", ");
const lines = [
  "# Click store: measured cost per 1,000 clicks",
  "",
  `Written by \`make bench-clicks\` (bench/clicks.mjs) at commit ${commit} on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.version}, load average at the end ${load} (a busier machine forms more, smaller click windows, so more rows written per 1,000 clicks).`,
  `${fmt(CLICKS)} clicks per run through Miniflare's \`dispatchFetch\` (${CONCURRENCY} at a time) against the release build, one isolate, the 500 ms click window, direct mode.`,
  "See docs/scaling.md for what the figures mean at the edge, where many isolates each flush their own, smaller windows.",
  "",
  "| workload | raw visits | D1 rows written | D1 rows read | D1 statements | bytes stored | daily rows | bytes per daily row | exact | clicks/s |",
  "|---|---|---|---|---|---|---|---|---|---|",
  ...results.map(
    (r) =>
      `| ${r.workload === "hot" ? "one hot link" : `Zipf over ${fmt(LINKS)} links`} | ${r.retention ? `kept ${r.retention} days` : "none (default)"} | ${fmt(r.rowsWritten, 1)} | ${fmt(r.rowsRead, 1)} | ${fmt(r.statements, 1)} | ${fmt(r.bytes)} | ${fmt(r.rows.daily ?? 0)} | ${fmt(r.dailyRowBytes)} | ${r.exact ? "yes" : "NO"} | ${fmt(r.rate)} |`,
  ),
  "",
  "Bytes stored, by table (per 1,000 clicks):",
  "",
  ...results.map(
    (r) =>
      `- ${r.workload}, raw visits ${r.retention ? "kept" : "off"}: ${Object.entries(r.grown)
        .map(([t, b]) => `${t} ${fmt((b / CLICKS) * 1000)}`)
        .join(", ")}`,
  ),
  "",
  "Statistics of a link with 10,000,000 clicks in 30 days (365 days of aggregates at the cap of every dimension):",
  "",
  "| window | D1 rows read | clicks reported | visitors reported | hours reported |",
  "|---|---|---|---|---|",
  ...stats.map((s) => `| ${s.days} days | ${fmt(s.rows)} | ${fmt(s.clicks)} | ${fmt(s.visitors)} | ${s.hours} |`),
  "",
];
writeFileSync(join(ROOT, "bench", "clicks.md"), lines.join("\n"));
// The inputs of the capacity projection (bench/project.mjs).
writeFileSync(join(ROOT, "bench", "clicks.json"), `${JSON.stringify({ commit, load, clicks: CLICKS, links: LINKS, results, stats }, null, 2)}\n`);
console.log(lines.join("\n"));
