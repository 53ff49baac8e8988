// Shlink's REST API v3, driven by Shlink's own client library (@shlinkio/shlink-js-sdk,
// from the npm registry) pointed at the worker under Miniflare on 127.0.0.1. Every
// result is read back through the native operator API (/api/links/{key}) or the
// bindings: the adapter must be the same links, not a copy.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { ShlinkApiClient } from "@shlinkio/shlink-js-sdk";
import { FetchHttpClient } from "@shlinkio/shlink-js-sdk/fetch";
import { waitFor, workerPerTest, makeKey, native, importMany } from "./harness.mjs";

const ROOT = "root-token-for-shlink";
const PROBLEM = "https://shlink.io/api/error/";
const worker = workerPerTest();
const BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

/** A worker listening on 127.0.0.1 (the SDK makes real HTTP requests), and its base URL. */
async function start(vars = {}, opts = {}) {
  const w = await worker({ host: "127.0.0.1", port: 0, vars: { ADMIN_TOKEN: ROOT, ...vars }, ...opts });
  w.base = String(w.url).replace(/\/$/, "");
  return w;
}

/** The SDK's client for `w` with `apiKey`. */
const shlink = (w, apiKey) => new ShlinkApiClient(new FetchHttpClient(), { baseUrl: w.base, apiKey });

/** The problem a rejected SDK call threw (the SDK throws the parsed body). */
async function problem(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("expected the call to be refused");
}

describe("Shlink REST API v3 through @shlinkio/shlink-js-sdk", () => {
  test("health answers without a key, as Shlink's does", async () => {
    const w = await start();

    const health = await shlink(w, "").health();
    const plain = await fetch(`${w.base}/rest/health`);

    assert.equal(health.status, "pass");
    assert.match(health.version, /^3\.\d+\.\d+$/);
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get("content-type"), /^application\/health\+json/);
  });

  test("a short URL created through the SDK is the service's own link, with every control mapped", async () => {
    const w = await start();
    const key = await makeKey(w, { name: "shlink-client", role: "creator" });
    const client = shlink(w, key.token);

    const made = await client.createShortUrl({
      longUrl: "https://example.com/shlink/one",
      customSlug: "shl-one",
      tags: ["Launch", "docs"],
      title: "Launch notes",
      validUntil: "2099-01-01T00:00:00+00:00",
      maxVisits: 50,
      crawlable: true,
    });
    const link = await native(w, "shl-one");
    const row = await w.db.prepare("SELECT created_by FROM links WHERE key = ?1").bind("shl-one").first();
    const audit = (await (await w.operator("/api/audit")).json()).entries;

    assert.equal(made.shortCode, "shl-one");
    assert.equal(made.shortUrl, `${w.base}/shl-one`);
    assert.equal(made.longUrl, "https://example.com/shlink/one");
    assert.deepEqual(made.tags, ["launch", "docs"]);
    assert.deepEqual(made.meta, { validSince: null, validUntil: "2099-01-01T00:00:00+00:00", maxVisits: 50 });
    assert.deepEqual(made.visitsSummary, { total: 0, nonBots: 0, bots: 0 });
    assert.equal(made.domain, null);
    assert.equal(made.crawlable, true);
    assert.equal(made.forwardQuery, true, "the SDK sends no false field at creation; Shlink's default is forwarding");
    assert.match(made.dateCreated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    assert.deepEqual(
      { target_url: link.target_url, tags: link.tags, title: link.title, expires_at: link.expires_at, max_clicks: link.max_clicks, crawlable: link.crawlable, forward_query: link.forward_query },
      { target_url: "https://example.com/shlink/one", tags: ["launch", "docs"], title: "Launch notes", expires_at: "2099-01-01T00:00:00Z", max_clicks: 50, crawlable: true, forward_query: true },
    );
    assert.equal(row.created_by, key.id, "the key is the link's creator, as in the operator API");
    assert.deepEqual(
      audit.filter((e) => e.action === "links.create").map((e) => [e.actor, e.detail]),
      [[key.id, { created: ["shl-one"], refused: 0 }]],
    );
    const visit = await w.visit("shl-one");
    assert.equal(visit.status, 302);
    assert.equal(visit.headers.get("location"), "https://example.com/shlink/one");
  });

  test("get, edit and delete act on the same link the native API reads", async () => {
    const w = await start();
    const client = shlink(w, ROOT);
    await client.createShortUrl({ longUrl: "https://example.com/shlink/edit", customSlug: "shl-edit", title: "Before", maxVisits: 3 });

    const got = await client.getShortUrl({ shortCode: "shl-edit" });
    const edited = await client.updateShortUrl({ shortCode: "shl-edit" }, { longUrl: "https://example.com/shlink/edited", title: "After", tags: ["moved"], maxVisits: null, forwardQuery: false });
    const afterEdit = await native(w, "shl-edit");
    await client.deleteShortUrl({ shortCode: "shl-edit" });
    const afterDelete = await native(w, "shl-edit");
    const gone = await problem(client.getShortUrl({ shortCode: "shl-edit" }));
    const audit = (await (await w.operator("/api/audit")).json()).entries.map((e) => [e.actor, e.action, e.target]);

    assert.equal(got.title, "Before");
    assert.equal(got.meta.maxVisits, 3);
    assert.equal(edited.longUrl, "https://example.com/shlink/edited");
    assert.equal(edited.title, "After");
    assert.deepEqual(edited.tags, ["moved"]);
    assert.equal(edited.meta.maxVisits, null);
    assert.equal(edited.forwardQuery, false);
    assert.deepEqual(
      { target_url: afterEdit.target_url, title: afterEdit.title, tags: afterEdit.tags, max_clicks: afterEdit.max_clicks, forward_query: afterEdit.forward_query },
      { target_url: "https://example.com/shlink/edited", title: "After", tags: ["moved"], max_clicks: null, forward_query: false },
    );
    assert.equal(afterDelete.state, "deactivated", "a Shlink delete is this service's deactivation");
    assert.equal((await w.visit("shl-edit")).status, 410);
    assert.equal(gone.type, `${PROBLEM}short-url-not-found`);
    assert.equal(gone.status, 404);
    assert.deepEqual(audit.slice(0, 2), [
      ["root", "link.deactivate", "shl-edit"],
      ["root", "link.update", "shl-edit"],
    ]);
  });

  test("the list pages, searches, filters by tags and orders as Shlink's does", async () => {
    const w = await start();
    const client = shlink(w, ROOT);
    for (const [slug, title, tags] of [
      ["ls-c", "Gamma", ["alpha"]],
      ["ls-a", "Alpha report", ["alpha", "beta"]],
      ["ls-b", "Beta", ["beta"]],
      ["ls-d", "Delta report", []],
    ]) {
      await client.createShortUrl({ longUrl: `https://example.com/list/${slug}`, customSlug: slug, title, tags });
    }

    const page1 = await client.listShortUrls({ itemsPerPage: 3, orderBy: { field: "shortCode", dir: "ASC" } });
    const page2 = await client.listShortUrls({ page: "2", itemsPerPage: 3, orderBy: { field: "shortCode", dir: "ASC" } });
    const searched = await client.listShortUrls({ searchTerm: "report", orderBy: { field: "title", dir: "DESC" } });
    const anyTag = await client.listShortUrls({ tags: ["alpha", "beta"], orderBy: { field: "shortCode", dir: "ASC" } });
    const allTags = await client.listShortUrls({ tags: ["alpha", "beta"], tagsMode: "all" });
    const bad = await problem(client.listShortUrls({ orderBy: { field: "colour", dir: "ASC" } }));
    const everything = await client.listShortUrls({ itemsPerPage: -1 });

    assert.deepEqual(page1.data.map((s) => s.shortCode), ["ls-a", "ls-b", "ls-c"]);
    assert.deepEqual(page1.pagination, { currentPage: 1, pagesCount: 2, itemsPerPage: 3, itemsInCurrentPage: 3, totalItems: 4 });
    assert.deepEqual(page2.data.map((s) => s.shortCode), ["ls-d"]);
    assert.equal(everything.data.length, 4);
    assert.equal(everything.pagination.itemsPerPage, 100, "-1 pages by the most one page holds here");
    assert.deepEqual(searched.data.map((s) => s.shortCode), ["ls-d", "ls-a"]);
    assert.deepEqual(anyTag.data.map((s) => s.shortCode), ["ls-a", "ls-b", "ls-c"]);
    assert.deepEqual(allTags.data.map((s) => s.shortCode), ["ls-a"]);
    assert.equal(bad.type, `${PROBLEM}invalid-data`);
    assert.equal(bad.status, 400);
    const tags = await client.listTags();
    const stats = await client.tagsStats();
    assert.deepEqual([...tags.data].sort(), ["alpha", "beta"]);
    assert.deepEqual(stats.data.find((t) => t.tag === "beta"), { tag: "beta", shortUrlsCount: 2, visitsSummary: { total: 0, nonBots: 0, bots: 0 } });
  });

  test("the list counts and pages every link, past the first thousand, in the order asked", async () => {
    const w = await start();
    await importMany(w, 1150, "many");
    const client = shlink(w, ROOT);

    const last = await client.listShortUrls({ page: "12", itemsPerPage: 100 });
    const beyond = await client.listShortUrls({ page: "13", itemsPerPage: 100 });
    const most = await client.listShortUrls({ itemsPerPage: 2, orderBy: { field: "visits", dir: "DESC" } });
    const fewest = await client.listShortUrls({ page: "575", itemsPerPage: 2, orderBy: { field: "visits", dir: "DESC" } });
    const since = await client.listShortUrls({ startDate: "2026-01-01T19:00:00Z", itemsPerPage: 1 });

    assert.deepEqual(last.pagination, { currentPage: 12, pagesCount: 12, itemsPerPage: 100, itemsInCurrentPage: 50, totalItems: 1150 });
    assert.deepEqual(last.data.map((s) => s.shortCode).slice(-2), ["many-1", "many-0"], "newest first: the oldest are last");
    assert.deepEqual(beyond.data, []);
    assert.deepEqual(most.data.map((s) => [s.shortCode, s.visitsSummary.total]), [["many-1149", 1149], ["many-1148", 1148]]);
    assert.deepEqual(fewest.data.map((s) => s.shortCode), ["many-1", "many-0"]);
    assert.equal(since.pagination.totalItems, 1150 - 19 * 60, "created at 19:00 or later: links 1140 onwards");
  });

  test("visits and the visits summary are the service's own counts", async () => {
    const w = await start({ VISIT_RETENTION_DAYS: "30" });
    const client = shlink(w, ROOT);
    await client.createShortUrl({ longUrl: "https://example.com/shlink/visits", customSlug: "shl-visits" });

    assert.equal((await w.visit("shl-visits", { referer: "https://news.example/item", country: "DE", userAgent: BROWSER })).status, 302);
    await waitFor(async () => (await native(w, "shl-visits")).clicks === 1, { timeout: 15000, message: "the click to be written" });
    const visits = await client.getShortUrlVisits({ shortCode: "shl-visits" });
    const overview = await client.getVisitsOverview();
    const shortUrl = await client.getShortUrl({ shortCode: "shl-visits" });

    assert.equal(visits.data.length, 1);
    assert.equal(visits.data[0].referer, "news.example");
    assert.equal(visits.data[0].visitLocation.countryCode, "DE");
    assert.equal(visits.data[0].potentialBot, false);
    assert.equal(visits.pagination.totalItems, 1);
    assert.deepEqual(shortUrl.visitsSummary, { total: 1, nonBots: 1, bots: 0 });
    assert.deepEqual(overview.nonOrphanVisits, { total: 1, nonBots: 1, bots: 0 });
  });

  test("domains are the instance's, with their fallbacks as Shlink's redirects", async () => {
    const w = await start({ DOMAINS: JSON.stringify({ default: { not_found: "https://example.com/404" }, "go.example": {} }) });

    const domains = await shlink(w, ROOT).listDomains();

    assert.deepEqual(domains.data.map((d) => [d.domain, d.isDefault]), [[w.base.replace("http://", ""), true], ["go.example", false]]);
    assert.equal(domains.defaultRedirects.regular404Redirect, "https://example.com/404");
  });

  test("errors are Shlink's problems: wrong key, unknown slug, taken slug, invalid URL, role", async () => {
    const w = await start();
    const reader = await makeKey(w, { name: "dash", role: "reader" });
    const client = shlink(w, ROOT);
    await client.createShortUrl({ longUrl: "https://example.com/shlink/taken", customSlug: "shl-taken" });

    const wrongKey = await problem(shlink(w, "sk_not_a_real_key").listShortUrls());
    const noKey = await fetch(`${w.base}/rest/v3/short-urls`);
    const unknown = await problem(client.getShortUrl({ shortCode: "no-such-slug" }));
    const taken = await problem(client.createShortUrl({ longUrl: "https://example.com/other", customSlug: "shl-taken" }));
    const invalid = await problem(client.createShortUrl({ longUrl: "not a url" }));
    const byReader = await problem(shlink(w, reader.token).createShortUrl({ longUrl: "https://example.com/reader" }));
    const unsupported = await problem(client.deleteShortUrlVisits({ shortCode: "shl-taken" }));

    assert.deepEqual(
      { type: wrongKey.type, title: wrongKey.title, status: wrongKey.status },
      { type: `${PROBLEM}invalid-api-key`, title: "Invalid API key", status: 401 },
    );
    assert.equal(noKey.status, 401);
    assert.match(noKey.headers.get("content-type"), /^application\/problem\+json/);
    assert.equal((await noKey.json()).type, `${PROBLEM}missing-authentication`);
    assert.deepEqual(
      { type: unknown.type, status: unknown.status, shortCode: unknown.shortCode },
      { type: `${PROBLEM}short-url-not-found`, status: 404, shortCode: "no-such-slug" },
    );
    assert.deepEqual(
      { type: taken.type, status: taken.status, customSlug: taken.customSlug },
      { type: `${PROBLEM}non-unique-slug`, status: 400, customSlug: "shl-taken" },
    );
    assert.equal(invalid.type, `${PROBLEM}invalid-data`);
    assert.equal(invalid.status, 400);
    assert.deepEqual(invalid.invalidElements, ["longUrl"]);
    assert.equal(byReader.status, 403);
    assert.equal(unsupported.status, 404, "what this service cannot do answers as a route Shlink does not have");
    assert.equal(unsupported.type, `${PROBLEM}not-found`);
    assert.equal((await native(w, "shl-taken")).target_url, "https://example.com/shlink/taken", "a refused slug leaves the link alone");
  });

  test("a creator key sees and changes only its own links; a domain-limited key only its domains", async () => {
    const w = await start({ DOMAINS: JSON.stringify({ "go.example": {} }) });
    const mine = await makeKey(w, { name: "mine", role: "creator" });
    const limited = await makeKey(w, { name: "go only", role: "admin", domains: ["go.example"] });
    await shlink(w, ROOT).createShortUrl({ longUrl: "https://example.com/root-only", customSlug: "shl-root" });
    await shlink(w, mine.token).createShortUrl({ longUrl: "https://example.com/mine", customSlug: "shl-mine" });

    const listed = await shlink(w, mine.token).listShortUrls();
    const other = await problem(shlink(w, mine.token).getShortUrl({ shortCode: "shl-root" }));
    const offDomain = await problem(shlink(w, limited.token).createShortUrl({ longUrl: "https://example.com/x", customSlug: "shl-x" }));
    const onDomain = await shlink(w, limited.token).createShortUrl({ longUrl: "https://example.com/y", customSlug: "shl-y", domain: "go.example" });

    assert.deepEqual(listed.data.map((s) => s.shortCode), ["shl-mine"]);
    assert.equal(other.status, 404);
    assert.equal(offDomain.status, 404);
    assert.equal(offDomain.type, `${PROBLEM}domain-not-found`);
    assert.equal(onDomain.domain, "go.example");
  });

  test("creations share the creation rate limit of POST /url", async () => {
    const w = await start({}, { rateLimit: { limit: 1, period: 60 } });
    const client = shlink(w, ROOT);

    await client.createShortUrl({ longUrl: "https://example.com/limited/1" });
    const limited = await problem(client.createShortUrl({ longUrl: "https://example.com/limited/2" }));

    assert.equal(limited.status, 429);
  });

  test("a browser client at an allowed origin (CORS_ORIGINS) may call it, preflight included", async () => {
    const w = await start({ CORS_ORIGINS: "https://app.shlink.example" });
    const origin = { origin: "https://app.shlink.example" };

    const preflight = await fetch(`${w.base}/rest/v3/short-urls`, {
      method: "OPTIONS",
      headers: { ...origin, "access-control-request-method": "POST", "access-control-request-headers": "x-api-key, content-type" },
    });
    const listed = await fetch(`${w.base}/rest/v3/short-urls`, { headers: { ...origin, "X-Api-Key": ROOT } });
    const elsewhere = await fetch(`${w.base}/rest/v3/short-urls`, { headers: { origin: "https://evil.example", "X-Api-Key": ROOT } });

    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.shlink.example");
    assert.match(preflight.headers.get("access-control-allow-headers"), /X-Api-Key/i);
    assert.match(preflight.headers.get("access-control-allow-methods"), /PATCH/);
    assert.equal(listed.status, 200);
    assert.equal(listed.headers.get("access-control-allow-origin"), "https://app.shlink.example");
    assert.equal(elsewhere.headers.get("access-control-allow-origin"), null);
  });

  test("switched off by COMPAT_APIS, its paths answer as unknown paths do", async () => {
    const w = await start({ COMPAT_APIS: "kutt" });

    const res = await fetch(`${w.base}/rest/v3/short-urls`, { headers: { "X-Api-Key": ROOT, accept: "application/json" } });
    const unknown = await fetch(`${w.base}/rest/v3/nothing-here`, { headers: { accept: "application/json" } });

    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), unknown.headers.get("content-type"));
    assert.deepEqual(await res.json(), await unknown.json());
  });
});
