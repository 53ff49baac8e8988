// `make bench`: drives the release build (twice: default click mode and queue mode) and
// a constant-302 baseline worker with wrk, all served by Miniflare on 127.0.0.1 in this
// process, and writes bench/results.md.
// `make bench` builds both first; see bench/README.md for what each figure means.
import { spawn, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync, constants as zlib } from "node:zlib";
import { Miniflare, Log, LogLevel } from "miniflare";
import { workerdCpuMs } from "./cpu.mjs";
import { BENCH_COUNTERS_PATH, COUNTERS_TOKEN, startWorker, waitFor, wranglerConfig } from "../tests/harness.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const BENCH = join(ROOT, "bench");
const TMP = join(BENCH, "tmp"); // raw wrk output of every run (git-ignored)

// Fixed load: one wrk thread (the other core runs workerd), 16 connections.
const THREADS = 1;
const CONNECTIONS = 16;
// Rounds: each ratio is the median of the rounds' ratios. On this shared 2-core machine a
// single round's ratio moves by ±0.15 (the baseline alone moves as much from one run to the
// next), so more rounds narrow the median; 6 (3 in each order) keep `make bench`, builds
// included, under 10 minutes on a fresh clone.
const ROUNDS = 6;
const RUN_SECONDS = 7;
const WARMUP_SECONDS = 3;
// wrk sends no new request in the last 2 s of a run: everything it sent is answered
// and counted, so wrk's count is exactly what the worker served (see bench/wrk.lua).
// Long enough for a stalled response to arrive; short of workerd's keep-alive timeout
// (about 5 s here), after which it closes idle connections and wrk counts read errors.
const QUIET_SECONDS = 2;
// A response slower than this is left out of wrk's latency histogram; far above any
// healthy latency, so that stalls show in p99 instead of vanishing.
const WRK_TIMEOUT = "10s";
// Never-visited links seeded for each uncached run; a run that uses them all up is
// flagged as exhausted (its figures would include repeat visits).
const COLD_KEYS_PER_RUN = 15000;
const WATCHDOG_MS = 14 * 60 * 1000;

const WARM_KEY = "bench-warm";
// A cached link with five targeting rules (issue 11), none of which matches wrk's
// requests: every redirect evaluates all five before it falls through to the target.
const RULES_KEY = "bench-rules";
const FIVE_RULES = [
  { when: { country: ["DE", "AT", "CH"] }, target_url: "https://example.com/bench/de" },
  { when: { os: "ios", device: "mobile" }, target_url: "https://example.com/bench/ios" },
  { when: { language: ["fr", "es"] }, target_url: "https://example.com/bench/fr" },
  { when: { query: { name: "ref", value: "newsletter" } }, target_url: "https://example.com/bench/news" },
  { when: { after: "2099-01-01T00:00:00Z" }, target_url: "https://example.com/bench/later" },
];
// Target from the issue: a link with five rules at most 10% slower per request.
const RULES_TARGET = 0.9;
// The cached link of the queue-mode worker (its own database and KV).
const QUEUE_WARM_KEY = "bench-warm-queue";
// Target from the issue: D1 statements per 1,000 redirects with the CLICKS queue.
const QUEUE_D1_TARGET = 20;
// How long clicks and counters must stay the same before a worker counts as settled.
// Queue batches land up to ~1 s after a click window (maxBatchTimeout), so longer there.
const SETTLE_MS = { direct: 1000, queue: 2000 };
// How long to keep waiting for clicks still short of the redirects served, once stable.
const SHORTFALL_WAIT_MS = 15_000;
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
const perThousand = (x) => (x === 0 || x >= 100 ? x.toFixed(0) : x.toFixed(1));
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Raw size, and gzip -9 size (GNU gzip when installed, else Node's zlib at level 9,
 * which comes out about 2% larger on this module). */
function wasmSize(path) {
  const raw = readFileSync(path);
  try {
    const gz = execFileSync("gzip", ["-9", "-c", path], { maxBuffer: 64 << 20 });
    return { raw: raw.length, gzip: gz.length, gzipTool: "GNU gzip -9" };
  } catch {
    return { raw: raw.length, gzip: gzipSync(raw, { level: zlib.Z_BEST_COMPRESSION }).length, gzipTool: "Node zlib, level 9" };
  }
}

/** The issue's targets, each with the figure this run measured. */
const RATIO_TARGET = 0.8;
/** The cold path's targets (uncached redirect, creation). */
const COLD_TARGETS = [{ id: "uncached", target: 0.25 }, { id: "create", target: 0.4 }];
const WASM_GZIP_TARGET = 250_000;

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
    `-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, `--timeout=${WRK_TIMEOUT}`, "--latency",
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

const COUNTER_KEYS = ["d1_statements", "click_rows_read", "kv_reads", "kv_writes", "kv_deletes"];

/**
 * Cumulative D1/KV counters of the worker's isolate, or null without BENCH_COUNTERS.
 * They answer only to the operator's token.
 */
async function counters(origin) {
  const res = await fetch(`${origin}${BENCH_COUNTERS_PATH}`, { headers: { authorization: `Bearer ${COUNTERS_TOKEN}` } });
  if (res.status !== 200) {
    await res.arrayBuffer();
    return null;
  }
  const c = await res.json();
  return COUNTER_KEYS.every((k) => Number.isFinite(c[k])) ? c : null;
}

/** Sum of clicks over every link, read through the D1 binding. */
async function totalClicks(db) {
  return (await db.prepare("SELECT COALESCE(SUM(clicks), 0) AS n FROM links").first()).n;
}

/**
 * Waits until a shortener's pending click work (its `waitUntil` writes, or queue batches
 * and their consumer) is done: clicks (and the counters, when there are any) unchanged
 * for `t.settleMs`, and clicks at least `atLeast` (the redirects it served so far) or
 * stable that long past SHORTFALL_WAIT_MS (a shortfall, reported by the caller).
 * Returns the settled click total.
 */
async function drain(t, atLeast = 0) {
  const start = Date.now();
  let last = null;
  let since = start;
  for (;;) {
    const clicks = await totalClicks(t.worker.db);
    const now = JSON.stringify([clicks, await counters(t.origin)]);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
    const settled = Date.now() - since >= t.settleMs;
    if (settled && (clicks >= atLeast || Date.now() - start > SHORTFALL_WAIT_MS)) return clicks;
    if (Date.now() - start > 60_000) throw new Error(`${t.id}: click work did not settle within 60 s`);
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
    rows.push(`('${key}','https://example.com/bench/cold/${i}','${hash}',${now},${now},'${key}')`);
  }
  const chunks = [];
  for (let i = 0; i < rows.length; i += 500) {
    chunks.push(
      db.prepare(
        "INSERT INTO links (key, target_url, secret_hash, created_at, updated_at, stats_key) VALUES " +
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
    const quiet = { stdio: ["ignore", "pipe", "ignore"] };
    const rev = execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], quiet).toString().trim();
    let dirty = "";
    try {
      // Read-only (unlike `git status`, it never refreshes the index).
      // results.md itself is left out: it is this run's output, not part of what is measured.
      execFileSync("git", ["-C", ROOT, "diff-index", "--quiet", "HEAD", "--", ".", ":(exclude)bench/results.md"], quiet);
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
  const load = os.loadavg();
  const mainWasm = join(ROOT, "build/index_bg.wasm");
  const baseScript = join(BENCH, "baseline/build/index.js");
  for (const f of [mainWasm, baseScript]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`make bench\`, which builds it`);
  }
  const sizes = { main: wasmSize(mainWasm), baseline: wasmSize(join(BENCH, "baseline/build/index_bg.wasm")) };

  // Miniflare's placeholder `request.cf` instead of a download attempt (no internet).
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  const serve = { host: "127.0.0.1", port: 0 };
  // The deployed settings (wrangler.toml's [vars]), not the test defaults.
  const deployed = { ...wranglerConfig().vars, BENCH_COUNTERS: "1", ADMIN_TOKEN: COUNTERS_TOKEN };
  // The worker alone, like the baseline: on Cloudflare, static assets are routed before
  // the worker and outside its CPU time, while Miniflare's asset router runs in the same
  // workerd on every request. One more instance runs behind that router, as `make dev`
  // and the tests run it, so its cost is measured too (bench/README.md).
  const app = await startWorker({ ...serve, vars: deployed, assets: false });
  // Same build, with the CLICKS queue producer and its consumer (in the same worker) bound.
  const appQueue = await startWorker({ ...serve, queue: true, vars: deployed, assets: false });
  const appAssets = await startWorker({ ...serve, vars: deployed, assets: true });
  const base = await startWorker({ ...serve, withDb: false, withKv: false, scriptPath: baseScript, assets: false });
  try {
    const baseOrigin = await originOf(base);
    // What is kept per shortener worker: its origin, the redirects it served (to compare
    // with the clicks its D1 recorded), the clicks settled so far, and the runs whose own
    // clicks differ from their redirects.
    const target = async (id, label, worker, mode) => ({
      id, label, worker, origin: await originOf(worker), settleMs: SETTLE_MS[mode],
      served: 0, handChecked: 0, clicksSoFar: 0, runMismatches: [], hasCounters: false,
    });
    const direct = await target("direct", "shortener, default mode (clicks written straight to D1)", app, "direct");
    const queued = await target("queue", "shortener, queue mode (CLICKS queue, consumer in the same worker)", appQueue, "queue");
    const behindAssets = await target("assets", "shortener behind Miniflare's static-asset router (default mode)", appAssets, "direct");
    const targets = [direct, queued, behindAssets];
    console.log(`bench: worker on ${direct.origin}, queue-mode worker on ${queued.origin}, baseline on ${baseOrigin}`);
    const handRedirect = async (t, path, what) => {
      await expectStatus(t.origin, path, {}, 302, what);
      t.served += 1;
      t.handChecked += 1;
    };
    const warmLink = async (t, key, extra = {}) => {
      await expectStatus(t.origin, "/url", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ target_url: `https://example.com/bench/${key}`, custom_key: key, ...extra }),
      }, 201, `${t.id}: creating the cached link`);
      // The CACHE_AFTER_MISSES-th visit fills KV (after the response); wait for it.
      for (let i = 0; i < Number(deployed.CACHE_AFTER_MISSES ?? 1); i++) {
        await handRedirect(t, `/${key}`, `${t.id}: redirect`);
      }
      await waitFor(() => t.worker.cached(key), { timeout: 15000, message: `${t.id}: the cached link in KV` });
    };

    // Each scenario is checked once by hand before wrk runs it.
    await expectStatus(baseOrigin, "/", {}, 302, "baseline");
    await warmLink(direct, WARM_KEY);
    await warmLink(direct, RULES_KEY, { rules: FIVE_RULES });
    await expectStatus(direct.origin, "/url", {
      method: "POST", headers: { "content-type": "application/json" }, body: CREATE_BODY,
    }, 201, "creation");
    await expectStatus(direct.origin, `/${WARM_KEY}+`, {}, 200, "peek");
    await seedCold(app.db, "bench-check-", 1);
    await handRedirect(direct, "/bench-check-0", "uncached redirect");
    await warmLink(queued, QUEUE_WARM_KEY);
    await warmLink(behindAssets, WARM_KEY);

    for (const t of targets) {
      t.hasCounters = (await counters(t.origin)) !== null;
      console.log(`bench: ${t.id} counters ${t.hasCounters ? "available" : "not available (GET ${BENCH_COUNTERS_PATH} is not 200): n/a"}`);
    }

    let coldRun = 0;
    const scenarios = [
      { id: "baseline", label: "baseline: constant 302 (no bindings)", target: null, req: { path: "/" } },
      { id: "cached", label: "redirect, cached link (KV hit)", redirects: true, req: { path: `/${WARM_KEY}` } },
      {
        id: "cached-rules", label: "redirect, cached link with five targeting rules (none matches)", redirects: true,
        req: { path: `/${RULES_KEY}` },
      },
      {
        id: "cached-queue", label: "redirect, cached link, queue mode", target: queued, redirects: true,
        req: { path: `/${QUEUE_WARM_KEY}` },
      },
      {
        id: "cached-assets", label: "redirect, cached link, behind Miniflare's asset router (not on Cloudflare)",
        target: behindAssets, redirects: true, req: { path: `/${WARM_KEY}` },
      },
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
      if (s.target === undefined) s.target = direct;
      s.origin = s.target ? s.target.origin : baseOrigin;
      s.runs = [];
      s.ops = Object.fromEntries(COUNTER_KEYS.map((k) => [k, 0]));
      s.opsRequests = 0;
      s.countersLost = false;
    }

    // Clicks of the hand-checked redirects (the queue's land up to ~1 s later).
    for (const t of targets) t.clicksSoFar = await drain(t, t.served);

    const runOnce = async (s, name, seconds, measured) => {
      const t = s.target;
      const req = s.prepare ? await s.prepare() : s.req;
      const before = t ? await counters(t.origin) : null;
      const cpuBefore = workerdCpuMs();
      const r = await wrk(name, s.origin, seconds, req);
      s.servedAll = (s.servedAll ?? 0) + r.ok;
      if (t) {
        const expected = s.redirects ? r.ok : 0;
        t.served += expected;
        const clicks = await drain(t, t.clicksSoFar + expected);
        if (clicks - t.clicksSoFar !== expected) {
          t.runMismatches.push(`${name}: ${fmtInt(expected)} redirects, ${fmtInt(clicks - t.clicksSoFar)} clicks`);
        }
        t.clicksSoFar = clicks;
      }
      const cpuAfter = workerdCpuMs();
      // The baseline has no after-response work; give it the same quiet time to count.
      if (!t) await sleep(1000);
      r.cpuPerRequest = cpuBefore === null || r.ok === 0 ? null : ((t ? cpuAfter : workerdCpuMs()) - cpuBefore) / r.ok;
      if (measured) {
        s.runs.push(r);
        const after = before && (await counters(t.origin));
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

    console.log(`bench: warm-up, ${WARMUP_SECONDS} s per scenario`);
    for (const s of scenarios) await runOnce(s, `warmup-${s.id}`, WARMUP_SECONDS, false);
    // Even rounds run the scenarios in reverse order, so no scenario always runs right
    // after another (the baseline, cached and queue-mode runs stay next to each other).
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`bench: round ${round}/${ROUNDS}, ${RUN_SECONDS} s per scenario`);
      const order = round % 2 ? scenarios : [...scenarios].reverse();
      for (const s of order) await runOnce(s, `r${round}-${s.id}`, RUN_SECONDS, true);
    }

    // Clicks: every worker's click work has settled (drain), so each D1 must hold one
    // click per redirect that worker served, and no uncached key may have been visited twice.
    for (const t of targets) {
      t.clicks = await drain(t, t.served);
      t.ok = t.clicks === t.served && t.runMismatches.length === 0;
    }
    const cold = await app.db
      .prepare("SELECT COUNT(*) AS visited, COALESCE(MAX(clicks), 0) AS most FROM links WHERE key LIKE 'bench-cold-%' AND clicks > 0")
      .first();
    const coldServed = scenarios.find((s) => s.id === "uncached").servedAll;
    console.log(`bench: cold starts, ${COLD_STARTS} of each worker`);
    const starts = await coldStarts(baseScript);
    const result = {
      sizes, scenarios, targets, cold, coldServed, load, starts,
      clicksOk: targets.every((t) => t.ok) && cold.most <= 1 && cold.visited === coldServed,
    };
    direct.logName = "worker";
    queued.logName = "worker-queue";
    behindAssets.logName = "worker-assets";
    for (const [name, w] of [[direct.logName, app], [queued.logName, appQueue], [behindAssets.logName, appAssets], ["baseline", base]]) {
      writeFileSync(join(TMP, `${name}.log`), w.log.lines.join("\n") + "\n");
    }
    const md = report(result);
    writeFileSync(join(BENCH, "results.md"), md);
    console.log(`\n${md}`);
    console.log("bench: wrote bench/results.md");
    return result.clicksOk && !scenarios.some((s) => s.runs.some((r) => r.exhausted));
  } finally {
    await Promise.allSettled([app.dispose(), appQueue.dispose(), appAssets.dispose(), base.dispose()]);
  }
}

/** Cold starts measured per worker, alternating, so that drift hits both alike. */
const COLD_STARTS = 7;

/**
 * Time from starting a worker (a new workerd process: a new isolate that compiles and
 * instantiates the module) to its first response, for the shortener and the baseline.
 * Neither first request touches storage: `GET /` as an API client (the shortener's
 * JSON home) and the baseline's constant 302. Returns the median and every sample, in ms.
 */
async function coldStarts(baseScript) {
  const cfg = wranglerConfig();
  const workers = {
    shortener: { scriptPath: join(ROOT, "build/index.js"), d1Databases: cfg.databases.map((d) => d.binding), kvNamespaces: [cfg.kv] },
    baseline: { scriptPath: baseScript },
  };
  const samples = { shortener: { ready: [], first: [] }, baseline: { ready: [], first: [] } };
  for (let i = 0; i < COLD_STARTS; i++) {
    const order = i % 2 ? ["baseline", "shortener"] : ["shortener", "baseline"];
    for (const name of order) {
      const t0 = performance.now();
      const mf = new Miniflare({
        cf: false, // no fetch of the `Request.cf` template from Cloudflare
        modules: true,
        modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
        compatibilityDate: cfg.compatibilityDate,
        log: new Log(LogLevel.NONE),
        ...workers[name],
      });
      try {
        await mf.ready;
        const t1 = performance.now();
        const res = await mf.dispatchFetch("http://127.0.0.1/", { redirect: "manual", headers: { accept: "application/json" } });
        await res.arrayBuffer();
        const t2 = performance.now();
        if (![200, 302].includes(res.status)) throw new Error(`cold start of ${name}: GET / answered ${res.status}`);
        samples[name].ready.push(t1 - t0);
        samples[name].first.push(t2 - t0);
      } finally {
        await mf.dispose();
      }
    }
  }
  return samples;
}

function report({ sizes, scenarios, targets, cold, coldServed, load, starts, clicksOk }) {
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
    `- Worker: commit ${gitRevision()}, release build (worker-build --release) served by Miniflare on 127.0.0.1 with local D1 and KV, migrations applied; ` +
      "three instances of it, each with its own D1 and KV: the default click mode, queue mode (the `CLICKS` queue producer and its consumer bound, as in the commented sections of wrangler.toml), " +
      "and the default mode behind Miniflare's static-asset router (`[assets]`, as `make dev` and the tests run it; on Cloudflare assets are routed before the worker, so the first two, without it, are the worker's own figures)",
    `- Load average (1, 5, 15 min) when the bench started: ${load.map((x) => x.toFixed(2)).join(", ")}; other work on the machine shows up as noise between rounds`,
    `- Load: wrk -t${THREADS} -c${CONNECTIONS} --timeout ${WRK_TIMEOUT}, ${ROUNDS} rounds × each scenario ${RUN_SECONDS} s (requests sent for the first ${RUN_SECONDS - QUIET_SECONDS} s), after a ${WARMUP_SECONDS} s warm-up each`,
    "",
    "## Throughput and latency",
    "",
    "Median over the rounds. The ratio is each round's requests/s divided by the baseline's",
    "in the same round, then the median of those ratios.",
    "",
    "| scenario | requests/s | p50 | p99 | ratio to baseline | ratio per round (min–max) | requests/s per round |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
  );
  for (const s of scenarios) {
    const ratios = s.runs.map((r, i) => r.rps / baseline.runs[i].rps);
    const ratio = s === baseline ? "1" : median(ratios).toFixed(2);
    const spread = s === baseline ? "" : `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
    lines.push(
      `| ${s.label} | ${fmtInt(median(s.runs.map((r) => r.rps)))} | ${fmtMs(median(s.runs.map((r) => r.p50_us)))} | ` +
        `${fmtMs(median(s.runs.map((r) => r.p99_us)))} | ${ratio} | ${spread} | ${s.runs.map((r) => fmtInt(r.rps)).join(", ")} |`,
    );
  }
  const cpuOf = (s) => (s.runs.every((r) => r.cpuPerRequest !== null) ? median(s.runs.map((r) => r.cpuPerRequest)) : null);
  const baseCpu = cpuOf(baseline);
  if (baseCpu !== null) {
    lines.push(
      "",
      "## CPU time per request",
      "",
      "workerd's CPU time (user + system) over each run, after-response work (click writes,",
      "cache fills) included, divided by the requests answered; median over the rounds. Other",
      "work on the machine moves it less than requests/s. The ratio is the baseline's CPU",
      "per request divided by the scenario's: the throughput ratio a CPU-bound worker would reach.",
      "",
      "| scenario | CPU per request | CPU ratio to baseline | per round |",
      "| --- | ---: | ---: | --- |",
      ...scenarios.map((s) => {
        const c = cpuOf(s);
        return `| ${s.label} | ${c.toFixed(3)} ms | ${(baseCpu / c).toFixed(2)} | ${s.runs.map((r) => r.cpuPerRequest.toFixed(3)).join(", ")} |`;
      }),
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

  // The targets, stated plainly with what this run measured.
  const ratioOf = (id) => {
    const s = scenarios.find((x) => x.id === id);
    return median(s.runs.map((r, i) => r.rps / baseline.runs[i].rps));
  };
  const met = (ok) => (ok ? "met" : "**missed**");
  const peek = ratioOf("peek");
  const cachedRatios = scenarios.find((x) => x.id === "cached").runs.map((r, i) => r.rps / baseline.runs[i].rps);
  const baseRps = baseline.runs.map((r) => r.rps);
  lines.push(
    "",
    "## Targets",
    "",
    "| target | this run | result |",
    "| --- | ---: | --- |",
    ...["cached", "cached-queue"].map((id) => {
      const r = ratioOf(id);
      const label = scenarios.find((x) => x.id === id).label;
      return `| ${label}: at least ${RATIO_TARGET} of the baseline's requests/s, every click counted | ${r.toFixed(2)} | ${met(r >= RATIO_TARGET && clicksOk)} |`;
    }),
    ...COLD_TARGETS.map(({ id, target }) => {
      const r = ratioOf(id);
      const label = scenarios.find((x) => x.id === id).label;
      return `| ${label}: at least ${target} of the baseline's requests/s | ${r.toFixed(2)} | ${met(r >= target && clicksOk)} |`;
    }),
    (() => {
      // Per request against the plain cached redirect of the same round.
      const plain = scenarios.find((x) => x.id === "cached");
      const rules = scenarios.find((x) => x.id === "cached-rules");
      const r = median(rules.runs.map((run, i) => run.rps / plain.runs[i].rps));
      return `| ${rules.label}: at most 10% slower per request than the plain cached redirect (requests/s ratio at least ${RULES_TARGET}) | ${r.toFixed(2)} | ${met(r >= RULES_TARGET)} |`;
    })(),
    `| release wasm at most 250 KB gzip (${sizes.main.gzipTool}) | ${fmtInt(sizes.main.gzip)} B | ${met(sizes.main.gzip <= WASM_GZIP_TARGET)} |`,
    "",
    `How far to trust a ratio: in this run the baseline alone moved between ${fmtInt(Math.min(...baseRps))} and ` +
      `${fmtInt(Math.max(...baseRps))} requests/s from round to round, and the cached redirect's ratio between ` +
      `${Math.min(...cachedRatios).toFixed(2)} and ${Math.max(...cachedRatios).toFixed(2)}. The median over the rounds is`,
    "the figure to read; a median within about 0.05 of a target is a noisy result, not a",
    `verdict on the code. For comparison, peek (the same lookup, no click work, a JSON body) measured ${peek.toFixed(2)}.`,
  );

  const ms = (x) => `${x.toFixed(0)} ms`;
  const startRow = (name) => {
    const { ready, first } = starts[name];
    return `| ${name} | ${ms(median(ready))} | ${ms(median(first))} | ${first.map(ms).join(", ")} |`;
  };
  const startRatio = median(starts.shortener.first) / median(starts.baseline.first);
  lines.push(
    "",
    "## Cold start",
    "",
    `Time from starting a worker to its first response, ${COLD_STARTS} starts of each, alternating: a new`,
    "workerd process, so a new isolate that compiles and instantiates the module, then",
    "`GET /` (the shortener's JSON home page, the baseline's constant 302; neither touches",
    "storage). Ready is when Miniflare reports the worker listening; first response",
    "includes it. Medians; the samples show the spread.",
    "",
    "| worker | ready | first response | first response, every start |",
    "| --- | ---: | ---: | --- |",
    startRow("shortener"),
    startRow("baseline"),
    "",
    `The shortener's first response takes ${startRatio.toFixed(2)} times the baseline's ` +
      `(${ms(median(starts.shortener.first) - median(starts.baseline.first))} more, median against median).`,
  );

  lines.push(
    "",
    "## Wasm size",
    "",
    `| module | raw | gzip -9 (${sizes.main.gzipTool}) |`,
    "| --- | ---: | ---: |",
    `| build/index_bg.wasm (the shortener) | ${kib(sizes.main.raw)} (${fmtInt(sizes.main.raw)} B) | ${kib(sizes.main.gzip)} (${fmtInt(sizes.main.gzip)} B) |`,
    `| bench/baseline/build/index_bg.wasm | ${kib(sizes.baseline.raw)} (${fmtInt(sizes.baseline.raw)} B) | ${kib(sizes.baseline.gzip)} (${fmtInt(sizes.baseline.gzip)} B) |`,
    "",
    "## Storage operations per 1,000 requests",
    "",
    "From `GET /api/__bench/counters` (var `BENCH_COUNTERS=1`, with the operator token) of the worker each scenario",
    "targets, read before each measured run and after its click work settled, summed over",
    "the rounds. For the redirect scenarios a request is a redirect served. Rows read by",
    "click writes is D1's own `rows_read` for the click batches: it grows with the number",
    "of clicks, not with a link's history (tests/click-cost.test.mjs holds it there).",
    "",
    "| scenario | D1 statements | D1 rows read by click writes | KV reads | KV writes | KV deletes |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  );
  const perK = (s, k) =>
    !s.target.hasCounters || s.countersLost || s.opsRequests === 0 ? null : (s.ops[k] * 1000) / s.opsRequests;
  for (const s of scenarios.filter((x) => x !== baseline)) {
    const cell = (k) => {
      const x = perK(s, k);
      return x === null ? "n/a" : perThousand(x);
    };
    lines.push(`| ${s.label} | ${COUNTER_KEYS.map(cell).join(" | ")} |`);
  }
  if (targets.some((t) => !t.hasCounters)) {
    lines.push("", "n/a: the worker does not answer `GET /__bench/counters` (200 JSON) in this build.");
  }
  const queueScenario = scenarios.find((s) => s.id === "cached-queue");
  const queueD1 = perK(queueScenario, "d1_statements");
  lines.push(
    "",
    "The queue-mode worker's counters include the statements its queue consumer (same",
    "worker, same isolate) ran for the batches of the run. " +
      `Target with the queue: at most ${QUEUE_D1_TARGET} D1 statements per 1,000 redirects; ` +
      (queueD1 === null
        ? "**not measured in this run** (no counters)."
        : `this run measured ${perThousand(queueD1)} in queue mode: ` +
          (queueD1 > QUEUE_D1_TARGET
            ? "**target NOT met**."
            : queueScenario.target.ok
              ? "target met."
              : "below the target, but **not a valid result**: the queue-mode worker did not record " +
                "every click (see the clicks check), and clicks never written cost no statements.")),
  );

  lines.push(
    "",
    "## Clicks check",
    "",
    "Per shortener worker: redirects served = wrk's completed requests minus non-2xx/3xx",
    "answers, over every redirect run on that worker (warm-up included), plus those checked",
    `by hand before the runs (${targets.map((t) => `${t.handChecked} on the ${t.id} worker`).join(", ")}). wrk sends`,
    `nothing in the last ${QUIET_SECONDS} s of a run, so no request is left in flight when it stops`,
    "(bench/wrk.lua). Clicks = `SELECT SUM(clicks) FROM links` through that worker's D1",
    "binding, polled until it stayed the same (and the counters too) for " +
      targets.map((t) => `${t.settleMs / 1000} s on the ${t.id} worker`).join(" and ") +
      " (queue batches land up to about 1 s after a click window), waiting longer while it",
    "was still short of the redirects served. In queue mode the clicks are written by the",
    "queue consumer.",
    "",
    "| worker | redirects served | clicks in D1 | result |",
    "| --- | ---: | ---: | --- |",
  );
  const verdict = (served, clicks) =>
    clicks === served ? "equal" : `**MISMATCH (${clicks - served > 0 ? "+" : ""}${clicks - served})**`;
  for (const t of targets) lines.push(`| ${t.label} | ${fmtInt(t.served)} | ${fmtInt(t.clicks)} | ${verdict(t.served, t.clicks)} |`);
  const sum = (f) => targets.reduce((a, t) => a + f(t), 0);
  const servedAll = sum((t) => t.served);
  const clicksAll = sum((t) => t.clicks);
  const runMismatches = targets.flatMap((t) => t.runMismatches.map((m) => `${t.id} worker, ${m}`));
  lines.push(
    `| total | ${fmtInt(servedAll)} | ${fmtInt(clicksAll)} | ${verdict(servedAll, clicksAll)} |`,
    "",
    runMismatches.length
      ? ["Runs whose clicks differ from their redirects (clicks settled after each run):", ...runMismatches.map((m) => `- **${m}**`)].join("\n")
      : "Checked after every run as well, on the worker it targeted: each run's clicks equal its redirects.",
  );
  // What a worker that lost clicks said about it (its whole log is in bench/tmp/).
  for (const t of targets.filter((x) => !x.ok && x.worker.log.lines.length)) {
    const shown = t.worker.log.lines.slice(0, 3).map((l) => `    ${l.length > 300 ? `${l.slice(0, 300)}…` : l}`);
    lines.push(
      "",
      `The ${t.id} worker logged ${t.worker.log.lines.length} line(s) (bench/tmp/${t.logName}.log); the first:`,
      "",
      ...shown,
    );
  }
  lines.push(
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
