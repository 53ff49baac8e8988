// Black-box tests of visit recording, statistics, QR codes and the API description.
// One worker for the file: each test uses only the links it creates.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { onOneUtcDate, readJson, workerForFile } from "./harness.mjs";

// Raw visits kept, so that the first test can read the row a redirect recorded.
const w = await workerForFile({ vars: { VISIT_RETENTION_DAYS: "30" } });

const PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
const DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";
const BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

describe("visits", () => {
  test("each counted redirect records one visit row without any IP address", async () => {
    const link = await w.create({ target_url: "https://example.com/v" });

    await w.visit(link.key, { userAgent: PHONE, referer: "https://news.example.org/story?id=secret", country: "DE" });
    await w.settleClicks(link.key, 1);

    const rows = await w.visitRows(link.key);
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.equal(row.referrer_host, "news.example.org");
    assert.equal(row.country, "DE");
    assert.equal(row.device, "mobile");
    assert.equal(row.is_bot, 0);
    const columns = (await w.analytics[0].prepare("PRAGMA table_info(visits)").all()).results.map((c) => c.name);
    assert.ok(!columns.some((c) => /ip|addr/i.test(c)), columns.join());
    assert.ok(!Object.values(row).includes("secret"));
  });
});

describe("GET /admin/{secret_key}/stats", () => {
  test("reports totals, humans and bots, days, referrers, countries and devices", () =>
    onOneUtcDate(async () => {
      const link = await w.create({ target_url: "https://example.com/st" });
      await w.visit(link.key, { userAgent: PHONE, referer: "https://a.example/x", country: "DE" });
      await w.visit(link.key, { userAgent: PHONE, referer: "https://a.example/y", country: "DE" });
      await w.visit(link.key, { userAgent: DESKTOP, country: "FR" });
      // Miniflare fills in a placeholder country when none is given, so name one.
      await w.visit(link.key, { userAgent: BOT, country: "JP" });
      await w.visit(link.key, { method: "HEAD" });
      await w.peek(link.key);
      await w.settleClicks(link.key, 4);

      const res = await w.stats(link);

      assert.equal(res.status, 200);
      const s = await res.json();
      assert.equal(s.clicks, 4);
      assert.equal(s.humans, 3);
      assert.equal(s.bots, 1);
      assert.match(s.first_click_at, /^\d{4}-\d\d-\d\dT/);
      assert.ok(s.last_click_at >= s.first_click_at);
      assert.equal(s.by_day.length, 30);
      const today = new Date().toISOString().slice(0, 10);
      assert.deepEqual(s.by_day.at(-1), { date: today, clicks: 4, visitors: 2 });
      assert.ok(s.by_day.slice(0, -1).every((d) => d.clicks === 0));
      // Ties may come in any order; the list is ordered by clicks only.
      const byHost = (list) => [...list].sort((x, y) => x.host.localeCompare(y.host));
      assert.deepEqual(byHost(s.referrers), [{ host: "a.example", clicks: 2 }, { host: "direct", clicks: 2 }]);
      assert.deepEqual(s.countries[0], { country: "DE", clicks: 2 });
      assert.deepEqual(
        s.countries.slice(1).sort((x, y) => x.country.localeCompare(y.country)),
        [{ country: "FR", clicks: 1 }, { country: "JP", clicks: 1 }],
      );
      assert.deepEqual(
        Object.fromEntries(s.devices.map((d) => [d.device, d.clicks])),
        { mobile: 2, desktop: 1, bot: 1 },
      );
    }));

  test("?days=N changes the window; values outside 1..365 answer 400", async () => {
    const link = await w.create({ target_url: "https://example.com/days" });

    const week = await readJson(w.stats(link, 7));

    assert.equal(week.by_day.length, 7);
    assert.equal(week.first_click_at, null);
    assert.equal(week.clicks, 0);
    for (const days of ["0", "366", "x", "-3"]) {
      const res = await w.stats(link, days);

      assert.equal(res.status, 400, days);
      assert.match((await res.json()).detail, /days/);
    }
    assert.equal((await readJson(w.stats(link, 365))).by_day.length, 365);
  });

  test("an unknown secret answers 404", async () => {
    const res = await w.stats(`abcdefgh_${"a".repeat(27)}`);

    assert.equal(res.status, 404);
  });
});

describe("GET /{key}/qr", () => {
  test("answers an SVG QR code of the short URL and counts nothing", async () => {
    const link = await w.create({ target_url: "https://example.com/qr" });

    const res = await w.qr(link.key);

    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "image/svg+xml");
    const svg = await res.text();
    assert.match(svg, /<svg[^>]*width="256"/);
    assert.ok(!/https?:\/\/(?!www\.w3\.org)/.test(svg.replace(/xmlns(:\w+)?="[^"]*"/g, "")), "no external references");
    const small = await (await w.qr(link.key, 100)).text();
    assert.match(small, /<svg[^>]*width="100"/);
    for (const size of ["10", "5000", "big"]) {
      assert.equal((await w.qr(link.key, size)).status, 400, size);
    }
    assert.equal((await w.qr("nosuchkey")).status, 404);
    await w.settleClickWindow();
    assert.equal((await w.row(link.key)).clicks, 0);
  });
});

describe("API description", () => {
  test("GET /openapi.json is an OpenAPI 3.1 document of the routes", async () => {
    const res = await w.get("/openapi.json");

    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.equal(doc.openapi, "3.1.0");
    for (const path of ["/url", "/{key}", "/{key}+", "/{key}/qr", "/admin/{secret_key}", "/admin/{secret_key}/stats", "/api/links", "/api/links/bulk", "/api/links/export", "/api/links/{key}"]) {
      assert.ok(doc.paths[path], path);
    }
    assert.ok(doc.components.schemas.Error.properties.detail);
  });

  test("GET /docs renders it as a self-contained page", async () => {
    const res = await w.get("/docs");

    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^text\/html/);
    assert.match(res.headers.get("content-security-policy"), /default-src 'none'/);
    const html = await res.text();
    assert.ok(html.includes("<code>/admin/{secret_key}/stats</code>"));
    assert.ok(!/<script/i.test(html));
    // Self-contained: every reference is to this service itself.
    const refs = [...html.matchAll(/(?:href|src)="([^"]*)"/g)].map((m) => m[1]);
    assert.ok(refs.includes("/static/app.css"));
    assert.ok(refs.every((r) => r.startsWith("/") || r.startsWith("#")), refs.join(" "));
  });
});
