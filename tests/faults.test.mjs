// Black-box fault tests: KV failing or slow, D1 missing or failing, and the race
// between a slow cache fill and a deactivation. KV faults come from a wrapper around
// the real local KV namespace (see harness.mjs), not from a mock of the worker.
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { workerPerTest } from "./harness.mjs";

// Each test starts the worker it needs; all are stopped when the file is done.
const worker = workerPerTest(after);

describe("KV unavailable", () => {
  test("every KV call failing: links are created and redirect from D1, and each request logs once", async () => {
    const w = await worker({ kvFault: "failing" });
    const link = await w.create({ target_url: "https://example.com/kv-down" });
    for (let i = 0; i < 3; i++) {
      const res = await w.get(`/${link.key}`);
      assert.equal(res.status, 302);
      assert.equal(res.headers.get("location"), "https://example.com/kv-down");
    }
    assert.equal(await w.settleClicks(link.key, 3), 3);
    assert.equal((await w.get(`/${link.key}+`)).status, 200);
    const patched = await w.fetch(`/admin/${link.secret_key}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target_url: "https://example.com/kv-down-2" }),
    });
    assert.equal(patched.status, 200);
    assert.equal((await w.get(`/${link.key}`)).headers.get("location"), "https://example.com/kv-down-2");
    assert.equal((await w.delete(`/admin/${link.secret_key}`)).status, 200);
    assert.equal((await w.get(`/${link.key}`)).status, 410);
    await sleep(300);
    // Four of those requests reached KV: the first redirect (read, then fill), the
    // PATCH (write), the DELETE (delete) and the last redirect (read; the DELETE had
    // cleared the isolate's copy). The others were answered from the isolate's memory.
    // A request that touches KV twice still logs one line.
    const kvLines = w.log.lines.filter((l) => l.startsWith("KV "));
    assert.equal(kvLines.length, 4, kvLines.join("\n"));
  });
});

describe("D1 unavailable", () => {
  test("without the D1 binding: 503 JSON everywhere storage is needed, and nothing in KV", async () => {
    const w = await worker({ withDb: false });
    const cases = [
      () => w.post("/url", { target_url: "https://example.com/" }),
      () => w.get("/healthz"),
      () => w.get("/abcdefgh"),
      () => w.get("/abcdefgh+"),
      () => w.get(`/admin/abcdefgh_${"a".repeat(27)}`),
      () => w.delete(`/admin/abcdefgh_${"a".repeat(27)}`),
    ];
    for (const run of cases) {
      const res = await run();
      assert.equal(res.status, 503);
      assert.match((await res.json()).detail, /unavailable/);
    }
    assert.deepEqual((await w.kv.list()).keys, []);
  });

  test("a failed click write after the response is logged with the key, never the secret", async () => {
    const w = await worker();
    const link = await w.create({ target_url: "https://example.com/lost-click" });
    // Break the visits table so the click batch fails inside waitUntil.
    await w.db.prepare("DROP TABLE visits").run();
    const res = await w.get(`/${link.key}`);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://example.com/lost-click");
    const line = await w.until(() => w.log.lines.find((l) => l.includes("not recorded")), "the log line");
    assert.ok(line.includes(link.key), line);
    assert.ok(!w.log.lines.some((l) => l.includes(link.secret_key)));
    // The batch is atomic: the failed visit insert also rolled back the increment.
    assert.equal(await w.clicks(link.key), 0);
  });
});

describe("deactivation races", () => {
  test("a slow cache fill that started before a deactivation does not bring the old target back", async () => {
    const w = await worker({ kvFault: "slow", putDelayMs: 600 });
    const link = await w.create({ target_url: "https://example.com/race" });
    // The visit reads D1 (active), answers, and starts a KV fill that lands 600 ms later.
    assert.equal((await w.get(`/${link.key}`)).status, 302);
    await sleep(100);
    assert.equal((await w.delete(`/admin/${link.secret_key}`)).status, 200);
    // Wait for the late fill and the re-check that follows it.
    await sleep(1500);
    assert.equal(await w.kv.get(`link:${link.key}`), null);
    assert.equal((await w.get(`/${link.key}`)).status, 410);
  });

  test("a slow fill racing an edit leaves the new target, not the old one", async () => {
    const w = await worker({ kvFault: "slow", putDelayMs: 600 });
    const link = await w.create({ target_url: "https://example.com/before" });
    await w.get(`/${link.key}`);
    await sleep(100);
    await w.fetch(`/admin/${link.secret_key}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target_url: "https://example.com/after" }),
    });
    await sleep(1500);
    const cached = await w.kv.get(`link:${link.key}`);
    assert.ok(cached === null || cached.endsWith("https://example.com/after"), String(cached));
    assert.equal((await w.get(`/${link.key}`)).headers.get("location"), "https://example.com/after");
  });
});
