// Starts the built worker (build/index.js + wasm) under Miniflare with real local D1 and
// KV bindings, applies every migration, and offers one helper per HTTP verb.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Miniflare, Log, LogLevel } from "miniflare";

const ROOT = new URL("..", import.meta.url).pathname;

/** Binding names and settings, read from wrangler.toml so they are written once. */
export function wranglerConfig() {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const section = (name, field) => {
    const m = toml.match(new RegExp(`\\[\\[${name}\\]\\]([\\s\\S]*?)(?=\\n\\[|$)`));
    if (!m) throw new Error(`wrangler.toml has no [[${name}]]`);
    return m[1].match(new RegExp(`^${field}\\s*=\\s*"([^"]+)"`, "m"))[1];
  };
  return {
    compatibilityDate: toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1],
    db: section("d1_databases", "binding"),
    kv: section("kv_namespaces", "binding"),
    limiter: section("ratelimits", "name"),
    limiterNamespace: section("ratelimits", "namespace_id"),
  };
}

/** Every statement of every migration, in file order. */
export function migrationStatements() {
  const dir = join(ROOT, "migrations");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
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

/**
 * Starts the worker. Options: `vars` (extra [vars] and secrets), `withDb`/`withKv`
 * (default true), `kvFault` ("failing" or "slow", with `putDelayMs`), `rateLimit`
 * ({limit, period} for the creation limiter), `queue` (record clicks through the CLICKS
 * queue), `host`/`port` to listen for real clients.
 */
export async function startWorker({ vars = {}, withDb = true, withKv = true, kvFault, putDelayMs = 500, rateLimit, queue = false, host, port, ...rest } = {}) {
  const cfg = wranglerConfig();
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
    d1Databases: withDb ? [cfg.db] : [],
    kvNamespaces: withKv && !kvFault ? [cfg.kv] : [],
    bindings: vars,
    // The click queue, as the commented [[queues]] sections of wrangler.toml set it up.
    ...(queue
      ? {
          queueProducers: { CLICKS: "shortener-clicks" },
          queueConsumers: { "shortener-clicks": { maxBatchSize: 100, maxBatchTimeout: 1 } },
        }
      : {}),
    ...(rateLimit ? { ratelimits: { [cfg.limiter]: { namespace_id: cfg.limiterNamespace, simple: rateLimit } } } : {}),
    ...(kvFault ? { wrappedBindings: { [cfg.kv]: { scriptName: "kv-fault", bindings: { mode: kvFault, putDelayMs } } } } : {}),
    ...rest,
  };
  const workers = [main];
  if (kvFault) workers.push({ name: "kv-fault", modules: true, script: KV_WRAPPER, kvNamespaces: { INNER: "links-kv" } });
  const mf = new Miniflare({
    workers,
    ...(host ? { host } : {}),
    ...(port ? { port } : {}),
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio: (stdout, stderr) => {
      collect(stdout);
      collect(stderr);
    },
  });
  const url = await mf.ready;
  const db = withDb ? await mf.getD1Database(cfg.db) : null;
  let kv = null;
  if (kvFault) kv = await mf.getKVNamespace("INNER", "kv-fault");
  else if (withKv) kv = await mf.getKVNamespace(cfg.kv);
  if (db) await db.batch(migrationStatements().map((s) => db.prepare(s)));
  const worker = new Worker(mf, db, kv, log);
  worker.url = url;
  return worker;
}

/**
 * A `startWorker` for files whose tests each need their own configuration: every
 * worker it starts is disposed by the `after` hook it registers.
 */
export function workerPerTest(after) {
  const started = [];
  after(() => Promise.all(started.map((w) => w.dispose())));
  return async (opts) => {
    const w = await startWorker(opts);
    started.push(w);
    return w;
  };
}

class Worker {
  constructor(mf, db, kv, log) {
    Object.assign(this, { mf, db, kv, log });
    this.origin = "http://localhost";
  }

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
  post(path, body, headers = { "content-type": "application/json" }) {
    const data = typeof body === "string" ? body : JSON.stringify(body);
    return this.fetch(path, { method: "POST", body: data, headers });
  }
  /** Creates a link and returns the parsed 201 body. */
  async create(body, headers) {
    const res = await this.post("/url", body, headers);
    if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
    return res.json();
  }

  /** The stored row of a link, read through the D1 binding. */
  row(key) {
    return this.db.prepare("SELECT * FROM links WHERE key = ?1").bind(key).first();
  }
  /** Waits until `probe()` returns a truthy value (work done in `waitUntil` is async). */
  async until(probe, what = "condition", timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }
  async clicks(key) {
    return (await this.row(key)).clicks;
  }
  /** Waits for the clicks of `key` to reach `n`, then checks they stay there. */
  async settleClicks(key, n) {
    await this.until(async () => (await this.clicks(key)) >= n, `${n} clicks on ${key}`, 15000);
    await sleep(200);
    return this.clicks(key);
  }

  dispose() {
    return this.mf.dispose();
  }
}
