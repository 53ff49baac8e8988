// Black-box tests of configuration and of storage outages: BASE_URL, and the worker run
// without its D1 or KV binding.
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { workerPerTest } from "./harness.mjs";

// Each test starts the worker it needs; all are stopped when the file is done.
const worker = workerPerTest(after);

describe("BASE_URL", () => {
  test("prefixes every short and admin URL, and its host is refused as a target", async () => {
    const w = await worker({ vars: { BASE_URL: "https://sho.rt/" } });
    const link = await w.create({ target_url: "https://example.com/" });
    assert.equal(link.url, `https://sho.rt/${link.key}`);
    assert.equal(link.tiny_url, link.url);
    assert.equal(link.admin_url, `https://sho.rt/admin/${link.secret_key}`);
    const peek = await (await w.get(`/${link.key}+`)).json();
    assert.equal(peek.url, `https://sho.rt/${link.key}`);
    const loop = await w.post("/url", { target_url: "http://Sho.Rt:8080/x" });
    assert.equal(loop.status, 400);
  });
});

describe("without a D1 binding", () => {
  test("creation and health answer 503 JSON; nothing is written to KV", async () => {
    const w = await worker({ withDb: false });
    const created = await w.post("/url", { target_url: "https://example.com/" });
    assert.equal(created.status, 503);
    assert.match((await created.json()).detail, /unavailable/);
    const health = await w.get("/healthz");
    assert.equal(health.status, 503);
    const visit = await w.get("/abcdefgh");
    assert.equal(visit.status, 503);
    assert.deepEqual((await w.kv.list()).keys, []);
  });

  test("paths that cannot name a link still answer 404 without touching storage", async () => {
    const w = await worker({ withDb: false, withKv: false });
    for (const path of ["/ab", "/admin/nope", "/x/y"]) {
      const res = await w.get(path);
      assert.equal(res.status, 404, path);
    }
  });
});

describe("without a KV binding", () => {
  test("links are created and redirect from D1, with clicks counted", async () => {
    const w = await worker({ withKv: false });
    const link = await w.create({ target_url: "https://example.com/nokv" });
    const res = await w.get(`/${link.key}`);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://example.com/nokv");
    assert.equal(await w.settleClicks(link.key, 1), 1);
    assert.equal((await w.delete(`/admin/${link.secret_key}`)).status, 200);
    assert.equal((await w.get(`/${link.key}`)).status, 410);
  });
});
