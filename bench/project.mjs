// `node bench/project.mjs`: the capacity projection of docs/scaling.md, computed from the
// figures `make bench-clicks` measured (bench/clicks.json), written to
// bench/projection.md. Storage of each analytics database (one shard) and of the links
// database after 30 and 395 days, for 1M, 10M and 33M clicks a day over 10k, 1M and 10M
// links, with raw visits off (the default) and kept 7 or 30 days.
//
// The model: a day's clicks land on D(C, L) distinct links, C clicks a day over L links
// with Zipf(1) popularity (the shape of link traffic: a few links take most clicks);
// each such (link, day) is one `daily` row of the measured size, plus its visitor
// sketch. The Cron job keeps days from the first of the previous month on (at most 62)
// and folds older ones into one `monthly` row per (link, month): a month's clicks land on
// D(30.44 C, L) distinct links, each one row of the daily row's measured size plus its
// sketch. A sketch of v visitors holds m (1 - e^(-v/m)) of the m = 4,096 registers, at
// REGISTER_BYTES each, and every click is counted as a distinct visitor (an upper
// bound). Raw visits cost their measured bytes per click for as many days as they are
// kept. The links database holds one row per link (measured bytes per link). Batch
// guards (queue mode only, kept a day) are left out: docs/scaling.md sizes them.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const measured = JSON.parse(readFileSync(join(ROOT, "bench", "clicks.json"), "utf8"));
const zipfOff = measured.results.find((r) => r.workload === "zipf" && r.retention === 0);
const zipfRaw = measured.results.find((r) => r.workload === "zipf" && r.retention > 0);
const DAILY_ROW = zipfOff.dailyRowBytes;
const RAW_PER_CLICK = ((zipfRaw.grown.visits ?? 0) + (zipfRaw.grown.visits_link_at ?? 0)) / measured.clicks;
const LINK_ROW = Number(process.env.LINK_ROW_BYTES ?? Math.round(zipfOff.linkRowBytes));
// Keep each database under half of D1's 10 GB cap.
const SHARD_BUDGET = 5e9;
// A register stored: `"1234":5,` in the sketch's JSON text.
const REGISTER_BYTES = 9;
const REGISTERS = 4096;
// Days kept as days: from the first of the previous month (src/clicks/maintenance.rs).
const DAILY_DAYS = 62;
const MONTH_DAYS = 30.44;

/** Expected distinct links of C Zipf(1)-distributed clicks over L links. */
function distinctLinks(C, L) {
  let h = 0;
  for (let i = 1; i <= L; i++) h += 1 / i;
  let d = 0;
  for (let i = 1; i <= L; i++) d += -Math.expm1(C * Math.log1p(-1 / i / h));
  return d;
}

/** Expected sketch bytes of the rows of one period with C clicks over L links. */
function sketchBytes(C, L) {
  let h = 0;
  for (let i = 1; i <= L; i++) h += 1 / i;
  let registers = 0;
  for (let i = 1; i <= L; i++) registers += -Math.expm1(-(C / i / h) / REGISTERS);
  return registers * REGISTERS * REGISTER_BYTES;
}

const gb = (b) => (b / 1e9).toFixed(b < 1e8 ? 3 : 1);
const rows = [];
for (const C of [1e6, 1e7, 3.3e7]) {
  for (const L of [1e4, 1e6, 1e7]) {
    const perDay = distinctLinks(C, L);
    const perMonth = distinctLinks(MONTH_DAYS * C, L);
    const dayBytes = perDay * DAILY_ROW + sketchBytes(C, L);
    const monthBytes = perMonth * DAILY_ROW + sketchBytes(MONTH_DAYS * C, L);
    for (const T of [30, 395]) {
      for (const R of [0, 7, 30]) {
        const days = Math.min(T, DAILY_DAYS);
        // The months before the days, the one the retention straddles included.
        const months = T > DAILY_DAYS ? Math.ceil((Math.min(T, 400) - 31) / MONTH_DAYS) + 1 : 0;
        const aggregates = days * dayBytes + months * monthBytes;
        const raw = Math.min(T, R) * C * RAW_PER_CLICK;
        const total = aggregates + raw;
        rows.push({ C, L, T, R, perDay, perMonth, days, months, aggregates, raw, total, shards: Math.max(1, Math.ceil(total / SHARD_BUDGET)) });
      }
    }
  }
}
const fmtN = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
const lines = [
  "# Capacity projection",
  "",
  `Computed by \`node bench/project.mjs\` from bench/clicks.json (${measured.clicks.toLocaleString("en-US")} clicks per run, measured at commit ${measured.commit ?? "unknown"}): ${DAILY_ROW.toFixed(0)} bytes per daily or monthly row before its sketch, ${REGISTER_BYTES} bytes per sketch register (every click a distinct visitor), ${RAW_PER_CLICK.toFixed(0)} bytes per raw visit kept, ${LINK_ROW} bytes per link (its row and index entries). Days older than the previous month are kept as one row per link and month. Model and assumptions: docs/scaling.md.`,
  "",
  "| clicks/day | links | distinct links/day | distinct links/month | days | rows kept as days + months | raw visits kept | aggregates | raw visits | analytics total | shards at ≤ 5 GB each | links DB |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${fmtN(r.C)} | ${fmtN(r.L)} | ${Math.round(r.perDay).toLocaleString("en-US")} | ${Math.round(r.perMonth).toLocaleString("en-US")} | ${r.T} | ${r.days} + ${r.months} | ${r.R ? `${r.R} days` : "none"} | ${gb(r.aggregates)} GB | ${gb(r.raw)} GB | ${gb(r.total)} GB | ${r.shards} | ${gb(r.L * LINK_ROW)} GB |`,
  ),
  "",
];
writeFileSync(join(ROOT, "bench", "projection.md"), lines.join("\n"));
console.log(lines.join("\n"));
