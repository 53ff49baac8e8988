// Black-box tests of click sources (issue 28): the QR code's marked URL, UTM fields
// added to the target, and the statistics by source and by campaign.
// One worker for the file: each test uses only the links it creates.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { onOneUtcDate, workerForFile } from "./harness.mjs";

const w = await workerForFile({ vars: { ADMIN_TOKEN: "sources-root-token" } });

/** `GET /{key}/scan`: what scanning the link's QR code requests. */
function scan(key, { method = "GET", query = "", headers = {}, country } = {}) {
  return w.fetch(`/${key}/scan${query}`, { method, headers, ...(country ? { cf: { country } } : {}) });
}

/** The parts of a redirect a visitor notices. */
async function answer(res) {
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get("location"), cache: res.headers.get("cache-control") };
}

describe("the QR code's URL", () => {
  test("redirects exactly as the short URL: status, target with the forwarded query, rules", async () => {
    const link = await w.create({
      target_url: "https://example.com/qr-same?a=1",
      redirect_status: 301,
      rules: [{ when: { country: ["DE"] }, target_url: "https://example.de/" }],
    });

    const plain = await answer(await w.visit(link.key, { query: "?ref=poster", country: "FR" }));
    const scanned = await answer(await scan(link.key, { query: "?ref=poster", country: "FR" }));
    const ruled = await answer(await scan(link.key, { country: "DE" }));

    assert.equal(plain.status, 301);
    assert.deepEqual(scanned, plain);
    assert.equal(plain.location, "https://example.com/qr-same?a=1&ref=poster");
    assert.equal(ruled.location, "https://example.de/");
  });

  test("answers a protected, a deactivated and a missing link as the short URL does", async () => {
    const locked = await w.create({ target_url: "https://example.com/locked", password: "open sesame" });
    assert.equal((await scan(locked.key)).status, (await w.visit(locked.key)).status);
    const unlocked = await scan(locked.key, { headers: { "x-link-password": "open sesame" } });
    assert.equal(unlocked.status, 302);
    assert.equal(unlocked.headers.get("location"), "https://example.com/locked");

    const gone = await w.create({ target_url: "https://example.com/gone" });
    await w.deactivate(gone);
    assert.equal((await scan(gone.key)).status, 410);
    assert.equal((await scan("no-such-key")).status, 404);
    const head = await scan(gone.key, { method: "HEAD" });
    assert.equal(head.status, 410);
  });

  test("counts its clicks as source qr and the short URL's as link, in both statistics answers", () =>
    onOneUtcDate(async () => {
      const link = await w.create({ target_url: "https://example.com/sources" });
      for (let i = 0; i < 3; i++) await answer(await scan(link.key));
      for (let i = 0; i < 2; i++) await answer(await w.visit(link.key));
      // HEAD counts nothing, from either URL.
      await answer(await scan(link.key, { method: "HEAD" }));
      await w.settleClicks(link.key, 5);

      const owner = await (await w.stats(link)).json();
      const operator = await (await w.operator(`/api/links/${link.key}/stats`)).json();

      for (const s of [owner, operator]) {
        assert.equal(s.clicks, 5);
        assert.deepEqual(s.sources, [
          { source: "qr", clicks: 3 },
          { source: "link", clicks: 2 },
        ]);
        assert.deepEqual(s.campaigns, []);
      }
      const { dims } = await w.aggregates(link.key);
      const sources = dims.filter((d) => d.dim === "s").map(({ value, clicks }) => ({ value, clicks }));
      assert.deepEqual(sources, [
        { value: "link", clicks: 2 },
        { value: "qr", clicks: 3 },
      ]);
    }));
});

describe("UTM fields", () => {
  test("are added to the target's query, never over a parameter it already has", async () => {
    const link = await w.create({
      target_url: "https://example.com/landing?utm_source=partner#top",
      utm: { source: "newsletter", medium: "email", campaign: "spring sale" },
    });

    const res = await w.visit(link.key);

    assert.equal(res.status, 302);
    assert.equal(
      res.headers.get("location"),
      "https://example.com/landing?utm_source=partner&utm_medium=email&utm_campaign=spring+sale#top",
    );
    assert.deepEqual(link.utm, { source: "newsletter", medium: "email", campaign: "spring sale" });
  });

  test("a visitor's forwarded utm parameter wins, and the QR URL adds the same fields", async () => {
    const link = await w.create({ target_url: "https://example.com/p", utm: { source: "qr-poster", campaign: "fall" } });

    const forwarded = await w.visit(link.key, { query: "?utm_source=friend" });
    const scanned = await scan(link.key);

    assert.equal(forwarded.headers.get("location"), "https://example.com/p?utm_source=friend&utm_campaign=fall");
    assert.equal(scanned.headers.get("location"), "https://example.com/p?utm_source=qr-poster&utm_campaign=fall");
  });

  test("are shown, changed and removed through PATCH, by the owner and the operator", async () => {
    const link = await w.create({ target_url: "https://example.com/patch-utm" });
    assert.equal(link.utm, undefined);

    const set = await w.patch(link, { utm: { campaign: "launch", term: "shoes" } });
    assert.equal(set.status, 200);
    assert.deepEqual((await set.json()).utm, { campaign: "launch", term: "shoes" });
    assert.equal((await w.visit(link.key)).headers.get("location"), "https://example.com/patch-utm?utm_campaign=launch&utm_term=shoes");

    const op = await w.operator(`/api/links/${link.key}`, { method: "PATCH", json: { utm: { source: "ops" } } });
    assert.equal(op.status, 200);
    assert.deepEqual((await (await w.operator(`/api/links/${link.key}`)).json()).utm, { source: "ops" });

    const cleared = await w.patch(link, { utm: null });
    assert.equal((await cleared.json()).utm, undefined);
    assert.equal((await w.visit(link.key)).headers.get("location"), "https://example.com/patch-utm");
  });

  test("bad values are refused with a JSON error naming the field, and nothing is stored", async () => {
    const cases = [
      [{ source: "x".repeat(101) }, /utm.*'source' must be 1 to 100 characters, got 101/],
      [{ source: "" }, /'source' must be 1 to 100 characters/],
      [{ campaign: 7 }, /'campaign' must be a string or null/],
      [{ sauce: "x" }, /has only 'source', 'medium', 'campaign', 'term' and 'content', not 'sauce'/],
      [{}, /must set at least one/],
      [{ term: "a\u0000b" }, /control characters/],
      ["spring", /utm/],
    ];
    for (const [utm, detail] of cases) {
      const res = await w.tryCreate({ target_url: "https://example.com/bad-utm", custom_key: "bad-utm", utm });
      assert.ok(res.status === 400 || res.status === 422, `${JSON.stringify(utm)}: ${res.status}`);
      assert.match((await res.json()).detail, detail, JSON.stringify(utm));
    }
    assert.equal(await w.row("bad-utm"), null);
    const link = await w.create({ target_url: "https://example.com/bad-patch" });
    const res = await w.patch(link, { utm: { medium: "m".repeat(101) } });
    assert.equal(res.status, 400);
    assert.match((await res.json()).detail, /utm/);
  });

  test("clicks are counted by the campaign the link had when they were made", () =>
    onOneUtcDate(async () => {
      const link = await w.create({ target_url: "https://example.com/campaigns", utm: { campaign: "spring" } });
      await w.visit(link.key);
      await scan(link.key);
      await w.patch(link, { utm: { campaign: "summer" } });
      await w.visit(link.key);
      await w.patch(link, { utm: null });
      await w.visit(link.key);
      await w.settleClicks(link.key, 4);

      const s = await (await w.stats(link)).json();

      assert.equal(s.clicks, 4);
      assert.deepEqual(s.campaigns, [
        { campaign: "spring", clicks: 2 },
        { campaign: "summer", clicks: 1 },
      ]);
      assert.deepEqual(s.sources, [
        { source: "link", clicks: 3 },
        { source: "qr", clicks: 1 },
      ]);
    }));

  test("a day keeps at most 9 campaigns per link; the rest count as (other)", () =>
    onOneUtcDate(async () => {
      const link = await w.create({ target_url: "https://example.com/many-campaigns" });
      // Campaign c0 gets 3 clicks, c1 2, the other ten one each: twelve campaigns.
      const plan = [3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
      for (const [i, n] of plan.entries()) {
        await w.patch(link, { utm: { campaign: `c${i}` } });
        for (let k = 0; k < n; k++) await w.visit(link.key);
        // Each campaign's clicks land in their own flush, so the cap is kept across
        // writes and not only within one.
        await w.settleClicks(link.key, plan.slice(0, i + 1).reduce((a, b) => a + b, 0));
      }

      const s = await (await w.stats(link)).json();

      const total = plan.reduce((a, b) => a + b, 0);
      assert.equal(s.clicks, total);
      assert.equal(s.campaigns.length, 10);
      assert.equal(s.campaigns.reduce((a, c) => a + c.clicks, 0), total);
      // The busiest first: c0 and the three campaigns past the ninth tie at 3.
      assert.deepEqual(s.campaigns.slice(0, 3), [
        { campaign: "c0", clicks: 3 },
        { campaign: "(other)", clicks: 3 },
        { campaign: "c1", clicks: 2 },
      ]);
    }));
});

describe("UTM templates", () => {
  /** A named API key with `role`; its token. */
  async function keyWith(role) {
    const res = await w.operator("/api/keys", { method: "POST", json: { name: `${role} for templates`, role } });
    assert.equal(res.status, 201);
    return (await res.json()).token;
  }

  test("are created, listed, read, replaced and deleted by an admin, each write audited", async () => {
    const made = await w.operator("/api/utm-templates", { method: "POST", json: { name: "Newsletter", utm: { source: "newsletter", medium: "email" } } });
    assert.equal(made.status, 201);
    const t = await made.json();
    assert.equal(t.name, "newsletter");
    assert.deepEqual(t.utm, { source: "newsletter", medium: "email" });
    assert.equal(t.created_by, "root");

    const again = await w.operator("/api/utm-templates", { method: "POST", json: { name: "newsletter", utm: { source: "x" } } });
    assert.equal(again.status, 409);
    assert.match((await again.json()).detail, /already exists/);

    const list = await (await w.operator("/api/utm-templates")).json();
    assert.ok(list.templates.some((x) => x.name === "newsletter"));
    assert.deepEqual((await (await w.operator("/api/utm-templates/newsletter")).json()).utm, t.utm);

    const put = await w.operator("/api/utm-templates/newsletter", { method: "PUT", json: { utm: { source: "letter", campaign: "weekly" } } });
    assert.equal(put.status, 200);
    assert.deepEqual((await put.json()).utm, { source: "letter", campaign: "weekly" });

    assert.equal((await w.operator("/api/utm-templates/newsletter", { method: "DELETE" })).status, 200);
    assert.equal((await w.operator("/api/utm-templates/newsletter")).status, 404);
    assert.equal((await w.operator("/api/utm-templates/newsletter", { method: "DELETE" })).status, 404);

    const audit = await (await w.operator("/api/audit?limit=500")).json();
    const actions = audit.entries.filter((e) => e.target === "newsletter").map((e) => e.action).sort();
    assert.deepEqual(actions, ["utm_template.create", "utm_template.delete", "utm_template.update"]);
  });

  test("bad bodies are refused with clear JSON errors", async () => {
    const cases = [
      [{ name: "a b", utm: { source: "x" } }, 400, /name/],
      [{ name: "ok-name" }, 400, /utm.*required/],
      [{ name: "ok-name", utm: { source: "x".repeat(101) } }, 400, /'source' must be 1 to 100 characters/],
      [{ name: "ok-name", utm: { source: "x" }, extra: 1 }, 422, /unknown field 'extra'/],
      [["not an object"], 422, /JSON object/],
    ];
    for (const [json, status, detail] of cases) {
      const res = await w.operator("/api/utm-templates", { method: "POST", json });
      assert.equal(res.status, status, JSON.stringify(json));
      assert.match((await res.json()).detail, detail, JSON.stringify(json));
    }
    assert.equal((await w.operator("/api/utm-templates/none-such", { method: "PUT", json: { utm: { source: "x" } } })).status, 404);
  });

  test("a link created with utm_template copies its fields, under the link's own; later changes leave it alone", async () => {
    await w.operator("/api/utm-templates", { method: "POST", json: { name: "spring", utm: { source: "poster", medium: "print", campaign: "spring" } } });

    const own = await w.create({ target_url: "https://example.com/tpl", utm_template: "spring", utm: { medium: "flyer" } });
    const plain = await w.create({ target_url: "https://example.com/tpl2", utm_template: "Spring" });
    const bulk = await w.operator("/api/links/bulk", {
      method: "POST",
      json: [
        { target_url: "https://example.com/tpl3", utm_template: "spring" },
        { target_url: "https://example.com/tpl4", utm_template: "nope" },
      ],
    });

    assert.deepEqual(own.utm, { source: "poster", medium: "flyer", campaign: "spring" });
    assert.deepEqual(plain.utm, { source: "poster", medium: "print", campaign: "spring" });
    const results = await bulk.json();
    assert.equal(results.results[0].status, 201);
    assert.deepEqual(results.results[0].link.utm, plain.utm);
    assert.equal(results.results[1].status, 400);
    assert.match(results.results[1].detail, /utm_template.*nope/);
    assert.equal(
      (await w.visit(plain.key)).headers.get("location"),
      "https://example.com/tpl2?utm_source=poster&utm_medium=print&utm_campaign=spring",
    );

    await w.operator("/api/utm-templates/spring", { method: "PUT", json: { utm: { source: "changed" } } });
    assert.deepEqual((await (await w.operator(`/api/links/${plain.key}`)).json()).utm, plain.utm);

    const missing = await w.tryCreate({ target_url: "https://example.com/tpl5", utm_template: "no-such" });
    assert.equal(missing.status, 400);
    assert.match((await missing.json()).detail, /utm_template.*no-such/);
  });

  test("a reader may read templates but not write them; a stats key may not even read them", async () => {
    const reader = await keyWith("reader");
    const stats = await keyWith("stats");
    const creator = await keyWith("creator");

    assert.equal((await w.operator("/api/utm-templates", { token: reader })).status, 200);
    assert.equal((await w.operator("/api/utm-templates", { token: creator })).status, 200);
    for (const token of [reader, creator, stats]) {
      const res = await w.operator("/api/utm-templates", { method: "POST", token, json: { name: "sneaky", utm: { source: "x" } } });
      assert.equal(res.status, 403);
    }
    assert.equal((await w.operator("/api/utm-templates", { token: stats })).status, 403);
    assert.equal((await w.operator("/api/utm-templates/sneaky")).status, 404);
  });
});
