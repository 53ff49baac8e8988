// Starts the built worker (build/index.js + wasm) under Miniflare with real local D1 and
// KV bindings, applies every migration, and offers one verb per thing a test does to it:
// create a link, visit it, peek, patch, deactivate, read its stats, call the operator
// API, and read what it stored (its D1 row, its visits, its KV entry).
//
// Known state: every Miniflare instance starts with an empty, in-memory D1 and KV, so
// no file sees what another left behind. Within a file, one worker is shared
// (`workerForFile`) only when each test touches nothing but the links it creates
// itself, under targets and custom keys no other test in the file uses. A test that
// reads or fills table-wide state (counts every link, sums every click, takes the whole
// key space) or needs its own configuration gets a fresh worker (`workerPerTest`).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import assert from "node:assert/strict";
import { Miniflare, Log, LogLevel } from "miniflare";

const ROOT = new URL("..", import.meta.url).pathname;

/** The KV entry name of a link's cached redirect rule (the worker's `link:{key}`). */
export const kvKey = (key) => `link:${key}`;

/** Where the benchmark's storage counters answer the operator (src/http/route.rs). */
export const BENCH_COUNTERS_PATH = "/api/__bench/counters";

/**
 * The operator token a worker with BENCH_COUNTERS gets when its test names none: the
 * counters answer only to the operator.
 */
export const COUNTERS_TOKEN = "harness-operator-token";

/**
 * The optional queues (CLICKS, HEALTH_NOTICES), as the commented [[queues.producers]]
 * sections of wrangler.toml name them: binding -> queue name.
 */
function optionalQueues() {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const queues = Object.fromEntries(
    [...toml.matchAll(/^# \[\[queues\.producers\]\]\n# binding = "([^"]+)"\n# queue = "([^"]+)"/gm)].map((m) => [m[1], m[2]]),
  );
  if (!queues.CLICKS || !queues.HEALTH_NOTICES) throw new Error("wrangler.toml names no CLICKS or HEALTH_NOTICES queue");
  return queues;
}
const QUEUES = optionalQueues();
const CLICKS_QUEUE = { binding: "CLICKS", name: QUEUES.CLICKS };

/**
 * The click window (`FLUSH_WINDOW` in src/clicks/window.rs), in ms, read from the code so
 * that the tests' wait for it follows a change there: clicks without a click limit are
 * written when the window of their first visit closes.
 */
export const CLICK_WINDOW_MS = (() => {
  const src = readFileSync(join(ROOT, "src/clicks/window.rs"), "utf8");
  const m = src.match(/const FLUSH_WINDOW: Duration = Duration::from_millis\(([\d_]+)\)/);
  if (!m) throw new Error("src/clicks/window.rs no longer says FLUSH_WINDOW in Duration::from_millis");
  return Number(m[1].replaceAll("_", ""));
})();

/** The click queue consumer's `max_batch_timeout` in seconds, from wrangler.toml's [[queues.consumers]]. */
const QUEUE_BATCH_TIMEOUT_S = (() => {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const m = toml.match(/^#?\s*max_batch_timeout\s*=\s*(\d+)/m);
  if (!m) throw new Error("wrangler.toml no longer names the click queue's max_batch_timeout");
  return Number(m[1]);
})();

/**
 * Polls `condition` until it returns a truthy value, and returns that value. Fails
 * with `message`, the time waited and the last value seen when `timeout` ms pass.
 */
export async function waitFor(condition, { timeout = 5000, interval = 20, message = "a condition" } = {}) {
  const started = Date.now();
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() - started > timeout) {
      throw new Error(`waitFor: timed out after ${timeout} ms waiting for ${message} (last value: ${JSON.stringify(value)})`);
    }
    await sleep(interval);
  }
}

const utcDate = () => new Date().toISOString().slice(0, 10);

/**
 * Runs `body` (which starts whatever it needs) and, when the UTC date changed while it
 * ran, runs it once more: a test of "today's" clicks that straddles midnight records
 * them on one day and reads the next, and fails on correct code. A second run cannot
 * straddle again. A failure on one date stands.
 */
export async function onOneUtcDate(body) {
  for (let attempt = 0; ; attempt++) {
    const date = utcDate();
    try {
      const result = await body();
      if (attempt > 0 || utcDate() === date) return result;
    } catch (e) {
      if (attempt > 0 || utcDate() === date) throw e;
    }
  }
}

/** Makes an API key on `w` as root; returns its answer (with the token, shown once). */
export async function makeKey(w, fields) {
  const res = await w.operator("/api/keys", { method: "POST", json: fields });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

/** The link `key` as the native operator API shows it (what an adapter's answer is checked against). */
export async function native(w, key) {
  const res = await w.operator(`/api/links/${key}`);
  assert.equal(res.status, 200, `native read of ${key}: ${res.status}`);
  return res.json();
}

/**
 * Imports `count` links `${prefix}-0`, `${prefix}-1`, … through the native import (1,000
 * a call), link i with i imported clicks and made i minutes after 2026-01-01, so that
 * order by clicks and by date are the same. More links than a listing of the other
 * shorteners' APIs could once read (1,000).
 */
export async function importMany(w, count, prefix) {
  const base = Date.parse("2026-01-01T00:00:00Z");
  for (let from = 0; from < count; from += 1000) {
    const items = [];
    for (let i = from; i < Math.min(count, from + 1000); i++) {
      items.push({ key: `${prefix}-${i}`, target_url: `https://example.com/many/${i}`, clicks: i, created_at: new Date(base + i * 60_000).toISOString() });
    }
    const res = await w.operator("/api/links/import", { method: "POST", json: items });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).created, items.length);
  }
}

/** The parsed JSON body of a response (or of a promise of one). */
export async function readJson(response) {
  return (await response).json();
}

/** Binding names and settings, read from wrangler.toml so they are written once. */
export function wranglerConfig() {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const section = (name, field) => {
    const m = toml.match(new RegExp(`\\[\\[${name}\\]\\]([\\s\\S]*?)(?=\\n\\[|$)`));
    if (!m) throw new Error(`wrangler.toml has no [[${name}]]`);
    return m[1].match(new RegExp(`^${field}\\s*=\\s*"([^"]+)"`, "m"))[1];
  };
  // Every [[d1_databases]]: the links database first, then the analytics database.
  const databases = [...toml.matchAll(/\[\[d1_databases\]\]([\s\S]*?)(?=\n\[|$)/g)].map((m) => ({
    binding: m[1].match(/^binding\s*=\s*"([^"]+)"/m)[1],
    migrations: m[1].match(/^migrations_dir\s*=\s*"([^"]+)"/m)[1],
  }));
  // [vars]: every `NAME = "value"` line up to the next section.
  const varsSection = toml.match(/^\[vars\]\n([\s\S]*?)(?=^\[)/m)?.[1] ?? "";
  const vars = Object.fromEntries([...varsSection.matchAll(/^([A-Z_0-9]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]));
  return {
    vars,
    compatibilityDate: toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1],
    db: section("d1_databases", "binding"),
    databases,
    crons: [...(toml.match(/^crons\s*=\s*\[([^\]]*)\]/m)?.[1] ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]),
    kv: section("kv_namespaces", "binding"),
    limiter: section("ratelimits", "name"),
    limiterNamespace: section("ratelimits", "namespace_id"),
    // [assets] directory: the static files `make build` writes (site/).
    assets: toml.match(/^\[assets\]\n(?:[^[]*?\n)?directory\s*=\s*"([^"]+)"/m)?.[1],
  };
}

/**
 * Every statement of every migration in `dir` (the links database's by default), in file
 * order; `only` picks files by name (a test of one migration applies those before it).
 */
export function migrationStatements(dir = join(ROOT, "migrations"), only = () => true) {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql") && only(f))
    .sort()
    .flatMap((f) =>
      readFileSync(join(dir, f), "utf8")
        .split("\n")
        .filter((line) => !line.trim().startsWith("--"))
        .join("\n")
        .split(/;\s*(?:\n|$)/)
        .map((s) => s.trim())
        .filter(Boolean),
    );
}

// A KV binding that wraps the real local KV namespace (INNER) to inject faults: every
// call fails ("failing"), or writes land late ("slow"). It runs in the worker's own
// isolate as a workerd wrapped binding, so the worker sees an ordinary KV namespace.
const KV_WRAPPER = `
export default function (env) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const fail = async () => { throw new Error("KV is unavailable (injected fault)"); };
  if (env.mode === "failing") {
    return { get: fail, getWithMetadata: fail, put: fail, list: fail, delete: fail };
  }
  return {
    get: (k, o) => env.INNER.get(k, o),
    getWithMetadata: (k, o) => env.INNER.getWithMetadata(k, o),
    list: (o) => env.INNER.list(o),
    delete: (k) => env.INNER.delete(k),
    put: async (k, v, o) => { await sleep(env.putDelayMs); return env.INNER.put(k, v, o); },
  };
}`;

// A rate limiter binding whose every call fails, as the platform's might: what the
// worker does then is its own choice (creation goes on). The class name is the one
// workers-rs (0.8) checks a rate limiter binding's constructor against.
const LIMITER_FAULT = `
class Ratelimit {
  async limit() { throw new Error("the rate limiter is unavailable (injected fault)"); }
}
export default function () { return new Ratelimit(); }`;

/**
 * The cookie secret of test workers: set, as a deployment must set one (without it the
 * worker signs password cookies with a public default and `/healthz` says `degraded`;
 * tests/config.test.mjs unsets it with `COOKIE_SECRET: ""`).
 */
const HARNESS_COOKIE_SECRET = "cookie-secret-of-the-test-harness";

/**
 * Settings every test worker gets unless its `vars` say otherwise. Tests expect a link's
 * rule in KV after its first visit (and the races they stage need that fill), so the
 * cache admission is set to the first miss here; the deployed default (the second miss,
 * wrangler.toml) has its own tests in tests/cold.test.mjs, and the bench runs with it.
 */
const TEST_VARS = { CACHE_AFTER_MISSES: "1", COOKIE_SECRET: HARNESS_COOKIE_SECRET };

/**
 * The default of `outbound`: every fetch the worker makes (a health check, a webhook)
 * is refused here, so no test reaches beyond 127.0.0.1 by accident.
 */
export function refuseOutbound(request) {
  throw new Error(`outbound fetch refused by the test harness: ${request.method} ${request.url}`);
}

/**
 * Starts the worker. Options: `vars` (extra [vars] and secrets; `ADMIN_TOKEN` becomes
 * the default token of `operator`), `withDb`/`withKv` (default true), `kvFault`
 * ("failing" or "slow", with `putDelayMs`), `rateLimit` ({limit, period} for the
 * creation limiter), `queue` (bind the CLICKS and HEALTH_NOTICES queues: clicks and health notices
 * travel through them), `host`/`port` to
 * listen for real clients, `shards` (analytics databases), `d1Persist` (a directory for
 * the D1 files, which the click bench measures; `migrate: false` to reopen them),
 * `outbound` (a function from each Request the worker sends out to a Response:
 * Miniflare's `outboundService`; by default every outbound fetch is refused),
 * `assets` (default true: the static files of wrangler.toml's [assets] are served in
 * front of the worker, as on Cloudflare; false leaves the worker alone, as the
 * benchmark runs it).
 */
export async function startWorker({ vars = {}, shards = 1, d1Persist, migrate = true, withDb = true, withKv = true, kvFault, putDelayMs = 500, rateLimit, limiterFault = false, queue = false, host, port, outbound = refuseOutbound, assets = true, ...rest } = {}) {
  const cfg = wranglerConfig();
  if (vars.BENCH_COUNTERS === "1" && !vars.ADMIN_TOKEN) vars = { ...vars, ADMIN_TOKEN: COUNTERS_TOKEN };
  // The analytics database, and for `shards` > 1 its further shards ANALYTICS_1, ...
  const analyticsDb = cfg.databases.find((d) => d.binding !== cfg.db);
  const analyticsBindings = Array.from({ length: shards }, (_, i) => (i === 0 ? analyticsDb.binding : `${analyticsDb.binding}_${i}`));
  const log = { lines: [] };
  const collect = (stream) => {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => log.lines.push(...chunk.split("\n").filter(Boolean)));
  };
  const main = {
    name: "shortener",
    modules: true,
    scriptPath: join(ROOT, "build/index.js"),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: cfg.compatibilityDate,
    d1Databases: withDb ? [cfg.db, ...analyticsBindings] : [],
    kvNamespaces: withKv && !kvFault ? [cfg.kv] : [],
    bindings: { ...TEST_VARS, ...(shards > 1 ? { ANALYTICS_SHARDS: String(shards) } : {}), ...vars },
    outboundService: outbound,
    ...(queue
      ? {
          queueProducers: QUEUES,
          queueConsumers: {
            [QUEUES.CLICKS]: { maxBatchSize: 100, maxBatchTimeout: QUEUE_BATCH_TIMEOUT_S },
            [QUEUES.HEALTH_NOTICES]: { maxBatchSize: 10, maxBatchTimeout: 1 },
          },
        }
      : {}),
    ...(rateLimit ? { ratelimits: { [cfg.limiter]: { namespace_id: cfg.limiterNamespace, simple: rateLimit } } } : {}),
    // Workers Static Assets: Miniflare puts its asset router in front of the worker, and
    // `has_user_worker` makes a request that names no file go on to the worker.
    ...(assets ? { assets: { directory: join(ROOT, cfg.assets), routerConfig: { has_user_worker: true } } } : {}),
    wrappedBindings: {
      ...(kvFault ? { [cfg.kv]: { scriptName: "kv-fault", bindings: { mode: kvFault, putDelayMs } } } : {}),
      ...(limiterFault ? { [cfg.limiter]: { scriptName: "limiter-fault" } } : {}),
    },
    ...rest,
  };
  const workers = [main];
  if (kvFault) workers.push({ name: "kv-fault", modules: true, script: KV_WRAPPER, kvNamespaces: { INNER: "links-kv" } });
  if (limiterFault) workers.push({ name: "limiter-fault", modules: true, script: LIMITER_FAULT });
  const mf = new Miniflare({
    workers,
    // Miniflare would otherwise fetch a `Request.cf` template from workers.cloudflare.com
    // for every instance; nothing in the tests leaves 127.0.0.1, so its placeholder is used.
    cf: false,
    ...(host ? { host } : {}),
    ...(port ? { port } : {}),
    ...(d1Persist ? { d1Persist } : {}),
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio: (stdout, stderr) => {
      collect(stdout);
      collect(stderr);
    },
  });
  const url = await mf.ready;
  const db = withDb ? await mf.getD1Database(cfg.db) : null;
  const analytics = withDb ? await Promise.all(analyticsBindings.map((b) => mf.getD1Database(b))) : [];
  if (migrate) for (const shard of analytics) await shard.batch(migrationStatements(join(ROOT, analyticsDb.migrations)).map((s) => shard.prepare(s)));
  let kv = null;
  if (kvFault) kv = await mf.getKVNamespace("INNER", "kv-fault");
  else if (withKv) kv = await mf.getKVNamespace(cfg.kv);
  if (db && migrate) await db.batch(migrationStatements().map((s) => db.prepare(s)));
  const worker = new RunningWorker(mf, db, kv, log, vars.ADMIN_TOKEN);
  worker.analytics = analytics;
  worker.crons = cfg.crons;
  worker.queued = queue;
  worker.url = url;
  return worker;
}

/** One worker for every test of the file, stopped when the file is done. */
export async function workerForFile(opts) {
  const w = await startWorker(opts);
  after(() => w.dispose());
  return w;
}

/**
 * A `startWorker` for files whose tests each need their own worker (their own
 * configuration, or a table no other test has written to): every worker it starts is
 * stopped when the file is done.
 */
export function workerPerTest() {
  const started = [];
  after(() => Promise.all(started.map((w) => w.dispose())));
  return async (opts) => {
    const w = await startWorker(opts);
    started.push(w);
    return w;
  };
}

/** A link as the tests name it: the body `create` returned, or its secret key alone. */
const secretOf = (link) => (typeof link === "string" ? link : link.secret_key);
const JSON_TYPE = { "content-type": "application/json" };
const asBody = (body) => (typeof body === "string" ? body : JSON.stringify(body));

class RunningWorker {
  constructor(mf, db, kv, log, adminToken) {
    Object.assign(this, { mf, db, kv, log, adminToken });
    this.origin = "http://localhost";
  }

  // Plain HTTP. Redirects are never followed: a test sees the 3xx itself.

  fetch(path, init = {}) {
    const url = path.startsWith("http") ? path : this.origin + path;
    return this.mf.dispatchFetch(url, { redirect: "manual", ...init });
  }
  get(path, headers = {}) {
    return this.fetch(path, { headers });
  }
  head(path) {
    return this.fetch(path, { method: "HEAD" });
  }
  delete(path) {
    return this.fetch(path, { method: "DELETE" });
  }
  /** POSTs `body` as JSON unless it is already a string. */
  post(path, body, headers = JSON_TYPE) {
    return this.fetch(path, { method: "POST", body: asBody(body), headers });
  }

  // A visitor's and an owner's verbs.

  /**
   * `POST /url` and its answer, whatever the status. `fields` is sent as JSON unless it
   * is already a string. Options: `ip` (the client's address, for the rate limiter),
   * `headers` (added to, or replacing, the JSON content type).
   */
  tryCreate(fields, { ip, headers = {} } = {}) {
    return this.post("/url", fields, { ...JSON_TYPE, ...(ip ? { "cf-connecting-ip": ip } : {}), ...headers });
  }
  /** Creates a link and returns the parsed 201 body; any other answer throws. */
  async create(fields, options) {
    const res = await this.tryCreate(fields, options);
    if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
    return res.json();
  }
  /**
   * Follows the short link once, as a visitor would: `GET /{key}` (or `method`), the
   * redirect answered, not followed. Options: `query` ("?a=b"), `userAgent`, `referer`,
   * `country` (what Cloudflare would put in `request.cf`), `headers`.
   */
  visit(key, { method = "GET", query = "", userAgent, referer, country, headers = {} } = {}) {
    const sent = { ...headers };
    if (userAgent) sent["user-agent"] = userAgent;
    if (referer) sent.referer = referer;
    return this.fetch(`/${key}${query}`, { method, headers: sent, ...(country ? { cf: { country } } : {}) });
  }
  /** `n` visits to `key` at once; resolves to every answer. */
  visitConcurrently(key, n) {
    return Promise.all(Array.from({ length: n }, () => this.visit(key)));
  }
  /** `GET /{key}+`: where the link goes, without following it. */
  peek(key) {
    return this.get(`/${key}+`);
  }
  /** `GET /{key}/qr`, with `?size=` when given. */
  qr(key, size) {
    return this.get(`/${key}/qr${size === undefined ? "" : `?size=${size}`}`);
  }
  /** `GET /admin/{secret_key}`: the owner's view of the link. */
  showAdmin(link) {
    return this.get(`/admin/${secretOf(link)}`);
  }
  /** `PATCH /admin/{secret_key}` with `fields` as JSON (or a raw string body). */
  patch(link, fields) {
    return this.fetch(`/admin/${secretOf(link)}`, { method: "PATCH", headers: JSON_TYPE, body: asBody(fields) });
  }
  /** `DELETE /admin/{secret_key}`: the owner deactivates the link. */
  deactivate(link) {
    return this.delete(`/admin/${secretOf(link)}`);
  }
  /** `POST /admin/{secret_key}/check`: the owner asks for a check of the target now. */
  check(link) {
    return this.fetch(`/admin/${secretOf(link)}/check`, { method: "POST" });
  }
  /** `GET /admin/{secret_key}/stats`, with `?days=` when given. */
  stats(link, days) {
    return this.get(`/admin/${secretOf(link)}/stats${days === undefined ? "" : `?days=${days}`}`);
  }

  // The operator's verbs.

  /**
   * A call to the operator API with `Authorization: Bearer {token}`, by default the
   * worker's ADMIN_TOKEN. `json` is sent as the JSON body.
   */
  operator(path, { method = "GET", json, token = this.adminToken } = {}) {
    const headers = { authorization: `Bearer ${token}` };
    if (json === undefined) return this.fetch(path, { method, headers });
    return this.fetch(path, { method, headers: { ...headers, ...JSON_TYPE }, body: JSON.stringify(json) });
  }
  /**
   * The benchmark's storage counters (needs the BENCH_COUNTERS var), which answer only
   * to the operator's token.
   */
  async counters() {
    const res = await this.operator(BENCH_COUNTERS_PATH);
    if (res.status !== 200) throw new Error(`counters: ${res.status} ${await res.text()}`);
    return res.json();
  }
  /** A producer for the click queue (needs `queue: true`). */
  clickQueue() {
    return this.mf.getQueueProducer(CLICKS_QUEUE.binding, "shortener");
  }

  // What the worker stored, read through the bindings.

  /** The stored row of a link, read through the D1 binding. */
  row(key) {
    return this.db.prepare("SELECT * FROM links WHERE key = ?1").bind(key).first();
  }
  async clicks(key) {
    return (await this.row(key)).clicks;
  }
  /** Every raw visit row kept for a link (with VISIT_RETENTION_DAYS set), on any shard. */
  async visitRows(key) {
    const rows = await Promise.all(this.analytics.map((db) => db.prepare("SELECT * FROM visits WHERE link_key = ?1").bind(key).all()));
    return rows.flatMap((r) => r.results);
  }
  /**
   * A link's daily aggregates, on any shard: `days` ({day, clicks, bots}) and `dims`,
   * one {day, dim, value, clicks} per entry of each day's JSON split.
   */
  async aggregates(key) {
    const read = await Promise.all(
      this.analytics.map((db) => db.prepare("SELECT day, clicks, bots, dims FROM daily WHERE link_key = ?1 ORDER BY day").bind(key).all()),
    );
    const rows = read.flatMap((r) => r.results);
    const dims = rows.flatMap(({ day, dims }) =>
      Object.entries(JSON.parse(dims)).map(([name, clicks]) => ({ day, dim: name.slice(0, 1), value: name.slice(2), clicks })),
    );
    dims.sort((a, b) => a.day - b.day || a.dim.localeCompare(b.dim) || a.value.localeCompare(b.value));
    return { days: rows.map(({ day, clicks, bots }) => ({ day, clicks, bots })), dims };
  }
  /** Runs the Cron Trigger once, as the platform would, and waits for it. */
  async upkeep() {
    const worker = await this.mf.getWorker();
    return worker.scheduled({ cron: this.crons[0] });
  }
  /** Makes a link due for the next scheduled check, as time passing would. */
  async makeDue(key) {
    await this.db.prepare("UPDATE links SET health_due_at = 0 WHERE key = ?1").bind(key).run();
  }
  /**
   * Makes a link's expiry a second past, as time passing would. Only visits that read
   * the row see it: a rule cached in the isolate or KV keeps its own expiry.
   */
  async makeExpired(key) {
    await this.db.prepare("UPDATE links SET expires_at = ?2 WHERE key = ?1").bind(key, Date.now() - 1000).run();
  }
  /** How many links the table holds. */
  async linkCount() {
    return (await this.db.prepare("SELECT COUNT(*) AS n FROM links").first()).n;
  }
  /** The clicks in every daily aggregate, summed over the shards. */
  async aggregatedClicks() {
    const sums = await Promise.all(this.analytics.map((db) => db.prepare("SELECT COALESCE(SUM(clicks), 0) AS n FROM daily").first()));
    return sums.reduce((total, s) => total + s.n, 0);
  }
  /** The clicks of every link, summed. */
  async totalClicks() {
    return (await this.db.prepare("SELECT SUM(clicks) AS n FROM links").first()).n;
  }
  /** Removes a link and its visits from D1 behind the worker's back. */
  async eraseFromD1(key) {
    await this.db.prepare("DELETE FROM visits WHERE link_id = (SELECT id FROM links WHERE key = ?1)").bind(key).run();
    await this.db.prepare("DELETE FROM links WHERE key = ?1").bind(key).run();
  }
  /** Makes every write of click counters fail from now on (a trigger refuses them). */
  async breakClickWrites() {
    await this.db.prepare("CREATE TRIGGER break_click_writes BEFORE UPDATE OF clicks ON links BEGIN SELECT RAISE(ABORT, 'click writes broken (injected)'); END").run();
  }
  /** The link's KV entry now, or null. */
  cached(key) {
    return this.kv.get(kvKey(key));
  }
  /** Waits for the link's KV entry (cache fills run after the response) and returns it. */
  waitUntilCached(key) {
    return waitFor(() => this.cached(key), { message: `the KV entry ${kvKey(key)}` });
  }
  /** Waits for a log line containing `text` and returns it. */
  waitForLog(text, timeout = 5000) {
    return waitFor(() => this.log.lines.find((l) => l.includes(text)), { timeout, message: `a log line with "${text}"` });
  }
  /**
   * Waits until every click that a request answered before this call could bring has
   * been written, so that a check of "no further click" can fail: the click window
   * (read from src/clicks/window.rs), with the queue bound also its batch timeout (read
   * from wrangler.toml), and one more window as the margin for a late timer on a busy
   * machine. The write itself needs no margin: it is sent as the window's timer fires,
   * and a read through the D1 binding after that queues behind it (a D1 database runs
   * one query at a time, in the order they arrive). A click-limited link's count is
   * written before its response; its statistics follow through the window like any.
   */
  async settleClickWindow() {
    const bound = CLICK_WINDOW_MS + (this.queued ? QUEUE_BATCH_TIMEOUT_S * 1000 : 0);
    // A sleep on purpose: it proves that no further click lands, which no poll can.
    await sleep(bound + CLICK_WINDOW_MS);
  }
  /**
   * Waits for the clicks of `key` to reach `n` and returns them once the click window
   * has settled (`settleClickWindow`): clicks are written after the response, and a
   * double count would land after the count first reached `n`.
   */
  async settleClicks(key, n) {
    await waitFor(async () => (await this.clicks(key)) >= n, { timeout: 15000, message: `${n} clicks on ${key}` });
    await this.settleClickWindow();
    return this.clicks(key);
  }

  dispose() {
    return this.mf.dispose();
  }
}
