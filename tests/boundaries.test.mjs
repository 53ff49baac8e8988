// Everything the service accepts it can store, count and serve: values at and across
// every boundary of the domain go through the HTTP door, the real local D1, and back;
// hostile visitor input never costs a click or turns a redirect into a 5xx.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { workerForFile } from "./harness.mjs";

const MAX_SAFE = 2 ** 53 - 1;

// One worker: every test reads and writes only the links it creates, except the export
// test, which counts what the table holds when it runs.
// Raw visits are kept, so that the stored form of hostile headers can be read back.
const w = await workerForFile({ vars: { ADMIN_TOKEN: "boundaries-operator-token", VISIT_RETENTION_DAYS: "30" } });

const show = async (key) => (await w.operator(`/api/links/${key}`)).json();

describe("every accepted value round-trips through D1", () => {
  // [what is sent, what the API must echo]: at each boundary, inside it.
  const accepted = [
    [{ max_clicks: 1 }, { max_clicks: 1 }],
    [{ max_clicks: MAX_SAFE }, { max_clicks: MAX_SAFE }],
    [{ expires_at: "9999-12-31T23:59:59Z" }, { expires_at: "9999-12-31T23:59:59Z" }],
    // An offset is normalized to UTC, and the echo is RFC 3339 in UTC.
    [{ expires_at: "9999-12-31T23:59:59+01:00" }, { expires_at: "9999-12-31T22:59:59Z" }],
    [{ expires_at: "2100-02-28T23:30:00-01:00" }, { expires_at: "2100-03-01T00:30:00Z" }],
    [{ expires_at: "2099-06-30t12:00:00.999z" }, { expires_at: "2099-06-30T12:00:00Z" }],
  ];
  for (const [sent, echoed] of accepted) {
    test(`${JSON.stringify(sent)} is stored, served, counted and echoed as ${JSON.stringify(echoed)}`, async () => {
      const made = await w.create({ target_url: "https://example.com/edge", ...sent });
      for (const [field, value] of Object.entries(echoed)) assert.equal(made[field], value, field);
      const read = await show(made.key);
      for (const [field, value] of Object.entries(echoed)) assert.equal(read[field], value, field);
      // The echo is itself accepted as input, unchanged.
      const again = await w.operator(`/api/links/${made.key}`, { method: "PATCH", json: echoed });
      assert.equal(again.status, 200);
      for (const [field, value] of Object.entries(echoed)) assert.equal((await again.json())[field], value, field);
      assert.equal((await w.visit(made.key)).status, 302);
      assert.equal(await w.settleClicks(made.key, 1), 1);
      assert.equal((await (await w.stats(made)).json()).clicks, 1);
    });
  }

  // Across each boundary: refused with a 4xx that says why, never stored.
  const refused = [
    ['"max_clicks": 2^53', `{"target_url":"https://example.com/","max_clicks":${2 ** 53}}`],
    ['"max_clicks": 2^63', '{"target_url":"https://example.com/","max_clicks":9223372036854775808}'],
    ['"max_clicks": 1e20', '{"target_url":"https://example.com/","max_clicks":1e20}'],
    ['"max_clicks": 0', '{"target_url":"https://example.com/","max_clicks":0}'],
    ['"max_clicks": 1.5', '{"target_url":"https://example.com/","max_clicks":1.5}'],
    ["a year past 9999 after UTC normalization", '{"target_url":"https://example.com/","expires_at":"9999-12-31T23:59:59-00:01"}'],
    ["a five-digit year", '{"target_url":"https://example.com/","expires_at":"+10000-01-01T00:00:00Z"}'],
    ["a date in the past", '{"target_url":"https://example.com/","expires_at":"1969-12-31T23:59:59Z"}'],
  ];
  for (const [what, body] of refused) {
    test(`${what} is refused with a 4xx and stores nothing`, async () => {
      const before = await w.linkCount();
      const res = await w.tryCreate(body);
      assert.ok(res.status === 400 || res.status === 422, `${res.status}`);
      assert.match((await res.json()).detail, /max_clicks|expires_at/);
      assert.equal(await w.linkCount(), before);
    });
  }
});

describe("visitor input can never fail a write", () => {
  const longHost = `${"a".repeat(60)}.`.repeat(5) + "example"; // 312 characters
  const hostile = [
    { headers: { referer: `https://${longHost}/` } },
    { headers: { referer: "https://\u00e9xample.com/" } },
    { headers: { "user-agent": "x".repeat(8000) } },
    { cf: { country: "Germany" } },
    { cf: { country: "d\u00e9" } },
    { cf: { country: "" } },
    { headers: { referer: "https://news.example/" }, cf: { country: "de" } },
  ];

  test("every visit to an ordinary link counts, whatever its headers", async () => {
    const link = await w.create({ target_url: "https://example.com/plain" });
    for (const init of hostile) assert.equal((await w.fetch(`/${link.key}`, init)).status, 302);
    assert.equal(await w.settleClicks(link.key, hostile.length), hostile.length);
    const rows = await w.visitRows(link.key);
    assert.equal(rows.length, hostile.length);
    const { dims } = await w.aggregates(link.key);
    assert.equal(dims.filter((d) => d.dim === "r").reduce((n, d) => n + d.clicks, 0), hostile.length);
    assert.ok(dims.every((d) => d.value.length <= 255));
    assert.ok(rows.every((r) => r.referrer_host === null || r.referrer_host.length <= 255));
    assert.ok(rows.every((r) => r.country === null || /^[A-Z]{2}$/.test(r.country)));
    assert.ok(rows.some((r) => r.country === "DE" && r.referrer_host === "news.example"));
  });

  test("a click-limited link counts hostile visits and never answers 5xx", async () => {
    const link = await w.create({ target_url: "https://example.com/metered", max_clicks: hostile.length });
    for (const init of hostile) assert.equal((await w.fetch(`/${link.key}`, init)).status, 302);
    assert.equal(await w.clicks(link.key), hostile.length);
    assert.equal((await w.fetch(`/${link.key}`, hostile[0])).status, 410);
  });
});

describe("special-purpose addresses are refused as targets", () => {
  // A few from each IANA registry; the unit tests walk every block of the table.
  for (const host of ["192.0.0.9", "100.64.0.1", "198.18.0.1", "192.88.99.1", "240.0.0.1", "[2001:db8::1]", "[64:ff9b::a00:1]", "[::ffff:127.0.0.1]", "[fec0::1]", "[3fff::1]"]) {
    test(`http://${host}/ is refused`, async () => {
      const res = await w.tryCreate({ target_url: `http://${host}/` });
      assert.equal(res.status, 400);
    });
  }
});

describe("reuse never surprises", () => {
  test("a shared link is returned only to callers who asked for its behaviour", async () => {
    const target = "https://example.com/shared-behaviour";
    const first = await w.create({ target_url: target, reuse: true, redirect_status: 301, forward_query: false });
    // Asked for the defaults: a link of one's own, not the 301 without query forwarding.
    const plain = await w.tryCreate({ target_url: target, reuse: true });
    assert.equal(plain.status, 201);
    const own = await plain.json();
    assert.notEqual(own.key, first.key);
    assert.equal(own.redirect_status, 302);
    assert.equal(own.forward_query, true);
    // Asked for what the shared link does: that link, and the answer says what it does.
    const same = await w.tryCreate({ target_url: target, reuse: true, redirect_status: 301, forward_query: false });
    assert.equal(same.status, 200);
    const shared = await same.json();
    assert.equal(shared.key, first.key);
    assert.equal(shared.redirect_status, 301);
    assert.equal(shared.forward_query, false);
    assert.ok(!("secret_key" in shared));
  });
});

describe("a failed export is never mistaken for a complete one", () => {
  test("an unreadable row is reported and skipped, and the export still completes", async () => {
    const good = await w.create({ target_url: "https://example.com/exported" });
    // A row written around the service (an old version, a manual edit) that the domain
    // would refuse: its max_clicks is not an exact integer.
    await w.db
      .prepare("INSERT INTO links (key, target_url, secret_hash, created_at, updated_at, max_clicks, stats_key) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?1)")
      .bind("broken-row", "https://example.com/broken", "f".repeat(64), Date.now(), 1e300)
      .run();
    const text = await (await w.operator("/api/links/export")).text();
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l));
    const total = await w.linkCount();
    assert.deepEqual(lines.at(-1), { export: "complete", links: total - 1, skipped: 1 });
    assert.ok(lines.some((l) => l.error === "unreadable link" && l.key === "broken-row"));
    assert.ok(lines.some((l) => l.key === good.key && l.target_url === "https://example.com/exported"));
    assert.match(await w.waitForLog("broken-row"), /max_clicks/);
  });
});

describe("Accept is parsed with q-values", () => {
  const cases = [
    ["text/html", true],
    ["text/html;q=0", false],
    ["application/json, text/html;q=0.5", false],
    ["text/html, application/json;q=0.9", true],
    ["*/*", false],
  ];
  for (const [accept, html] of cases) {
    test(`Accept: ${accept} gets ${html ? "a page" : "JSON"}`, async () => {
      const res = await w.get("/no-such-link", { accept });
      assert.equal(res.status, 404);
      assert.equal(res.headers.get("content-type").startsWith("text/html"), html);
    });
  }
});
