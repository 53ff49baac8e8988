// `make load`: drives the built worker under Miniflare on 127.0.0.1 with autocannon (a
// real HTTP load generator) and checks afterwards that every redirect was counted
// exactly once and every concurrent creation got its own key. Not part of `make test`.
import assert from "node:assert/strict";
import autocannon from "autocannon";
import { setTimeout as sleep } from "node:timers/promises";
import { startWorker, waitFor } from "./harness.mjs";

const LINKS = 100;
const REDIRECTS = 20_000;
const CREATIONS = 1_000;

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ timeout: 30, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const w = await startWorker({ host: "127.0.0.1", port: 0 });
const base = String(w.url).replace(/\/$/, "");
const failures = [];
const check = (ok, message) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${message}`);
  if (!ok) failures.push(message);
};
try {
  const keys = [];
  for (let i = 0; i < LINKS; i++) keys.push((await w.create({ target_url: `https://example.com/load/${i}` })).key);

  let next = 0;
  const started = Date.now();
  const redirects = await run({
    url: base,
    connections: 50,
    amount: REDIRECTS,
    requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: `/${keys[next++ % LINKS]}` }) }],
  });
  const seconds = (Date.now() - started) / 1000;
  const served = redirects["3xx"];
  console.log(`redirects: ${served} x 3xx, ${redirects["5xx"]} x 5xx, ${redirects.errors} errors, ${redirects.timeouts} timeouts in ${seconds.toFixed(1)} s (${Math.round(served / seconds)} req/s, p50 ${redirects.latency.p50} ms, p99 ${redirects.latency.p99} ms)`);
  // Clicks are written after each response; wait for them to land. A timeout is not
  // fatal here: the check below reports how many did.
  await waitFor(async () => (await w.totalClicks()) >= served, { timeout: 30_000, interval: 100, message: `${served} clicks` }).catch((e) => console.log(e.message));
  // A sleep on purpose: one more click window, so that a click counted twice shows.
  await sleep(500);
  const clicks = await w.totalClicks();
  const visits = await w.aggregatedClicks();
  check(served === REDIRECTS, `${served} of ${REDIRECTS} redirects answered 302`);
  check(clicks === REDIRECTS, `${clicks} clicks recorded for ${REDIRECTS} redirects across ${LINKS} links`);
  check(visits === REDIRECTS, `${visits} clicks in the daily aggregates`);
  check(redirects["5xx"] === 0 && redirects.errors === 0, `${redirects["5xx"]} server errors, ${redirects.errors} client errors during redirects`);

  const before = await w.linkCount();
  const creations = await run({
    url: `${base}/url`,
    connections: CREATIONS,
    amount: CREATIONS,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ target_url: "https://example.com/created-under-load" }),
  });
  const made = await w.db
    .prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS d FROM links WHERE target_url = 'https://example.com/created-under-load'")
    .first();
  console.log(`creations: ${creations["2xx"]} x 2xx, ${creations["5xx"]} x 5xx, ${creations.errors} errors (p50 ${creations.latency.p50} ms, p99 ${creations.latency.p99} ms)`);
  check(creations["2xx"] === CREATIONS, `${creations["2xx"]} of ${CREATIONS} concurrent creations answered 201`);
  check(made.n === CREATIONS && made.d === CREATIONS, `${made.d} distinct keys in ${made.n} new rows (${before} rows before)`);
  check(creations["5xx"] === 0 && creations.errors === 0, `${creations["5xx"]} server errors, ${creations.errors} client errors during creations`);
} finally {
  await w.dispose();
}
console.log(failures.length === 0 ? "load: all checks passed" : `load: ${failures.length} check(s) failed`);
process.exit(failures.length === 0 ? 0 : 1);
