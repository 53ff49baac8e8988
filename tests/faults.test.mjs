// Black-box fault tests: KV failing or slow, D1 missing or failing, and the race
// between a slow cache fill and a deactivation. KV faults come from a wrapper around
// the real local KV namespace (see harness.mjs), not from a mock of the worker. Each
// test starts the worker its fault needs.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { workerPerTest } from "./harness.mjs";

const worker = workerPerTest();

describe("KV unavailable", () => {
  test("with every KV call failing, links are created and redirect from D1, and each request logs once", async () => {
    const w = await worker({ kvFault: "failing" });
    const link = await w.create({ target_url: "https://example.com/kv-down" });

    for (let i = 0; i < 3; i++) {
      const res = await w.visit(link.key);
      assert.equal(res.status, 302);
      assert.equal(res.headers.get("location"), "https://example.com/kv-down");
    }
    assert.equal(await w.settleClicks(link.key, 3), 3);
    assert.equal((await w.peek(link.key)).status, 200);
    const patched = await w.patch(link, { target_url: "https://example.com/kv-down-2" });
    assert.equal(patched.status, 200);
    assert.equal((await w.visit(link.key)).headers.get("location"), "https://example.com/kv-down-2");
    assert.equal((await w.deactivate(link)).status, 200);
    assert.equal((await w.visit(link.key)).status, 410);
    // A sleep on purpose: KV failures are logged after the response, and the count
    // below must also prove that no fifth line comes.
    await sleep(300);

    // Four of those requests reached KV: the first redirect (read, then fill), the
    // PATCH (write), the DELETE (delete) and the last redirect (read; the DELETE had
    // cleared the isolate's copy). The others were answered from the isolate's memory.
    // A request that touches KV twice still logs one line.
    const kvLines = w.log.lines.filter((l) => JSON.parse(l).event === "kv");
    assert.equal(kvLines.length, 4, kvLines.join("\n"));
  });
});

describe("D1 unavailable", () => {
  test("without the D1 binding, every request that needs storage answers 503 JSON and nothing reaches KV", async () => {
    const w = await worker({ withDb: false });
    const secret = `abcdefgh_${"a".repeat(27)}`;
    const requests = [
      () => w.tryCreate({ target_url: "https://example.com/" }),
      () => w.get("/healthz"),
      () => w.visit("abcdefgh"),
      () => w.peek("abcdefgh"),
      () => w.showAdmin(secret),
      () => w.deactivate(secret),
    ];
    for (const send of requests) {
      const res = await send();

      assert.equal(res.status, 503);
      assert.match((await res.json()).detail, /unavailable/);
    }
    assert.deepEqual((await w.kv.list()).keys, []);
  });

  test("a failed click write after the response is logged with the key, never the secret", async () => {
    const w = await worker();
    const link = await w.create({ target_url: "https://example.com/lost-click" });
    // Break the visits table so the click batch fails inside waitUntil.
    await w.breakClickWrites();

    const res = await w.visit(link.key);
    const line = await w.waitForLog("not recorded");

    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://example.com/lost-click");
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
    const visit = await w.visit(link.key);
    // A sleep on purpose: the deactivation must land while the fill is in flight.
    await sleep(100);
    const deactivated = await w.deactivate(link);
    // A sleep on purpose: it outlasts the late fill and the re-check that follows it,
    // and what is proven is that the old target does not come back.
    await sleep(1500);

    assert.equal(visit.status, 302);
    assert.equal(deactivated.status, 200);
    assert.equal(await w.cached(link.key), null);
    assert.equal((await w.visit(link.key)).status, 410);
  });

  test("a slow fill racing an edit leaves the new target, not the old one", async () => {
    const w = await worker({ kvFault: "slow", putDelayMs: 600 });
    const link = await w.create({ target_url: "https://example.com/before" });

    await w.visit(link.key);
    // A sleep on purpose: the edit must land while the fill is in flight.
    await sleep(100);
    await w.patch(link, { target_url: "https://example.com/after" });
    // A sleep on purpose: it outlasts the late fill and the re-check that follows it,
    // and what is proven is that the old target does not come back.
    await sleep(1500);

    const cached = await w.cached(link.key);
    assert.ok(cached === null || cached.endsWith("https://example.com/after"), String(cached));
    assert.equal((await w.visit(link.key)).headers.get("location"), "https://example.com/after");
  });
});
