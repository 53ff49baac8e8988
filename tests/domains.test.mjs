// Several domains per instance: a key is unique within its domain, each domain sends
// visitors who reach no live link to its own fallbacks, and an API key may be limited
// to some domains. Requests reach the worker on the host they name, as a custom domain
// or route would bring them.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { waitFor, workerPerTest, migrationStatements, startWorker } from "./harness.mjs";

const ROOT = "root-token-for-domains";
const GO = "go.example.com";
const ORG = "links.example.org";
const DOMAINS = JSON.stringify({
  [GO]: { root: "https://example.com/", not_found: "https://example.com/missing", inactive: "https://example.com/gone" },
  [ORG]: {},
});
const worker = workerPerTest();
const start = (vars = {}) => worker({ vars: { ADMIN_TOKEN: ROOT, BASE_URL: "https://sho.rt", DOMAINS, ...vars } });

const JSON_TYPE = { "content-type": "application/json" };
/** `POST /url` on `host`, as a person on that domain's home page would. */
const createOn = (w, host, fields) =>
  w.fetch(`http://${host}/url`, { method: "POST", body: JSON.stringify(fields), headers: JSON_TYPE });
/** An operator call on `host` with `token` (root by default). */
const operatorOn = (w, host, path, { method = "GET", json, token = ROOT } = {}) =>
  w.fetch(`http://${host}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json ? JSON_TYPE : {}) },
    ...(json ? { body: JSON.stringify(json) } : {}),
  });
const visit = (w, host, path) => w.fetch(`http://${host}${path}`);
const rowOf = (w, domain, key) => w.db.prepare("SELECT * FROM links WHERE domain = ?1 AND key = ?2").bind(domain, key).first();

describe("one key on several domains", () => {
  test("the same key on three domains is three links, each redirecting to its own target and counting its own clicks", async () => {
    const w = await start();

    const go = await createOn(w, GO, { target_url: "https://a.example/", custom_key: "guide" });
    const primary = await createOn(w, "localhost", { target_url: "https://b.example/", custom_key: "guide" });
    const org = await createOn(w, "localhost", { target_url: "https://c.example/", custom_key: "guide", domain: ORG });
    assert.deepEqual([go.status, primary.status, org.status], [201, 201, 201]);
    const [a, b, c] = await Promise.all([go.json(), primary.json(), org.json()]);
    // Each short URL is on its own domain: the request's origin when it came in on it.
    assert.deepEqual(
      [a.url, a.domain, b.url, b.domain, c.url, c.domain],
      [`http://${GO}/guide`, GO, "https://sho.rt/guide", "sho.rt", `https://${ORG}/guide`, ORG],
    );

    for (const round of [1, 2]) {
      // The second round is served from the caches, which are kept per domain too.
      for (const [host, target] of [[GO, "https://a.example/"], ["localhost", "https://b.example/"], [ORG, "https://c.example/"]]) {
        const res = await visit(w, host, "/guide");
        assert.equal(res.status, 302, `${host} round ${round}`);
        assert.equal(res.headers.get("location"), target, `${host} round ${round}`);
      }
      await waitFor(async () => (await w.kv.get(`link:${GO}/guide`)) && (await w.kv.get("link:guide")), { message: "both cache entries" });
    }
    for (const [domain, n] of [[GO, 2], ["", 2], [ORG, 2]]) {
      await waitFor(async () => (await rowOf(w, domain, "guide")).clicks === n, { timeout: 15000, message: `${n} clicks on ${domain || "primary"}/guide` });
    }
    // Statistics are kept apart: each owner sees their own link's clicks.
    for (const link of [a, b, c]) {
      const stats = await (await w.stats(link)).json();
      assert.equal(stats.total_clicks ?? stats.clicks, 2, link.url);
    }
    // The key is taken on its domain only.
    const again = await createOn(w, GO, { target_url: "https://d.example/", custom_key: "guide" });
    assert.equal(again.status, 409);
    const elsewhere = await createOn(w, "localhost", { target_url: "https://d.example/", custom_key: "guide" });
    assert.equal(elsewhere.status, 409);
  });

  test("through the click queue too, each domain's link counts its own clicks", async () => {
    const w = await worker({ vars: { ADMIN_TOKEN: ROOT, DOMAINS }, queue: true });
    for (const host of [GO, "localhost"]) {
      assert.equal((await createOn(w, host, { target_url: `https://${host}.example/`, custom_key: "queued" })).status, 201);
    }
    for (let i = 0; i < 3; i++) await visit(w, GO, "/queued");
    await visit(w, "localhost", "/queued");
    await waitFor(async () => (await rowOf(w, GO, "queued")).clicks === 3, { timeout: 15000, message: "3 clicks on the go link" });
    await waitFor(async () => (await rowOf(w, "", "queued")).clicks === 1, { timeout: 15000, message: "1 click on the primary link" });
    await waitFor(async () => (await w.analytics[0].prepare("SELECT COUNT(*) AS n FROM daily").first()).n === 2, { timeout: 15000, message: "both links' aggregates" });
    const sums = (await w.analytics[0].prepare("SELECT link_key, SUM(clicks) AS n FROM daily GROUP BY link_key ORDER BY link_key").all()).results;
    assert.deepEqual(sums, [{ link_key: `${GO}/queued`, n: 3 }, { link_key: "queued", n: 1 }]);
  });

  test("a domain the instance does not serve is refused in words, and an unlisted host is the primary domain", async () => {
    const w = await start();

    const res = await createOn(w, "localhost", { target_url: "https://a.example/", domain: "evil.example" });
    assert.equal(res.status, 400);
    assert.match((await res.json()).detail, /domain 'evil.example' is not served here/);
    const typed = await createOn(w, "localhost", { target_url: "https://a.example/", domain: 7 });
    assert.equal(typed.status, 422);
    // A target on another of the instance's domains would loop through it.
    const loop = await createOn(w, "localhost", { target_url: `https://${ORG}/anything` });
    assert.equal(loop.status, 400);
    // A host not listed in DOMAINS (a workers.dev name, say) serves the primary domain.
    const link = await createOn(w, "shortener.acme.workers.dev", { target_url: "https://a.example/", custom_key: "wd-link" });
    assert.equal(link.status, 201);
    assert.equal((await rowOf(w, "", "wd-link")).target_url, "https://a.example/");
    assert.equal((await visit(w, "localhost", "/wd-link")).status, 302);
    assert.equal((await visit(w, GO, "/wd-link")).status, 302, "go's not_found fallback, not the primary's link");
    assert.equal((await visit(w, GO, "/wd-link")).headers.get("location"), "https://example.com/missing");
  });

  test("a rename keeps the old key as an alias on the link's own domain only", async () => {
    const w = await start();
    const link = await (await createOn(w, GO, { target_url: "https://a.example/", custom_key: "old-name" })).json();
    const other = await createOn(w, "localhost", { target_url: "https://b.example/", custom_key: "new-name" });
    assert.equal(other.status, 201);

    const renamed = await w.patch(link, { key: "new-name" });
    assert.equal(renamed.status, 200, await renamed.clone().text());
    assert.equal((await renamed.json()).url, `https://${GO}/new-name`);
    assert.equal((await visit(w, GO, "/old-name")).headers.get("location"), "https://a.example/");
    assert.equal((await visit(w, GO, "/new-name")).headers.get("location"), "https://a.example/");
    assert.equal((await visit(w, "localhost", "/new-name")).headers.get("location"), "https://b.example/");
    // The alias does not exist on the primary domain, so the key is free there.
    const free = await createOn(w, "localhost", { target_url: "https://c.example/", custom_key: "old-name" });
    assert.equal(free.status, 201);
    assert.equal((await visit(w, "localhost", "/old-name")).headers.get("location"), "https://c.example/");
  });
});

describe("per-domain fallbacks", () => {
  test("a domain's root, unknown keys and inactive links go where the domain says; the others get the built-in pages", async () => {
    const w = await start();
    const link = await (await createOn(w, GO, { target_url: "https://a.example/", custom_key: "soon-off" })).json();
    const primary = await (await createOn(w, "localhost", { target_url: "https://a.example/", custom_key: "soon-off" })).json();
    assert.equal((await w.deactivate(link)).status, 200);
    assert.equal((await w.deactivate(primary)).status, 200);
    const expiring = await (await createOn(w, GO, { target_url: "https://a.example/", expires_at: "2099-01-01T00:00:00Z" })).json();
    const own = await (await createOn(w, GO, { target_url: "https://a.example/", max_clicks: 1, fallback_url: "https://own.example/" })).json();

    const expect = async (host, path, status, location) => {
      const res = await visit(w, host, path);
      assert.equal(res.status, status, `${host}${path}`);
      assert.equal(res.headers.get("location"), location, `${host}${path}`);
    };
    await expect(GO, "/", 302, "https://example.com/");
    await expect(GO, "/no-such-key", 302, "https://example.com/missing");
    await expect(GO, "/x", 302, "https://example.com/missing"); // a path no key can have
    await expect(GO, "/soon-off", 302, "https://example.com/gone");
    // A link's own fallback comes before its domain's.
    await expect(GO, `/${own.key}`, 302, "https://a.example/");
    await expect(GO, `/${own.key}`, 302, "https://own.example/");
    // Expired now, as time passing would make it (no visit cached its rule before).
    await w.makeExpired(expiring.key);
    await expect(GO, `/${expiring.key}`, 302, "https://example.com/gone");
    // The primary and links.example.org configured none: the built-in answers.
    await expect("localhost", "/", 200, null);
    await expect("localhost", "/no-such-key", 404, null);
    await expect("localhost", "/soon-off", 410, null);
    await expect(ORG, "/", 200, null);
    await expect(ORG, "/no-such-key", 404, null);
    // The API and the admin pages are never sent to a fallback.
    assert.equal((await operatorOn(w, GO, "/api/links/no-such-key")).status, 404);
    assert.equal((await visit(w, GO, "/admin/abc_0000000000000000000000000000")).status, 404);
    const page = await w.fetch(`http://localhost/no-such-key`, { headers: { accept: "text/html" } });
    assert.equal(page.status, 404);
  });

  test("the primary domain's fallbacks are set under 'default', and a bad DOMAINS is reported, not silently half-applied", async () => {
    const w = await start({ DOMAINS: JSON.stringify({ default: { root: "https://landing.example/", not_found: "https://landing.example/404" } }) });
    assert.equal((await visit(w, "localhost", "/")).headers.get("location"), "https://landing.example/");
    assert.equal((await visit(w, "localhost", "/nothing-here")).headers.get("location"), "https://landing.example/404");
    const health = await (await visit(w, "localhost", "/healthz")).json();
    assert.equal(health.status, "ok");

    const bad = await start({ DOMAINS: JSON.stringify({ [GO]: { root: "ftp://x.example/" } }) });
    const report = await (await visit(bad, "localhost", "/healthz")).json();
    assert.equal(report.status, "degraded");
    assert.match(report.domains, /absolute http\(s\) URL/);
    // It keeps serving its primary domain.
    const made = await createOn(bad, "localhost", { target_url: "https://a.example/", custom_key: "still-up" });
    assert.equal(made.status, 201);
    assert.equal((await visit(bad, "localhost", "/still-up")).status, 302);
  });
});

describe("the operator API across domains", () => {
  test("links are named by key and domain, listed and counted per domain", async () => {
    const w = await start();
    await createOn(w, GO, { target_url: "https://a.example/", custom_key: "same" });
    await createOn(w, "localhost", { target_url: "https://b.example/", custom_key: "same" });
    await createOn(w, ORG, { target_url: "https://c.example/", custom_key: "only-org" });

    const onGo = await (await w.operator(`/api/links/same?domain=${GO}`)).json();
    const here = await (await w.operator("/api/links/same")).json();
    const viaHost = await (await operatorOn(w, GO, "/api/links/same")).json();
    assert.deepEqual([onGo.target_url, onGo.domain], ["https://a.example/", GO]);
    assert.deepEqual([here.target_url, here.domain], ["https://b.example/", "sho.rt"]);
    assert.equal(viaHost.target_url, "https://a.example/");
    assert.equal((await w.operator("/api/links/same?domain=default")).status, 200);
    assert.equal((await w.operator("/api/links/same?domain=nope.example")).status, 400);

    const listed = await (await w.operator(`/api/links?domain=${GO}`)).json();
    assert.deepEqual(listed.links.map((l) => [l.key, l.domain]), [["same", GO]]);
    const all = await (await w.operator("/api/links")).json();
    assert.equal(all.links.length, 3);

    const patched = await w.operator(`/api/links/same?domain=${GO}`, { method: "PATCH", json: { target_url: "https://a2.example/" } });
    assert.equal(patched.status, 200);
    assert.equal((await visit(w, GO, "/same")).headers.get("location"), "https://a2.example/");
    assert.equal((await visit(w, "localhost", "/same")).headers.get("location"), "https://b.example/");

    const domains = await (await w.operator("/api/domains")).json();
    assert.deepEqual(
      domains.domains.map((d) => [d.name, d.primary, d.links, d.fallbacks?.root ?? null]),
      [["sho.rt", true, 1, null], [GO, false, 1, "https://example.com/"], [ORG, false, 1, null]],
    );
    // The audit log names the link with its domain.
    const audit = await (await w.operator("/api/audit")).json();
    assert.ok(audit.entries.some((e) => e.action === "link.update" && e.target === `${GO}/same`), JSON.stringify(audit.entries));
  });

  test("a paging cursor keeps apart equal keys made in the same millisecond on two domains", async () => {
    const w = await start();
    const items = [
      { key: "twin", target_url: "https://a.example/", created_at: "2020-01-01T00:00:00Z" },
      { key: "solo", target_url: "https://b.example/", created_at: "2019-01-01T00:00:00Z" },
    ];
    for (const domain of [GO, ORG, "default"]) {
      const res = await w.operator(`/api/links/import?domain=${domain}`, { method: "POST", json: items });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal((await res.json()).created, 2);
    }
    const seen = [];
    let cursor = "";
    for (let page = 0; page < 10; page++) {
      const res = await (await w.operator(`/api/links?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)).json();
      seen.push(...res.links.map((l) => `${l.domain}/${l.key}`));
      if (!res.next_cursor) break;
      cursor = res.next_cursor;
    }
    assert.deepEqual(seen.sort(), [`${GO}/solo`, `${GO}/twin`, `${ORG}/solo`, `${ORG}/twin`, "sho.rt/solo", "sho.rt/twin"]);
    // The import went to each named domain.
    assert.equal((await visit(w, ORG, "/twin")).headers.get("location"), "https://a.example/");
    const exported = (await (await w.operator(`/api/links/export?domain=${GO}`)).text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(exported.filter((l) => l.key).map((l) => `${l.domain}/${l.key}`).sort(), [`${GO}/solo`, `${GO}/twin`]);
  });
});

describe("keys limited to domains", () => {
  test("a key limited to one domain acts there and is refused, in words, everywhere else", async () => {
    const w = await start();
    const made = await w.operator("/api/keys", { method: "POST", json: { name: "go team", role: "creator", domains: [GO] } });
    assert.equal(made.status, 201, await made.clone().text());
    const key = await made.json();
    assert.deepEqual(key.domains, [GO]);
    await createOn(w, "localhost", { target_url: "https://b.example/", custom_key: "primary-one" });

    const onGo = await operatorOn(w, "localhost", "/api/links/bulk", { method: "POST", json: [{ target_url: "https://a.example/", domain: GO }], token: key.token });
    assert.equal(onGo.status, 200);
    const created = (await onGo.json()).results[0];
    assert.equal(created.status, 201, JSON.stringify(created));
    assert.equal(created.link.domain, GO);

    const offDomain = await operatorOn(w, "localhost", "/api/links/bulk", { method: "POST", json: [{ target_url: "https://a.example/" }], token: key.token });
    const refused = (await offDomain.json()).results[0];
    assert.equal(refused.status, 403);
    assert.match(refused.detail, /not allowed on the domain 'sho.rt'/);
    const show = await operatorOn(w, "localhost", "/api/links/primary-one", { token: key.token });
    assert.equal(show.status, 403);
    assert.match((await show.json()).detail, /not allowed on the domain 'sho.rt'/);
    const importElsewhere = await operatorOn(w, "localhost", `/api/links/import?domain=${ORG}`, { method: "POST", json: [{ key: "imp", target_url: "https://a.example/" }], token: key.token });
    assert.equal(importElsewhere.status, 403);

    // Its list shows its domain only, and its own link is its to change.
    const listed = await (await operatorOn(w, "localhost", "/api/links", { token: key.token })).json();
    assert.deepEqual(listed.links.map((l) => l.domain), [GO]);
    const domains = await (await operatorOn(w, "localhost", "/api/domains", { token: key.token })).json();
    assert.deepEqual(domains.domains.map((d) => d.name), [GO]);
    const change = await operatorOn(w, GO, `/api/links/${created.link.key}`, { method: "PATCH", json: { title: "ours" }, token: key.token });
    assert.equal(change.status, 200);
  });

  test("a limited admin hands out only keys within its own domains, and bad domain lists are refused", async () => {
    const w = await start();
    const admin = await (await w.operator("/api/keys", { method: "POST", json: { name: "go admin", role: "admin", domains: [GO, "default"] } })).json();
    assert.deepEqual(admin.domains, [GO, "sho.rt"]);

    const cases = [
      [{ name: "all", role: "reader" }, 400, /limited to some of them/],
      [{ name: "org", role: "reader", domains: [ORG] }, 400, /limited to some of them/],
      [{ name: "bad", role: "reader", domains: ["nope.example"] }, 400, /not served here/],
      [{ name: "empty", role: "reader", domains: [] }, 422, /array of 1 to 50/],
    ];
    for (const [json, status, detail] of cases) {
      const res = await w.fetch("http://localhost/api/keys", { method: "POST", headers: { authorization: `Bearer ${admin.token}`, ...JSON_TYPE }, body: JSON.stringify(json) });
      assert.equal(res.status, status, JSON.stringify(json));
      assert.match((await res.json()).detail, detail, JSON.stringify(json));
    }
    const ok = await w.fetch("http://localhost/api/keys", { method: "POST", headers: { authorization: `Bearer ${admin.token}`, ...JSON_TYPE }, body: JSON.stringify({ name: "go reader", role: "reader", domains: [GO] }) });
    assert.equal(ok.status, 201);
    assert.deepEqual((await ok.json()).domains, [GO]);
  });
});

describe("the migration to domains", () => {
  test("links, aliases, renames and legacy visits made before it keep working after it", async () => {
    const w = await startWorker({ migrate: false, vars: { ADMIN_TOKEN: ROOT } });
    try {
      const before = migrationStatements(undefined, (f) => f < "0009");
      await w.db.batch(before.map((s) => w.db.prepare(s)));
      for (const shard of w.analytics) await shard.batch(migrationStatements(new URL("../migrations-analytics", import.meta.url).pathname).map((s) => shard.prepare(s)));
      const hash = (c) => c.repeat(64);
      await w.db.batch([
        w.db.prepare("INSERT INTO links (id, key, target_url, secret_hash, created_at, updated_at, clicks) VALUES (1, 'kept', 'https://a.example/', ?1, 1, 1, 5)").bind(hash("a")),
        w.db.prepare("INSERT INTO links (id, key, target_url, secret_hash, created_at, updated_at, stats_key) VALUES (2, 'renamed', 'https://b.example/', ?1, 1, 1, 'first')").bind(hash("b")),
        w.db.prepare("INSERT INTO link_aliases (alias, link_id) VALUES ('first', 2)"),
        w.db.prepare("INSERT INTO visits (link_id, at, device, is_bot) VALUES (1, 1, 'desktop', 0)"),
      ]);
      await w.db.batch(migrationStatements(undefined, (f) => f >= "0009").map((s) => w.db.prepare(s)));

      const rows = (await w.db.prepare("SELECT id, domain, key, stats_key, clicks FROM links ORDER BY id").all()).results;
      assert.deepEqual(rows, [
        { id: 1, domain: "", key: "kept", stats_key: "kept", clicks: 5 },
        { id: 2, domain: "", key: "renamed", stats_key: "first", clicks: 0 },
      ]);
      assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM visits").first()).n, 1);
      assert.equal((await visit(w, "localhost", "/kept")).headers.get("location"), "https://a.example/");
      assert.equal((await visit(w, "localhost", "/first")).headers.get("location"), "https://b.example/");
      // The constraints came back with the table.
      await assert.rejects(w.db.prepare("INSERT INTO links (key, target_url, secret_hash, created_at, updated_at, stats_key) VALUES ('kept', 'https://c.example/', ?1, 1, 1, 'x-kept')").bind(hash("c")).run(), /UNIQUE/);
      await assert.rejects(w.db.prepare("INSERT INTO links (key, target_url, secret_hash, created_at, updated_at, stats_key) VALUES ('first', 'https://c.example/', ?1, 1, 1, 'x-first')").bind(hash("d")).run(), /alias/);
      await assert.rejects(w.db.prepare("DELETE FROM links WHERE id = 1").run(), /FOREIGN KEY/);
      await assert.rejects(w.db.prepare("INSERT INTO links (domain, key, target_url, secret_hash, created_at, updated_at, stats_key) VALUES ('Not A Host', 'k3y', 'https://c.example/', ?1, 1, 1, 'z')").bind(hash("e")).run(), /CHECK/);
    } finally {
      await w.dispose();
    }
  });
});
