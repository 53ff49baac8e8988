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
  const section = (name) => {
    const m = toml.match(new RegExp(`\\[\\[${name}\\]\\]([\\s\\S]*?)(?=\\n\\[|$)`));
    if (!m) throw new Error(`wrangler.toml has no [[${name}]]`);
    return m[1].match(/^binding\s*=\s*"([^"]+)"/m)[1];
  };
  return {
    compatibilityDate: toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1],
    db: section("d1_databases"),
    kv: section("kv_namespaces"),
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

/** A log that keeps every line the worker prints, for tests that inspect logs. */
class CapturingLog extends Log {
  constructor() {
    super(LogLevel.DEBUG);
    this.lines = [];
  }
  log(message) {
    this.lines.push(message);
  }
}

/**
 * Starts the worker. Options: `vars` (extra [vars]), `withDb`/`withKv` (default true),
 * `host`/`port` to listen for real HTTP clients.
 */
export async function startWorker({ vars = {}, withDb = true, withKv = true, ...rest } = {}) {
  const cfg = wranglerConfig();
  const log = new CapturingLog();
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(ROOT, "build/index.js"),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: cfg.compatibilityDate,
    d1Databases: withDb ? [cfg.db] : [],
    kvNamespaces: withKv ? [cfg.kv] : [],
    bindings: vars,
    log,
    ...rest,
  });
  await mf.ready;
  const db = withDb ? await mf.getD1Database(cfg.db) : null;
  const kv = withKv ? await mf.getKVNamespace(cfg.kv) : null;
  if (db) await db.batch(migrationStatements().map((s) => db.prepare(s)));
  return new Worker(mf, db, kv, log);
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
  async create(body) {
    const res = await this.post("/url", body);
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
