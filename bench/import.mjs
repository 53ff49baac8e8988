// `make bench-import`: links imported per second end to end, through the command-line
// tool (target/release/shortener) into the release build under Miniflare on 127.0.0.1,
// and written to bench/import.md.
//
// Each round starts a fresh worker (empty D1 and KV, every migration applied) and
// imports the same generated CSV of LINKS links (key, target, creation date, historical
// clicks, title, tags) with the CLI's defaults: calls of 1,000 links, 2 in flight. The
// time is the CLI process's, from start to exit (reading, parsing, sending, the
// service's checks and D1 batches, the reject and summary bookkeeping); the worker's
// start is not in it. Every round checks that every link landed.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startWorker } from "../tests/harness.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "target/release/shortener");
const LINKS = Number(process.env.BENCH_LINKS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TOKEN = "bench-import-token-0123456789abcdef";
const run = promisify(execFile);

const dir = join(ROOT, "bench/tmp");
mkdirSync(dir, { recursive: true });
const csv = join(dir, "import.csv");
const lines = ["key,target_url,created_at,clicks,title,tags"];
for (let i = 0; i < LINKS; i++) {
  const day = String(1 + (i % 28)).padStart(2, "0");
  lines.push(`bench-${i},https://example.com/articles/${i}?utm_source=import,2021-03-${day}T10:00:00Z,${i % 1000},Article ${i},"a,b"`);
}
writeFileSync(csv, lines.join("\n") + "\n");

const rounds = [];
for (let round = 1; round <= ROUNDS; round++) {
  const w = await startWorker({ vars: { ADMIN_TOKEN: TOKEN }, host: "127.0.0.1", port: 0 });
  const env = { PATH: process.env.PATH, HOME: dir, SHORTENER_URL: String(w.url), SHORTENER_TOKEN: TOKEN, SHORTENER_CONFIG: join(dir, "none") };
  const started = process.hrtime.bigint();
  const { stdout } = await run(CLI, ["import", "--from", "csv", csv, "--rejects", join(dir, "rejects.csv")], { env, maxBuffer: 1 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stored = await w.linkCount();
  await w.dispose();
  if (!stdout.includes(`${LINKS} created`) || stored !== LINKS) throw new Error(`round ${round}: ${stored} links stored; CLI said: ${stdout}`);
  rounds.push({ round, seconds, rate: LINKS / seconds, load: os.loadavg()[0] });
  console.log(`round ${round}: ${LINKS} links in ${seconds.toFixed(2)} s = ${(LINKS / seconds).toFixed(0)} links/s`);
}

const rates = rounds.map((r) => r.rate).sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString("en-US");
let commit = "";
try {
  commit = (await run("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT })).stdout.trim();
} catch {}
const report = `# Import throughput

\`make bench-import\` (\`node bench/import.mjs\`; \`BENCH_LINKS\` and \`BENCH_ROUNDS\` override
the size and the rounds). Measured ${new Date().toISOString().slice(0, 10)} at ${commit || "this commit"} on
${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), shared with other work (the load
average column): compare rounds, not machines.

Each round: a fresh worker (release build) under Miniflare on 127.0.0.1 with empty D1
and KV; then, timed from the CLI's start to its exit,

\`\`\`sh
shortener import --from csv bench/tmp/import.csv   # ${fmt(LINKS)} links, calls of 1,000, 2 in flight
\`\`\`

The CSV (generated) carries for each link a key, a target with a query, a creation date,
a historical click count, a title and two tags. Every round checks that all
${fmt(LINKS)} links were stored.

| round | seconds | links/s | load average (1 min) after |
| --- | --- | --- | --- |
${rounds.map((r) => `| ${r.round} | ${r.seconds.toFixed(2)} | ${fmt(r.rate)} | ${r.load.toFixed(1)} |`).join("\n")}

**Median ${fmt(median)} links/s** (min ${fmt(rates[0])}, max ${fmt(rates.at(-1))}); the target is 5,000.

Where the time goes: each call of 1,000 links is one JSON body (about 130 KB), parsed and
checked item by item in the worker with the rules of creation (key, target URL
normalization, dates), a secret drawn and hashed per link, and one D1 batch holding one
\`INSERT ... SELECT ... FROM json_each(?1) ON CONFLICT ...\` per megabyte of rows (one
transaction). Two calls in flight keep the worker busy while the CLI reads and
serializes the next batch.

Earlier measurements, with the commits they were made at, are in [history.md](history.md#import-throughput).
`;
writeFileSync(join(ROOT, "bench/import.md"), report);
console.log(`median ${fmt(median)} links/s; wrote bench/import.md`);
