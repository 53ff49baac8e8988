// `make bench-probe`: what one D1 or KV call costs under Miniflare, the argument of
// bench/README.md ("What bounds the cold path"). A plain JavaScript worker (no wasm, no
// build needed) with local D1 and KV answers one kind of request per path; each kind
// is sent in rounds, alternating, and the CPU time of workerd (from /proc, as in
// `make bench`) per request is reported with its ratio to a constant response.
// Writes bench/probe.md. PROBE_REQUESTS and PROBE_ROUNDS override the size.
import { writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Miniflare, Log, LogLevel } from "miniflare";
import { workerdCpuMs } from "./cpu.mjs";
import { revision } from "./provenance.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const REQUESTS = Number(process.env.PROBE_REQUESTS ?? 2000);
const ROUNDS = Number(process.env.PROBE_ROUNDS ?? 5);
const CONCURRENCY = 16;
const ROWS = 10_000;

// One operation per path; everything else the same (a tiny text response).
const SCRIPT = `
let n = 0;
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    const k = String((n++ * 7919) % ${ROWS});
    switch (path) {
      case "/constant": break;
      case "/d1-read": await env.DB.prepare("SELECT v FROM t WHERE k = ?1").bind(k).first(); break;
      case "/d1-insert": await env.DB.prepare("INSERT INTO w (k, v) VALUES (?1, ?2)").bind(crypto.randomUUID(), "x").run(); break;
      case "/kv-miss": await env.KV.get("missing-" + crypto.randomUUID()); break;
      case "/kv-write": await env.KV.put("w-" + crypto.randomUUID(), "x"); break;
      default: return new Response("no such probe", { status: 404 });
    }
    return new Response("ok");
  },
};`;

const OPERATIONS = [
  ["/constant", "a constant response"],
  ["/d1-read", "one D1 read by primary key"],
  ["/d1-insert", "one single-row D1 insert"],
  ["/kv-miss", "one KV read that misses"],
  ["/kv-write", "one KV write"],
];

async function send(mf, path, count) {
  let next = 0;
  const one = async () => {
    while (next++ < count) {
      const res = await mf.dispatchFetch(`http://localhost${path}`);
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, one));
}

const mf = new Miniflare({
  cf: false, // no fetch of the `Request.cf` template from Cloudflare
  modules: true,
  script: SCRIPT,
  compatibilityDate: "2026-07-01",
  d1Databases: ["DB"],
  kvNamespaces: ["KV"],
  log: new Log(LogLevel.WARN),
});
try {
  const db = await mf.getD1Database("DB");
  await db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)");
  await db.exec("CREATE TABLE w (k TEXT PRIMARY KEY, v TEXT)");
  await db
    .prepare(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${ROWS - 1}) INSERT INTO t SELECT CAST(i AS TEXT), 'value ' || i FROM s`)
    .run();
  if (workerdCpuMs() === null) throw new Error("/proc is not readable: no CPU figures");
  const load = os.loadavg()[0];
  // A warm-up of each, then the rounds, in alternating order.
  for (const [path] of OPERATIONS) await send(mf, path, 200);
  const samples = Object.fromEntries(OPERATIONS.map(([path]) => [path, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? OPERATIONS : [...OPERATIONS].reverse();
    for (const [path] of order) {
      const before = workerdCpuMs();
      await send(mf, path, REQUESTS);
      samples[path].push((workerdCpuMs() - before) / REQUESTS);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const constant = median(samples["/constant"]);
  const ms = (x) => x.toFixed(3);
  const rows = OPERATIONS.map(([path, what]) => {
    const m = median(samples[path]);
    const [lo, hi] = [Math.min(...samples[path]), Math.max(...samples[path])];
    return `| ${what} | ${ms(m)} (${ms(lo)}–${ms(hi)}) | ${(constant / m).toFixed(2)} |`;
  });
  const report = `# Cost of one D1 or KV call under Miniflare

Written by \`make bench-probe\` (\`node bench/probe.mjs\`) at commit ${revision(["bench/probe.md"])} on
${new Date().toISOString().slice(0, 10)}: ${os.availableParallelism()} cores (${os.cpus()[0]?.model?.trim() ?? "unknown CPU"}), Node
${process.versions.node}, load average ${load.toFixed(1)} at the start.

A plain JavaScript worker (no wasm) with local D1 and KV, one operation per request;
${ROUNDS} rounds of ${REQUESTS.toLocaleString("en-US")} requests per operation, ${CONCURRENCY} at a time through Miniflare's
\`dispatchFetch\`, in alternating order. Workerd's CPU time (user + system, from
\`/proc\`, as in \`make bench\`) per request, median of the rounds (lowest–highest), and
the constant response's CPU over the operation's: the share of a constant response's
throughput a CPU-bound worker making that one call would reach.

| request | workerd CPU ms per request | ratio to the constant response |
| --- | ---: | ---: |
${rows.join("\n")}

Under Miniflare, D1 and KV run in the same workerd process as the worker, so their
SQLite and storage work is part of these figures; on Cloudflare it runs elsewhere.
`;
  writeFileSync(join(ROOT, "bench/probe.md"), report);
  console.log(report);
} finally {
  await mf.dispose();
}
