// The documented promises that had no test of their own (docs/api.md, docs/security.md):
// each test is named after the promise and fails when it breaks. Each test starts the
// worker its configuration needs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readJson, workerPerTest } from "./harness.mjs";

const worker = workerPerTest();
const ADMIN_TOKEN = "promises-test-token";
const KIB = 1024;

/** A POST of `bytes` bytes of JSON (an array padded with spaces) to `path` as the operator. */
async function postSized(w, path, bytes) {
  const item = JSON.stringify({ target_url: "https://example.com/sized" });
  const body = `[${item}${" ".repeat(bytes - item.length - 2)}]`;
  assert.equal(Buffer.byteLength(body), bytes);
  const res = await w.fetch(path, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

test("the QR code is cached an hour (Cache-Control: public, max-age=3600), and a dead link's QR answers 410", async () => {
  const w = await worker();
  const link = await w.create({ target_url: "https://example.com/qr-promise" });

  const qr = await w.qr(link.key);
  await qr.arrayBuffer();
  assert.equal(qr.status, 200);
  assert.equal(qr.headers.get("cache-control"), "public, max-age=3600");

  await w.deactivate(link);
  const dead = await w.qr(link.key);
  assert.equal(dead.status, 410);
  assert.ok((await dead.json()).detail);
});

test("CORS preflights are cached 600 s", async () => {
  const w = await worker({ vars: { CORS_ORIGINS: "https://app.example" } });

  const res = await w.fetch("/url", {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
  });
  await res.arrayBuffer();

  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
  assert.equal(res.headers.get("access-control-max-age"), "600");
});

test("a bulk body over 256 KiB answers 413, and one at 256 KiB does not", async () => {
  const w = await worker({ vars: { ADMIN_TOKEN } });

  assert.notEqual(await postSized(w, "/api/links/bulk", 256 * KIB), 413);
  assert.equal(await postSized(w, "/api/links/bulk", 256 * KIB + 1), 413);
});

test("an import body over 4 MiB answers 413, and one at 4 MiB does not", async () => {
  const w = await worker({ vars: { ADMIN_TOKEN } });

  assert.notEqual(await postSized(w, "/api/links/import?dry_run=true", 4 * KIB * KIB), 413);
  assert.equal(await postSized(w, "/api/links/import?dry_run=true", 4 * KIB * KIB + 1), 413);
});

test("every HTML page is no-store", async () => {
  const w = await worker({ vars: { ADMIN_TOKEN } });
  const link = await w.create({ target_url: "https://example.com/html-promise" });
  const locked = await w.create({ target_url: "https://example.com/html-locked", password: "open sesame" });
  const gone = await w.create({ target_url: "https://example.com/html-gone" });
  await w.deactivate(gone);
  const pages = {
    home: "/",
    admin: `/admin/${link.secret_key}`,
    preview: `/${link.key}+`,
    "password form": `/${locked.key}`,
    "not found": "/no-such-link",
    gone: `/${gone.key}`,
    dashboard: "/dashboard",
  };

  const wrong = [];
  for (const [name, path] of Object.entries(pages)) {
    const res = await w.get(path, { accept: "text/html" });
    const type = res.headers.get("content-type");
    const cache = res.headers.get("cache-control");
    await res.arrayBuffer();
    if (!type?.startsWith("text/html") || cache !== "no-store") wrong.push(`${name}: ${res.status} ${type} ${cache}`);
  }
  assert.deepEqual(wrong, []);
});

test("a PATCH to a blocked host answers 400 and changes nothing", async () => {
  const w = await worker({ vars: { ADMIN_TOKEN, BLOCKED_HOSTS: "blocked.example" } });
  const link = await w.create({ target_url: "https://example.com/before-patch" });

  const owner = await w.patch(link, { target_url: "https://www.blocked.example/x" });
  const operator = await w.operator(`/api/links/${link.key}`, { method: "PATCH", json: { target_url: "https://blocked.example/y" } });

  assert.equal(owner.status, 400);
  assert.match((await owner.json()).detail, /block/i);
  assert.equal(operator.status, 400);
  assert.match((await operator.json()).detail, /block/i);
  assert.equal((await w.row(link.key)).target_url, "https://example.com/before-patch");
});

test("logs carry no IP address and no referrer", async () => {
  // Every path that logs is taken: the limiter and KV failing, and a click write failing.
  const w = await worker({ vars: { VISIT_RETENTION_DAYS: "30" }, limiterFault: true, kvFault: "failing" });
  const IP = "203.0.113.77";
  const REFERRER = "https://referrer.example/private/page?who=someone";
  const client = { "cf-connecting-ip": IP, "x-forwarded-for": IP, "x-real-ip": IP, referer: REFERRER };

  const link = await w.create({ target_url: "https://example.com/logged" }, { ip: IP, headers: client });
  assert.equal((await w.visit(link.key, { referer: REFERRER, headers: client })).status, 302);
  await w.settleClicks(link.key, 1);
  await w.breakClickWrites();
  assert.equal((await w.visit(link.key, { referer: REFERRER, headers: client })).status, 302);
  await w.waitForLog("were not recorded");

  // The logs were captured (they name the key), and none holds the address or the referrer.
  assert.ok(w.log.lines.some((l) => l.includes(link.key)), w.log.lines.join("\n"));
  const leaks = w.log.lines.filter((l) => l.includes(IP) || l.includes("referrer.example") || l.includes("private/page"));
  assert.deepEqual(leaks, []);
  // Every line is one JSON object with its level and event (src/log.rs), which Workers
  // Logs indexes field by field.
  for (const line of w.log.lines) {
    const parsed = JSON.parse(line);
    assert.ok(["error", "warn", "info"].includes(parsed.level) && typeof parsed.event === "string", line);
  }
});

test("D1 bound but failing: 503 JSON, nothing written to KV", async () => {
  const w = await worker();
  const link = await w.create({ target_url: "https://example.com/before-d1-fails" });
  await w.db.prepare("DROP TABLE links").run();

  const create = await w.tryCreate({ target_url: "https://example.com/while-d1-fails" });
  const visit = await w.visit(link.key);

  assert.equal(create.status, 503);
  assert.match((await create.json()).detail, /Storage is temporarily unavailable/);
  assert.equal(visit.status, 503);
  assert.ok((await visit.json()).detail);
  assert.deepEqual((await w.kv.list()).keys, []);
});

test("a drawn key is retried at most 5 times on collisions, then 503", async () => {
  const w = await worker({ vars: { KEY_LENGTH: "3", BENCH_COUNTERS: "1" } });
  // Every 3-symbol key taken.
  await w.db
    .prepare(
      `WITH RECURSIVE s(i, c) AS (SELECT 1, substr(?1, 1, 1) UNION ALL SELECT i + 1, substr(?1, i + 1, 1) FROM s WHERE i < 31)
       INSERT OR IGNORE INTO links (key, target_url, secret_hash, created_at, updated_at, stats_key)
       SELECT a.c || b.c || c.c, 'https://example.com/taken', lower(hex(randomblob(32))), 0, 0, a.c || b.c || c.c FROM s a, s b, s c`,
    )
    .bind("23456789abcdefghjkmnpqrstuvwxyz")
    .run();
  /** The D1 statements the worker runs for one creation, and its answer. */
  const statementsOf = async (fields) => {
    const before = (await w.counters()).d1_statements;
    const res = await w.tryCreate(fields);
    return { status: res.status, detail: (await res.json()).detail, statements: (await w.counters()).d1_statements - before };
  };

  // A taken custom key is tried once: that is the cost of one attempt.
  const once = await statementsOf({ target_url: "https://example.com/taken-custom", custom_key: "222" });
  const drawn = await statementsOf({ target_url: "https://example.com/no-room" });

  assert.equal(once.status, 409);
  assert.ok(once.statements >= 1, JSON.stringify(once));
  assert.equal(drawn.status, 503);
  assert.match(drawn.detail, /free short key/);
  assert.equal(drawn.statements, 5 * once.statements, `one attempt: ${once.statements} statements; a drawn key: ${drawn.statements}`);
});

test("the rate limiter failing lets creation through, and says so in the log", async () => {
  const w = await worker({ limiterFault: true });

  const res = await w.tryCreate({ target_url: "https://example.com/limiter-down" }, { ip: "198.51.100.20" });

  assert.equal(res.status, 201);
  assert.ok((await readJson(res)).key);
  await w.waitForLog("rate limiter failed");
});
