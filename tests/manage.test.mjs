// Black-box tests of per-link controls: PATCH, expiry, click limits, redirect status,
// query forwarding and dedupe ("reuse"), against the built wasm under Miniflare.
// One worker for the file: each test uses only the links it creates, under targets no
// other test uses (reuse looks links up by target).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readJson, startWorker, waitFor, workerForFile } from "./harness.mjs";

const w = await workerForFile();

const inSeconds = (s) => new Date(Date.now() + s * 1000).toISOString();

describe("creation with settings", () => {
  test("every setting is accepted at creation and shown back", async () => {
    const expires = "2035-01-01T00:00:00Z";

    const link = await w.create({
      target_url: "https://example.com/s",
      expires_at: expires,
      max_clicks: 5,
      redirect_status: 307,
      forward_query: false,
    });

    assert.equal(link.expires_at, expires);
    assert.equal(link.max_clicks, 5);
    assert.equal(link.redirect_status, 307);
    assert.equal(link.forward_query, false);
    assert.equal(link.state, "active");
    const row = await w.row(link.key);
    assert.equal(row.expires_at, Date.parse(expires));
    assert.equal(row.max_clicks, 5);
  });

  test("bad settings answer 400 and mistyped ones 422", async () => {
    const base = { target_url: "https://example.com/" };
    for (const extra of [{ max_clicks: 0 }, { redirect_status: 303 }, { expires_at: "2001-01-01T00:00:00Z" }, { expires_at: "soon" }]) {
      const res = await w.tryCreate({ ...base, ...extra });

      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.ok((await res.json()).detail);
    }
    for (const extra of [{ max_clicks: "5" }, { redirect_status: "301" }, { forward_query: "no" }, { is_active: false }]) {
      const res = await w.tryCreate({ ...base, ...extra });

      assert.equal(res.status, 422, JSON.stringify(extra));
    }
  });
});

describe("PATCH /admin/{secret_key}", () => {
  test("a changed target redirects on the very next request, though KV held the old one", async () => {
    const link = await w.create({ target_url: "https://example.com/old" });
    await w.visit(link.key);
    await w.waitUntilCached(link.key);

    const res = await w.patch(link, { target_url: "https://example.com/new" });
    const next = await w.visit(link.key);

    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.target_url, "https://example.com/new");
    assert.equal(body.secret_key, link.secret_key);
    assert.equal(next.headers.get("location"), "https://example.com/new");
    assert.ok((await w.cached(link.key)).endsWith("https://example.com/new"));
  });

  test("deactivates and reactivates", async () => {
    const link = await w.create({ target_url: "https://example.com/toggle" });

    const off = await readJson(w.patch(link, { is_active: false }));
    const whileOff = await w.visit(link.key);
    const on = await readJson(w.patch(link, { is_active: true }));
    const whileOn = await w.visit(link.key);

    assert.equal(off.is_active, false);
    assert.equal(whileOff.status, 410);
    assert.equal(on.state, "active");
    assert.equal(whileOn.status, 302);
  });

  test("sets and clears expiry, click limit and redirect status", async () => {
    const link = await w.create({ target_url: "https://example.com/lim" });

    const set = await readJson(w.patch(link, { max_clicks: 3, expires_at: "2040-06-01T12:00:00+02:00", redirect_status: 308 }));
    const cleared = await readJson(w.patch(link, { max_clicks: null, expires_at: null, redirect_status: null }));

    assert.equal(set.max_clicks, 3);
    assert.equal(set.expires_at, "2040-06-01T10:00:00Z");
    assert.equal(set.redirect_status, 308);
    assert.equal(cleared.max_clicks, null);
    assert.equal(cleared.expires_at, null);
    assert.equal(cleared.redirect_status, 302);
  });

  test("refuses bad input with the creation rules", async () => {
    const link = await w.create({ target_url: "https://example.com/p" });
    const cases = [
      [{}, 422],
      [{ custom_key: "new" }, 422],
      [{ is_active: "yes" }, 422],
      ["[1]", 422],
      ["not json", 422],
      [{ target_url: "javascript:alert(1)" }, 400],
      [{ target_url: "http://10.0.0.1/" }, 400],
      [{ max_clicks: -1 }, 400],
      [{ redirect_status: 200 }, 400],
      [{ expires_at: "2000-01-01T00:00:00Z" }, 400],
    ];
    for (const [body, status] of cases) {
      const res = await w.patch(link, body);

      assert.equal(res.status, status, JSON.stringify(body));
      assert.ok((await res.json()).detail);
    }
    assert.equal((await w.row(link.key)).target_url, "https://example.com/p");

    const unknown = link.secret_key.replace(/.$/, (c) => (c === "a" ? "b" : "a"));
    assert.equal((await w.patch(unknown, { is_active: false })).status, 404);
  });
});

describe("expiry and click limits", () => {
  test("an expired link answers 410 and counts nothing", async () => {
    // Its own worker, which caches a rule only on its tenth miss: the visits below read
    // the link's row, so the expiry written into it shows at once, with no wait for a
    // lifetime to run out (which a busy machine can stretch past the first visit).
    const w = await startWorker({ vars: { CACHE_AFTER_MISSES: "10" } });
    try {
      const link = await w.create({ target_url: "https://example.com/exp", expires_at: inSeconds(3600) });
      assert.equal((await w.visit(link.key)).status, 302);
      assert.equal(await w.settleClicks(link.key, 1), 1);

      await w.makeExpired(link.key);
      const res = await w.visit(link.key);
      const peeked = await w.peek(link.key);
      // A click would be written after the response; what is proven here is that none is.
      await w.settleClickWindow();

      assert.equal(res.status, 410);
      assert.match((await res.json()).detail, /expired/);
      assert.equal(peeked.status, 410);
      assert.equal(await w.clicks(link.key), 1);
      const shown = await readJson(w.showAdmin(link));
      assert.equal(shown.state, "expired");
    } finally {
      await w.dispose();
    }
  });

  test("50 concurrent visits to a link with max_clicks 10 leave exactly 10 clicks", async () => {
    const link = await w.create({ target_url: "https://example.com/ten", max_clicks: 10 });

    const responses = await w.visitConcurrently(link.key, 50);
    // The limit is enforced before each response, so the counts are final once all
    // are in; the wait proves no refused visit writes one later.
    await w.settleClickWindow();

    const statuses = responses.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 302).length, 10);
    assert.equal(statuses.filter((s) => s === 410).length, 40);
    assert.equal(await w.clicks(link.key), 10);
    // The statistics follow the admitted clicks through the click window.
    const counted = async () => (await w.aggregates(link.key)).days.reduce((n, d) => n + d.clicks, 0);
    await waitFor(async () => (await counted()) >= 10, { message: "10 clicks in the daily aggregate" });
    assert.equal(await counted(), 10);
    const res = await w.visit(link.key);
    assert.match((await res.json()).detail, /click limit/);
    assert.equal((await w.visit(link.key, { method: "HEAD" })).status, 410);
  });
});

describe("redirect status and query forwarding", () => {
  test("301 and 308 carry a short max-age; 302 and 307 are never cached", async () => {
    for (const [status, cache] of [[301, "private, max-age=300"], [308, "private, max-age=300"], [302, "private, max-age=0"], [307, "private, max-age=0"]]) {
      const link = await w.create({ target_url: "https://example.com/st", redirect_status: status });
      for (let i = 0; i < 2; i++) {
        // The second visit is served from KV: the status survives the cache.
        const res = await w.visit(link.key);

        assert.equal(res.status, status);
        assert.equal(res.headers.get("cache-control"), cache);
        await w.waitUntilCached(link.key);
      }
    }
  });

  test("the visitor's query is appended to the target's unless forward_query is off", async () => {
    const on = await w.create({ target_url: "https://example.com/q?x=1#frag" });
    const off = await w.create({ target_url: "https://example.com/q?x=1", forward_query: false });

    const forwarded = await w.visit(on.key, { query: "?utm_source=news&utm_medium=mail" });
    const kept = await w.visit(off.key, { query: "?utm_source=news" });

    assert.equal(forwarded.headers.get("location"), "https://example.com/q?x=1&utm_source=news&utm_medium=mail#frag");
    assert.equal(kept.headers.get("location"), "https://example.com/q?x=1");
  });
});

describe("reuse", () => {
  test("returns the existing shared link with public fields only, never its secret", async () => {
    const first = await w.tryCreate({ target_url: "https://example.com/shared", reuse: true });
    assert.equal(first.status, 201);
    const created = await first.json();

    const again = await w.tryCreate({ target_url: "HTTPS://EXAMPLE.com/shared", reuse: true });
    const fresh = await w.create({ target_url: "https://example.com/shared" });

    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), {
      key: created.key,
      // The primary domain, named `default` without BASE_URL.
      domain: "default",
      url: created.url,
      tiny_url: created.url,
      target_url: "https://example.com/shared",
      // What the shared link does: what this caller asked for (the defaults).
      redirect_status: 302,
      forward_query: true,
    });
    assert.notEqual(fresh.key, created.key);
  });

  test("concurrent reuse creations converge on one row", async () => {
    const target = "https://example.com/race";

    const responses = await Promise.all(Array.from({ length: 10 }, () => w.tryCreate({ target_url: target, reuse: true })));

    const bodies = await Promise.all(responses.map((r) => r.json()));
    assert.equal(responses.filter((r) => r.status === 201).length, 1);
    assert.equal(new Set(bodies.map((b) => b.key)).size, 1);
    const rows = await w.db.prepare("SELECT COUNT(*) AS n FROM links WHERE target_url = ?1").bind(target).first();
    assert.equal(rows.n, 1);
  });

  test("an edited or deactivated shared link is no longer handed out", async () => {
    const created = await w.create({ target_url: "https://example.com/edited", reuse: true });

    await w.patch(created, { target_url: "https://example.com/elsewhere" });
    const res = await w.tryCreate({ target_url: "https://example.com/edited", reuse: true });

    assert.equal(res.status, 201);
    const second = await res.json();

    await w.deactivate(second);
    const third = await w.tryCreate({ target_url: "https://example.com/edited", reuse: true });

    assert.equal(third.status, 201);
  });

  test("cannot be combined with personal settings", async () => {
    for (const extra of [{ custom_key: "mine-1" }, { max_clicks: 2 }, { expires_at: "2035-01-01T00:00:00Z" }]) {
      const res = await w.tryCreate({ target_url: "https://example.com/", reuse: true, ...extra });

      assert.equal(res.status, 400);
    }
  });
});
