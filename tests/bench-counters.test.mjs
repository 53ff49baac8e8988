// The benchmark's storage counters are a test hook: they must not reach a deployment.
// They answer only with the BENCH_COUNTERS var "1" and only to the operator's own token
// (ADMIN_TOKEN); by default, and to anyone else, the path names nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BENCH_COUNTERS_PATH, workerPerTest } from "./harness.mjs";

const start = workerPerTest();
const ADMIN_TOKEN = "bench-counters-test-token";

/** The status of a GET of `path` with `token` (none when null), its body read. */
async function statusOf(w, path, token) {
  const res = await w.fetch(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  await res.arrayBuffer();
  return res.status;
}

test("the bench counters are absent by default, even to the operator", async () => {
  const w = await start({ vars: { ADMIN_TOKEN } });

  assert.equal(await statusOf(w, BENCH_COUNTERS_PATH, ADMIN_TOKEN), 404);
  assert.equal(await statusOf(w, BENCH_COUNTERS_PATH, null), 401);
  assert.equal(await statusOf(w, "/__bench/counters", null), 404);
});

test("with BENCH_COUNTERS the counters answer the operator's token only", async () => {
  const w = await start({ vars: { ADMIN_TOKEN, BENCH_COUNTERS: "1" } });
  const made = await w.operator("/api/keys", { method: "POST", json: { name: "an admin key", role: "admin" } });
  assert.equal(made.status, 201);
  const adminKey = (await made.json()).token;

  assert.equal(await statusOf(w, BENCH_COUNTERS_PATH, null), 401);
  assert.equal(await statusOf(w, BENCH_COUNTERS_PATH, "not-the-token"), 401);
  assert.equal(await statusOf(w, BENCH_COUNTERS_PATH, adminKey), 404, "an API key, even an admin's, is not the operator");
  // The old path, before any authentication, is gone.
  assert.equal(await statusOf(w, "/__bench/counters", null), 404);
  const counters = await w.counters();
  assert.ok(Number.isFinite(counters.d1_statements), JSON.stringify(counters));
});
