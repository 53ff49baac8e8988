// `make bench`: drives the release build and a constant-302 baseline worker with wrk,
// both served by Miniflare on 127.0.0.1 in this process, and writes bench/results.md.
// `make bench` builds both first; see bench/README.md for what each figure means.
import { spawn, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync, constants as zlib } from "node:zlib";
import { startWorker } from "../tests/harness.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const BENCH = join(ROOT, "bench");
const TMP = join(BENCH, "tmp"); // raw wrk output of every run (git-ignored)

// Fixed load: one wrk thread (the other core runs workerd), 16 connections.
const THREADS = 1;
const CONNECTIONS = 16;
const ROUNDS = 3;
const RUN_SECONDS = 6;
const WARMUP_SECONDS = 2;
// wrk sends no new request in the last second of a run: everything it sent is answered
// and counted, so wrk's count is exactly what the worker served (see bench/wrk.lua).
const QUIET_SECONDS = 1;
// Never-visited links seeded for each uncached run; a run that uses them all up is
// flagged as exhausted (its figures would include repeat visits).
const COLD_KEYS_PER_RUN = 15000;
const WATCHDOG_MS = 9 * 60 * 1000;

const WARM_KEY = "bench-warm";
const CREATE_BODY = JSON.stringify({ target_url: "https://example.com/bench/created" });

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 60000} minutes, giving up`);
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtMs = (us) => `${(us / 1000).toFixed(2)} ms`;
const fmtInt = (n) => Math.round(n).toLocaleString("en-US");
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

function wasmSize(path) {
  const raw = readFileSync(path);
  return { raw: raw.length, gzip: gzipSync(raw, { level: zlib.Z_BEST_COMPRESSION }).length };
}

/** The origin Miniflare listens on; wrk must only ever target 127.0.0.1. */
async function originOf(worker) {
  const url = await worker.mf.ready;
  if (url.hostname !== "127.0.0.1") throw new Error(`refusing to load ${url}: not 127.0.0.1`);
  return `http://127.0.0.1:${url.port}`;
}

/** One wrk run, bounded in time; returns the figures printed by bench/wrk.lua. */
function wrk(name, origin, seconds, { method = "GET", path, body = "", cold = null }) {
  const activeMs = (seconds - QUIET_SECONDS) * 1000;
  const args = [
    `-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency",
    "-s", join(BENCH, "wrk.lua"), `${origin}${path}`,
    "--", String(activeMs), String(THREADS), method, path, body,
    ...(cold ? ["cold", cold.prefix, String(cold.count)] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { timeout: (seconds + 30) * 1000, killSignal: "SIGKILL" });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      writeFileSync(join(TMP, `${name}.txt`), `wrk ${args.join(" ")}\n\n${out}`);
      const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
      if (code !== 0 || !line) {
        return reject(new Error(`wrk ${name}: exit ${code ?? signal}\n${out}`));
      }
      const r = JSON.parse(line.slice("BENCH_JSON ".length));
      r.ok = r.requests - r.non_2xx_3xx;
      // Requests per second over the time requests were being sent.
      r.rps = r.requests / (seconds - QUIET_SECONDS);
      r.socket_errors = r.connect_errors + r.read_errors + r.write_errors + r.timeouts;
      resolve(r);
    });
  });
}

/** Cumulative D1/KV counters of the worker's isolate, or null without BENCH_COUNTERS. */
async function counters(origin) {
  const res = await fetch(`${origin}/__bench/counters`);
  if (res.status !== 200) {
    await res.arrayBuffer();
    return null;
  }
  const c = await res.json();
  const keys = ["d1_statements", "kv_reads", "kv_writes", "kv_deletes"];
  return keys.every((k) => Number.isFinite(c[k])) ? c : null;
}
const COUNTER_KEYS = ["d1_statements", "kv_reads", "kv_writes", "kv_deletes"];

/** Sum of clicks over every link, read through the D1 binding. */
async function totalClicks(db) {
  return (await db.prepare("SELECT COALESCE(SUM(clicks), 0) AS n FROM links").first()).n;
}

/**
 * Waits until work left in `waitUntil` is done: clicks (and the counters, when there
 * are any) unchanged for one second. Returns the settled click total.
 */
async function drain(main, origin) {
  const deadline = Date.now() + 60_000;
  let last = null;
  let same = 0;
  for (;;) {
    const now = JSON.stringify([await totalClicks(main.db), await counters(origin)]);
    same = now === last ? same + 1 : 0;
    last = now;
    if (same >= 5) return JSON.parse(now)[0];
    if (Date.now() > deadline) throw new Error("waitUntil work did not settle within 60 s");
    await sleep(200);
  }
}

/** Inserts never-visited links straight into D1 (so none is in KV): `<prefix><i>`. */
async function seedCold(db, prefix, count) {
  const now = Date.now();
  const rows = [];
  for (let i = 0; i < count; i++) {
    const key = `${prefix}${i}`;
    const hash = createHash("sha256").update(`bench secret ${key}`).digest("hex");
    rows.push(`('${key}','https://example.com/bench/cold/${i}','${hash}',${now},${now})`);
  }
  const chunks = [];
  for (let i = 0; i < rows.length; i += 500) {
    chunks.push(
      db.prepare(
        "INSERT INTO links (key, target_url, secret_hash, created_at, updated_at) VALUES " +
          rows.slice(i, i + 500).join(","),
      ),
    );
  }
  await db.batch(chunks);
}

async function expectStatus(origin, path, init, status, what) {
  const res = await fetch(`${origin}${path}`, { redirect: "manual", ...init });
  const text = await res.text();
  if (res.status !== status) {
    throw new Error(`${what}: ${init.method ?? "GET"} ${path} answered ${res.status}, expected ${status}: ${text}`);
  }
  return { res, text };
}

function gitRevision() {
  try {
    const rev = execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]).toString().trim();
    let dirty = "";
    try {
      execFileSync("git", ["-C", ROOT, "diff-index", "--quiet", "HEAD", "--"]);
    } catch {
      dirty = " + uncommitted changes";
    }
    return rev + dirty;
  } catch {
    return "unknown";
  }
}

async function main() {
  mkdirSync(TMP, { recursive: true });
  const mainWasm = join(ROOT, "build/index_bg.wasm");
  const baseScript = join(BENCH, "baseline/build/index.js");
  for (const f of [mainWasm, baseScript]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`make bench\`, which builds it`);
  }
  const sizes = { main: wasmSize(mainWasm), baseline: wasmSize(join(BENCH, "baseline/build/index_bg.wasm")) };

  // logRequests: false keeps Miniflare from posting a log line per request back to this
  // process, which would put Node on the hot path of both workers.
  const serve = { host: "127.0.0.1", port: 0, logRequests: false };
  const app = await startWorker({ ...serve, vars: { BENCH_COUNTERS: "1" } });
  const base = await startWorker({ ...serve, withDb: false, withKv: false, scriptPath: baseScript });
  try {
    const appOrigin = await originOf(app);
    const baseOrigin = await originOf(base);
    console.log(`bench: worker on ${appOrigin}, baseline on ${baseOrigin}`);

    // Every redirect the worker served, to compare with the clicks D1 recorded.
    let served = 0;

    // Each scenario is checked once by hand before wrk runs it.
    await expectStatus(baseOrigin, "/", {}, 302, "baseline");
    await expectStatus(appOrigin, "/url", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ target_url: "https://example.com/bench/warm", custom_key: WARM_KEY }),
    }, 201, "creating the cached link");
    await expectStatus(appOrigin, "/url", {
      method: "POST", headers: { "content-type": "application/json" }, body: CREATE_BODY,
    }, 201, "creation");
    // The first visit fills KV (after the response); wait for the fill to land.
    await expectStatus(appOrigin, `/${WARM_KEY}`, {}, 302, "redirect");
    served += 1;
    await app.until(async () => (await app.kv.list()).keys.some((k) => k.name.endsWith(WARM_KEY)),
      "the cached link in KV", 15000);
    await expectStatus(appOrigin, `/${WARM_KEY}+`, {}, 200, "peek");
    await seedCold(app.db, "bench-check-", 1);
    await expectStatus(appOrigin, "/bench-check-0", {}, 302, "uncached redirect");
    served += 1;

    const hasCounters = (await counters(appOrigin)) !== null;
    console.log(`bench: counters ${hasCounters ? "available" : "not available (GET /__bench/counters is not 200): n/a"}`);

    let coldRun = 0;
    const scenarios = [
      { id: "baseline", label: "baseline: constant 302 (no bindings)", origin: baseOrigin, req: { path: "/" } },
      { id: "cached", label: "redirect, cached link (KV hit)", redirects: true, req: { path: `/${WARM_KEY}` } },
      {
        id: "uncached", label: "redirect, uncached link (KV miss, first visit)", redirects: true,
        prepare: async () => {
          const prefix = `bench-cold-${coldRun++}-`;
          await seedCold(app.db, prefix, COLD_KEYS_PER_RUN);
          return { path: `/${prefix}0`, cold: { prefix, count: COLD_KEYS_PER_RUN } };
        },
      },
      { id: "peek", label: "peek `GET /{key}+` (KV hit)", req: { path: `/${WARM_KEY}+` } },
      { id: "create", label: "create `POST /url` (JSON body)", req: { method: "POST", path: "/url", body: CREATE_BODY } },
    ];
    for (const s of scenarios) {
      s.origin ??= appOrigin;
      s.runs = [];
      s.ops = Object.fromEntries(COUNTER_KEYS.map((k) => [k, 0]));
      s.opsRequests = 0;
      s.countersLost = false;
    }

    const runOnce = async (s, name, seconds, measured) => {
      const req = s.prepare ? await s.prepare() : s.req;
      const before = s.origin === appOrigin ? await counters(appOrigin) : null;
      const r = await wrk(name, s.origin, seconds, req);
      if (s.redirects) served += r.ok;
      s.servedAll = (s.servedAll ?? 0) + r.ok;
      if (s.origin === appOrigin) await drain(app, appOrigin);
      if (measured) {
        s.runs.push(r);
        const after = before && (await counters(appOrigin));
        if (before && after) {
          for (const k of COUNTER_KEYS) {
            const d = after[k] - before[k];
            if (d < 0) s.countersLost = true; // a new isolate started: counts restarted
            s.ops[k] += d;
          }
          s.opsRequests += r.ok;
        }
      }
      const flags = [
        r.non_2xx_3xx ? `${r.non_2xx_3xx} non-2xx/3xx` : "",
        r.socket_errors ? `${r.socket_errors} socket errors` : "",
        r.exhausted ? "EXHAUSTED cold keys" : "",
      ].filter(Boolean).join(", ");
      console.log(`  ${name.padEnd(24)} ${fmtInt(r.rps).padStart(7)} req/s  p50 ${fmtMs(r.p50_us)}  p99 ${fmtMs(r.p99_us)}  ${flags}`);
      return r;
    };

    await drain(app, appOrigin);
    console.log(`bench: warm-up, ${WARMUP_SECONDS} s per scenario`);
    for (const s of scenarios) await runOnce(s, `warmup-${s.id}`, WARMUP_SECONDS, false);
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`bench: round ${round}/${ROUNDS}, ${RUN_SECONDS} s per scenario`);
      for (const s of scenarios) await runOnce(s, `r${round}-${s.id}`, RUN_SECONDS, true);
    }

    // Clicks: everything in waitUntil has settled (drain), so D1 must hold one click per
    // redirect served, and no uncached key may have been visited twice.
    const clicks = await drain(app, appOrigin);
    const cold = await app.db
      .prepare("SELECT COUNT(*) AS visited, COALESCE(MAX(clicks), 0) AS most FROM links WHERE key LIKE 'bench-cold-%' AND clicks > 0")
      .first();
    const coldServed = scenarios.find((s) => s.id === "uncached").servedAll;
    const result = {
      sizes, hasCounters, scenarios, served, clicks, cold, coldServed,
      clicksOk: clicks === served && cold.most <= 1 && cold.visited === coldServed,
    };
    const md = report(result);
    writeFileSync(join(BENCH, "results.md"), md);
    console.log(`\n${md}`);
    console.log("bench: wrote bench/results.md");
    return result.clicksOk && !scenarios.some((s) => s.runs.some((r) => r.exhausted));
  } finally {
    await Promise.allSettled([app.dispose(), base.dispose()]);
  }
}

function report({ sizes, hasCounters, scenarios, served, clicks, cold, coldServed, clicksOk }) {
  const baseline = scenarios.find((s) => s.id === "baseline");
  const lines = [];
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  lines.push(
    "# Benchmark results",
    "",
    "Written by `make bench` (bench/run.mjs). **These figures are for comparing ratios on one",
    "machine, between scenarios measured in the same run; they are not absolute claims** about",
    "throughput or latency on Cloudflare, where the runtime, KV and D1 behave differently from",
    "Miniflare's local simulations.",
    "",
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cores} cores (os.availableParallelism()), ${os.cpus()[0]?.model?.trim() ?? "unknown CPU"}, Node ${process.versions.node}`,
    `- Worker: commit ${gitRevision()}, release build (worker-build --release) served by Miniflare on 127.0.0.1 with local D1 and KV, migrations applied`,
    `- Load: wrk -t${THREADS} -c${CONNECTIONS}, ${ROUNDS} rounds × each scenario ${RUN_SECONDS} s (requests sent for the first ${RUN_SECONDS - QUIET_SECONDS} s), after a ${WARMUP_SECONDS} s warm-up each`,
    "",
    "## Throughput and latency",
    "",
    "Median over the rounds. The ratio is each round's requests/s divided by the baseline's",
    "in the same round, then the median of those ratios.",
    "",
    "| scenario | requests/s | p50 | p99 | ratio to baseline | requests/s per round |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
  );
  for (const s of scenarios) {
    const ratios = s.runs.map((r, i) => r.rps / baseline.runs[i].rps);
    const ratio = s === baseline ? "1" : median(ratios).toFixed(2);
    lines.push(
      `| ${s.label} | ${fmtInt(median(s.runs.map((r) => r.rps)))} | ${fmtMs(median(s.runs.map((r) => r.p50_us)))} | ` +
        `${fmtMs(median(s.runs.map((r) => r.p99_us)))} | ${ratio} | ${s.runs.map((r) => fmtInt(r.rps)).join(", ")} |`,
    );
  }
  const problems = scenarios.flatMap((s) =>
    s.runs.flatMap((r, i) => {
      const p = [];
      if (r.non_2xx_3xx) p.push(`${r.non_2xx_3xx} non-2xx/3xx answers`);
      if (r.socket_errors) p.push(`${r.socket_errors} socket errors/timeouts`);
      if (r.exhausted) p.push("ran out of never-visited keys (figures invalid)");
      return p.length ? [`- ${s.id}, round ${i + 1}: ${p.join("; ")}`] : [];
    }),
  );
  lines.push("", problems.length ? ["Problems seen:", ...problems].join("\n") : "Every response was 2xx/3xx; no socket errors or timeouts.");

  lines.push(
    "",
    "## Wasm size",
    "",
    "| module | raw | gzip -9 |",
    "| --- | ---: | ---: |",
    `| build/index_bg.wasm (the shortener) | ${kib(sizes.main.raw)} (${fmtInt(sizes.main.raw)} B) | ${kib(sizes.main.gzip)} (${fmtInt(sizes.main.gzip)} B) |`,
    `| bench/baseline/build/index_bg.wasm | ${kib(sizes.baseline.raw)} (${fmtInt(sizes.baseline.raw)} B) | ${kib(sizes.baseline.gzip)} (${fmtInt(sizes.baseline.gzip)} B) |`,
    "",
    "## Storage operations per 1,000 requests",
    "",
    "From the worker's `GET /__bench/counters` (var `BENCH_COUNTERS=1`), read before each",
    "measured run and after its `waitUntil` work settled, summed over the rounds. For the",
    "redirect scenarios a request is a redirect served.",
    "",
    "| scenario | D1 statements | KV reads | KV writes | KV deletes |",
    "| --- | ---: | ---: | ---: | ---: |",
  );
  for (const s of scenarios.filter((x) => x !== baseline)) {
    const cell = (k) =>
      !hasCounters || s.countersLost || s.opsRequests === 0 ? "n/a" : ((s.ops[k] * 1000) / s.opsRequests).toFixed(0);
    lines.push(`| ${s.label} | ${COUNTER_KEYS.map(cell).join(" | ")} |`);
  }
  if (!hasCounters) lines.push("", "n/a: the worker does not answer `GET /__bench/counters` (200 JSON) in this build.");

  lines.push(
    "",
    "## Clicks check",
    "",
    "Redirects served = wrk's completed requests minus non-2xx/3xx answers, over every",
    "redirect run (warm-up included), plus the two checked by hand before the runs. wrk sends",
    "nothing in the last second of a run, so no request is left in flight when it stops",
    "(bench/wrk.lua). Clicks = `SELECT SUM(clicks) FROM links` through the D1 binding, polled",
    "until it stayed the same for a second.",
    "",
    "| redirects served | clicks in D1 | result |",
    "| ---: | ---: | --- |",
    `| ${fmtInt(served)} | ${fmtInt(clicks)} | ${clicks === served ? "equal" : `**MISMATCH (${clicks - served > 0 ? "+" : ""}${clicks - served})**`} |`,
    "",
    "Uncached redirects: every run visits links seeded straight into D1 for that run (never",
    "in KV), each key at most once across all connections (bench/wrk.lua), so each request is",
    `a first visit and a KV miss. Measured: ${fmtInt(coldServed)} uncached redirects served ` +
      `(warm-up included), ${fmtInt(cold.visited)} seeded keys with a click, at most ${cold.most} ` +
      "click per key: " +
      (cold.most <= 1 && cold.visited === coldServed
        ? "one distinct key per redirect, so none was a repeat visit."
        : "**some key was visited twice, or a click is missing: not every request was shown to be a miss.**"),
    "",
    clicksOk ? "Result: clicks check passed." : "Result: **CLICKS CHECK FAILED**.",
    "",
  );
  return lines.join("\n");
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(`bench: ${e.stack ?? e}`);
    process.exit(1);
  },
);
