// Kutt's API v2, driven by the `kutt` client library (from the npm registry) pointed at
// the worker under Miniflare on 127.0.0.1. Every result is read back through the
// native operator API (/api/links/{key}) or the bindings: the adapter must be the same
// links, not a copy. /api/v2 lies under the operator API's /api: the last tests hold
// the operator API's own authentication to what it was.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { Kutt } from "kutt";
import { waitFor, workerPerTest, makeKey, native, importMany } from "./harness.mjs";

const ROOT = "root-token-for-kutt";
const BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
const worker = workerPerTest();

/** A worker listening on 127.0.0.1 (the client makes real HTTP requests). */
async function start(vars = {}, opts = {}) {
  const w = await worker({ host: "127.0.0.1", port: 0, vars: { ADMIN_TOKEN: ROOT, ...vars }, ...opts });
  w.base = String(w.url).replace(/\/$/, "");
  return w;
}

/** The client for `w` with `key`. */
const kutt = (w, key) => new Kutt().set("api", `${w.base}/api/v2`).set("key", key);

/** The refusal a rejected client call threw: its message, and Kutt's status and body. */
async function refusal(promise) {
  try {
    await promise;
  } catch (e) {
    return { message: e.message, status: e.cause?.status, data: e.cause?.data };
  }
  assert.fail("expected the call to be refused");
}

describe("Kutt API v2 through the kutt client", () => {
  test("health answers, and a link created through the client is the service's own", async () => {
    const w = await start();
    const key = await makeKey(w, { name: "kutt-client", role: "creator" });
    const links = kutt(w, key.token).links();

    const healthy = await kutt(w, "").health().check();
    const made = await links.create({ target: "https://example.com/kutt/one", customurl: "kt-one", description: "Kutt one", expire_in: "2 days", password: "open sesame" });
    const link = await native(w, "kt-one");
    const row = await w.db.prepare("SELECT created_by FROM links WHERE key = ?1").bind("kt-one").first();
    const audit = (await (await w.operator("/api/audit")).json()).entries;

    assert.equal(healthy, true);
    assert.equal(made.id, "kt-one");
    assert.equal(made.address, "kt-one");
    assert.equal(made.link, `${w.base}/kt-one`);
    assert.equal(made.target, "https://example.com/kutt/one");
    assert.equal(made.description, "Kutt one");
    assert.equal(made.password, true);
    assert.equal(made.visit_count, 0);
    assert.ok(made.created_at instanceof Date, "the client revives created_at as a Date");
    const expires = Date.parse(link.expires_at) - Date.now();
    assert.ok(expires > 2 * 86400e3 - 120e3 && expires <= 2 * 86400e3, `expires in two days, got ${link.expires_at}`);
    assert.deepEqual(
      { target_url: link.target_url, title: link.title, protected: link.protected },
      { target_url: "https://example.com/kutt/one", title: "Kutt one", protected: true },
    );
    assert.equal(row.created_by, key.id);
    assert.deepEqual(
      audit.filter((e) => e.action === "links.create").map((e) => [e.actor, e.detail]),
      [[key.id, { created: ["kt-one"], refused: 0 }]],
    );
    assert.equal((await w.visit("kt-one")).status, 401, "the password the client set protects the link");
  });

  test("list, update and remove act on the same links the native API reads", async () => {
    const w = await start();
    const links = kutt(w, ROOT).links();
    for (const slug of ["kt-a", "kt-b", "kt-c"]) {
      await links.create({ target: `https://example.com/kutt/${slug}`, customurl: slug });
    }

    const first = await links.list({ limit: 2 });
    const second = await links.list({ skip: 2, limit: 2 });
    const updated = await links.update("kt-b", { target: "https://example.com/kutt/moved", address: "kt-b2", description: "Moved" });
    const afterUpdate = await native(w, "kt-b2");
    const message = await links.remove("kt-c");
    const afterRemove = await native(w, "kt-c");
    const listed = await links.list();
    const audit = (await (await w.operator("/api/audit")).json()).entries.map((e) => [e.actor, e.action, e.target]);

    assert.deepEqual(first.data.map((l) => l.id), ["kt-c", "kt-b"]);
    assert.deepEqual({ total: first.total, limit: first.limit, skip: first.skip }, { total: 3, limit: 2, skip: 0 });
    assert.deepEqual(second.data.map((l) => l.id), ["kt-a"]);
    assert.equal(updated.id, "kt-b2");
    assert.equal(updated.target, "https://example.com/kutt/moved");
    assert.deepEqual(
      { key: afterUpdate.key, target_url: afterUpdate.target_url, title: afterUpdate.title, stats_key: afterUpdate.stats_key },
      { key: "kt-b2", target_url: "https://example.com/kutt/moved", title: "Moved", stats_key: "kt-b" },
    );
    assert.equal(message, "Link has been deleted successfully.");
    assert.equal(afterRemove.state, "deactivated", "a Kutt delete is this service's deactivation");
    assert.deepEqual(listed.data.map((l) => l.id), ["kt-b2", "kt-a"]);
    assert.deepEqual(audit.slice(0, 2), [
      ["root", "link.deactivate", "kt-c"],
      ["root", "link.update", "kt-b2"],
    ]);
  });

  test("the list counts and pages every link, past the first thousand", async () => {
    const w = await start();
    await importMany(w, 1150, "many");
    const links = kutt(w, ROOT).links();

    const tail = await links.list({ skip: 1148, limit: 10 });
    const beyond = await links.list({ skip: 1150, limit: 10 });

    assert.deepEqual({ total: tail.total, skip: tail.skip, limit: tail.limit }, { total: 1150, skip: 1148, limit: 10 });
    assert.deepEqual(tail.data.map((l) => l.id), ["many-1", "many-0"]);
    assert.deepEqual({ total: beyond.total, data: beyond.data }, { total: 1150, data: [] });
  });

  test("stats are the service's own counts", async () => {
    const w = await start();
    const links = kutt(w, ROOT).links();
    await links.create({ target: "https://example.com/kutt/stats", customurl: "kt-stats" });

    assert.equal((await w.visit("kt-stats", { referer: "https://news.example/a", country: "FR", userAgent: BROWSER })).status, 302);
    await waitFor(async () => (await native(w, "kt-stats")).clicks === 1, { timeout: 15000, message: "the click to be written" });
    const stats = await links.stats("kt-stats");

    assert.equal(stats.visit_count, 1);
    assert.equal(stats.lastWeek.views.length, 7);
    assert.equal(stats.lastWeek.views.at(-1), 1);
    assert.deepEqual(stats.lastDay.stats.country, [{ name: "FR", value: 1 }]);
    assert.deepEqual(stats.lastYear.stats.referrer, [{ name: "news.example", value: 1 }]);
    assert.equal((await native(w, "kt-stats")).state, "active", "the client's DELETE for stats deletes nothing");
  });

  test("user info names the key and the domains it may use", async () => {
    const w = await start({ DOMAINS: JSON.stringify({ "go.example": {}, "b.example": {} }) });
    const limited = await makeKey(w, { name: "go only", role: "admin", domains: ["go.example"] });

    const info = await kutt(w, limited.token).users().info();

    assert.equal(info.apikey, limited.token);
    assert.equal(info.email, limited.id);
    assert.deepEqual(info.domains.map((d) => d.address), ["go.example"]);
  });

  test("errors are Kutt's: wrong key, unknown link, taken custom URL, invalid URL, role", async () => {
    const w = await start();
    const reader = await makeKey(w, { name: "dash", role: "reader" });
    const links = kutt(w, ROOT).links();
    await links.create({ target: "https://example.com/kutt/taken", customurl: "kt-taken" });

    const wrongKey = await refusal(kutt(w, "sk_not_a_real_key").links().list());
    const unknown = await refusal(links.update("no-such-link", { target: "https://example.com/x", address: "no-such-link" }));
    const taken = await refusal(links.create({ target: "https://example.com/other", customurl: "kt-taken" }));
    const invalid = await refusal(links.create({ target: "not a url" }));
    const badExpiry = await refusal(links.create({ target: "https://example.com/y", expire_in: "soon" }));
    const byReader = await refusal(kutt(w, reader.token).links().create({ target: "https://example.com/reader" }));
    const domain = await refusal(kutt(w, ROOT).domains().create({ address: "new.example" }));

    assert.deepEqual({ status: wrongKey.status, message: wrongKey.message }, { status: 401, message: "API key is not correct." });
    assert.deepEqual({ status: unknown.status, message: unknown.message }, { status: 404, message: "Link could not be found." });
    assert.deepEqual({ status: taken.status, message: taken.message }, { status: 400, message: "Custom URL is already in use." });
    assert.equal(invalid.status, 400);
    assert.match(invalid.message, /^target/);
    assert.equal(badExpiry.status, 400);
    assert.equal(byReader.status, 403);
    assert.equal(domain.status, 400);
    assert.deepEqual(domain.data, { error: domain.message });
    assert.equal((await native(w, "kt-taken")).target_url, "https://example.com/kutt/taken");
  });

  test("/api/v2 opens no operator route, and switched off it is an unknown operator path again", async () => {
    const on = await start();
    const off = await start({ COMPAT_APIS: "shlink,yourls" });

    // The operator API's own paths keep their bearer authentication beside the adapter.
    const operatorWithKuttHeader = await fetch(`${on.base}/api/links`, { headers: { "X-API-KEY": ROOT } });
    const keysThroughV2 = await fetch(`${on.base}/api/v2/keys`, { headers: { "X-API-KEY": ROOT } });
    const offNoToken = await fetch(`${off.base}/api/v2/links`, { headers: { "X-API-KEY": ROOT } });
    const offWithToken = await off.operator("/api/v2/links");
    const unknownOperatorPath = await off.operator("/api/nothing-here");

    assert.equal(operatorWithKuttHeader.status, 401);
    assert.equal(keysThroughV2.status, 404);
    assert.deepEqual(await keysThroughV2.json(), { error: "Not found." });
    assert.equal(offNoToken.status, 401);
    assert.equal(offWithToken.status, 404);
    assert.deepEqual(await offWithToken.json(), await unknownOperatorPath.json());
  });
});
