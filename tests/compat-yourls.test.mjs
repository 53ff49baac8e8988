// YOURLS's API (/yourls-api.php), driven by the `yourls` client from PyPI, installed by
// `make bootstrap-python` into build/yourls-venv and pointed at the worker under
// Miniflare on 127.0.0.1. Every result is read back through the native operator API
// (/api/links/{key}). The client has no calls to edit or delete (in YOURLS those are
// plugins); those actions are checked to answer as YOURLS answers an unknown action.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { waitFor, workerPerTest, makeKey, native, importMany } from "./harness.mjs";

const PYTHON = new URL("../build/yourls-venv/bin/python", import.meta.url).pathname;
const inCi = Boolean(process.env.CI) && process.env.CI !== "false";
if (!existsSync(PYTHON) && inCi) {
  throw new Error(`no ${PYTHON}, and CI does not skip the YOURLS client test: run make bootstrap-python (it needs python3 with venv)`);
}
const skip = existsSync(PYTHON) ? false : `no ${PYTHON}: run make bootstrap-python (it needs python3 with venv)`;

const ROOT = "root-token-for-yourls";
const BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
const worker = workerPerTest();

async function start(vars = {}) {
  const w = await worker({ host: "127.0.0.1", port: 0, vars: { ADMIN_TOKEN: ROOT, ...vars } });
  w.base = String(w.url).replace(/\/$/, "");
  w.api = `${w.base}/yourls-api.php`;
  return w;
}

/**
 * Runs `body` (Python, indented by nothing) with `client` a YOURLSClient for `w` signed
 * as `auth` ({signature} or {username, password}); `body` sets `out`, printed as JSON.
 * A YOURLS exception is caught into `out = {"error": class name, "message", "status"}`.
 */
async function py(w, auth, body) {
  const script = [
    "import json, sys, datetime",
    "import yourls",
    "from yourls import YOURLSClient",
    `client = YOURLSClient(${JSON.stringify(w.api)}, **json.loads(${JSON.stringify(JSON.stringify(auth))}))`,
    "def plain(u):",
    "    return {k: (getattr(u, k).isoformat() if isinstance(getattr(u, k), datetime.datetime) else getattr(u, k)) for k in ('shorturl', 'url', 'title', 'date', 'ip', 'clicks', 'keyword')}",
    "out = None",
    "try:",
    ...body.trim().split("\n").map((line) => `    ${line}`),
    "except yourls.YOURLSAPIError as e:",
    "    status = getattr(getattr(e, 'response', None), 'status_code', None)",
    "    out = {'error': type(e).__name__, 'message': str(e), 'status': status}",
    "print(json.dumps(out))",
  ].join("\n");
  const { stdout } = await promisify(execFile)(PYTHON, ["-c", script], { timeout: 60000 });
  return JSON.parse(stdout.trim().split("\n").at(-1));
}

describe("YOURLS API through the yourls PyPI client", { skip }, () => {
  test("shorturl with keyword and title makes the service's own link; expand and url-stats read it", async () => {
    const w = await start();
    const key = await makeKey(w, { name: "yourls-client", role: "creator" });

    const made = await py(w, { signature: key.token }, `
u = client.shorten("https://example.com/yourls/one", keyword="yl-one", title="YOURLS one")
out = plain(u)`);
    const expanded = await py(w, { signature: key.token }, `out = client.expand("yl-one")`);
    const byUrl = await py(w, { signature: key.token }, `out = client.expand(${JSON.stringify(`${w.base}/yl-one`)})`);
    const link = await native(w, "yl-one");
    const row = await w.db.prepare("SELECT created_by FROM links WHERE key = ?1").bind("yl-one").first();
    const audit = (await (await w.operator("/api/audit")).json()).entries;

    assert.deepEqual(
      { shorturl: made.shorturl, url: made.url, title: made.title, keyword: made.keyword, clicks: made.clicks },
      { shorturl: `${w.base}/yl-one`, url: "https://example.com/yourls/one", title: "YOURLS one", keyword: "yl-one", clicks: 0 },
    );
    assert.match(made.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    assert.equal(expanded, "https://example.com/yourls/one");
    assert.equal(byUrl, "https://example.com/yourls/one");
    assert.deepEqual({ target_url: link.target_url, title: link.title }, { target_url: "https://example.com/yourls/one", title: "YOURLS one" });
    assert.equal(row.created_by, key.id);
    assert.deepEqual(
      audit.filter((e) => e.action === "links.create").map((e) => [e.actor, e.detail]),
      [[key.id, { created: ["yl-one"], refused: 0 }]],
    );
  });

  test("url-stats, stats and db-stats are the service's own counts", async () => {
    const w = await start();
    for (const slug of ["yl-a", "yl-b", "yl-c"]) {
      await py(w, { signature: ROOT }, `out = plain(client.shorten("https://example.com/yourls/${slug}", keyword="${slug}"))`);
    }
    assert.equal((await w.visit("yl-b", { userAgent: BROWSER })).status, 302);
    assert.equal((await w.visit("yl-b", { userAgent: BROWSER })).status, 302);
    await waitFor(async () => (await native(w, "yl-b")).clicks === 2, { timeout: 15000, message: "the clicks to be written" });

    const urlStats = await py(w, { signature: ROOT }, `out = plain(client.url_stats("yl-b"))`);
    const top = await py(w, { signature: ROOT }, `
links, stats = client.stats("top", 2)
out = {"links": [plain(l) for l in links], "total_links": stats.total_links, "total_clicks": stats.total_clicks}`);
    const last = await py(w, { signature: ROOT }, `
links, stats = client.stats("last", 3)
out = [l.shorturl.rsplit("/", 1)[1] for l in links]`);
    const db = await py(w, { username: "root", password: ROOT }, `
s = client.db_stats()
out = {"total_links": s.total_links, "total_clicks": s.total_clicks}`);

    assert.equal(urlStats.clicks, 2);
    assert.equal(urlStats.url, "https://example.com/yourls/yl-b");
    assert.deepEqual(top.links.map((l) => [l.url, l.clicks]), [["https://example.com/yourls/yl-b", 2], [top.links[1].url, 0]]);
    assert.deepEqual({ total_links: top.total_links, total_clicks: top.total_clicks }, { total_links: 3, total_clicks: 2 });
    assert.deepEqual(last, ["yl-c", "yl-b", "yl-a"]);
    assert.deepEqual(db, { total_links: 3, total_clicks: 2 });
  });

  test("stats and db-stats count every link, past the first thousand", async () => {
    const w = await start();
    await importMany(w, 1150, "many");
    const out = await py(w, { signature: ROOT }, `
top, stats = client.stats("top", 2)
bottom, _ = client.stats("bottom", 2)
db = client.db_stats()
out = {"top": [l.shorturl.rsplit("/", 1)[1] for l in top], "bottom": [l.shorturl.rsplit("/", 1)[1] for l in bottom],
       "stats": [stats.total_links, stats.total_clicks], "db": [db.total_links, db.total_clicks]}`);

    const clicks = (1150 * 1149) / 2;
    assert.deepEqual(out.top, ["many-1149", "many-1148"]);
    assert.deepEqual(out.bottom, ["many-0", "many-1"]);
    assert.deepEqual(out.stats, [1150, clicks]);
    assert.deepEqual(out.db, [1150, clicks]);
  });

  test("username and password are the key's id and the key", async () => {
    const w = await start();
    const key = await makeKey(w, { name: "yourls-user", role: "admin" });

    const ok = await py(w, { username: key.id, password: key.token }, `out = plain(client.shorten("https://example.com/yourls/user", keyword="yl-user"))`);
    const wrongUser = await py(w, { username: "key_someoneelse", password: key.token }, `out = client.expand("yl-user")`);

    assert.equal(ok.keyword, "yl-user");
    assert.equal((await native(w, "yl-user")).target_url, "https://example.com/yourls/user");
    assert.deepEqual({ error: wrongUser.error, status: wrongUser.status }, { error: "YOURLSHTTPError", status: 403 });
  });

  test("a key's signature token signs plainly and with a timestamp (md5, sha1, sha256 or sha512), and stale or wrong ones are refused", async () => {
    const w = await start();
    const key = await makeKey(w, { name: "uploader", role: "creator" });
    const hash = (algo, text) => createHash(algo).update(text).digest("hex");
    const now = Math.floor(Date.now() / 1000);
    const call = (params) => fetch(`${w.api}?${new URLSearchParams({ format: "json", ...params })}`);

    const issued = await (await call({ action: "signature", signature: key.token })).json();
    const token = issued.signature;
    const plain = await py(w, { signature: token }, `out = plain(client.shorten("https://example.com/yourls/token", keyword="yl-token"))`);
    const md5 = await call({ action: "shorturl", url: "https://example.com/yourls/md5", keyword: "yl-md5", timestamp: String(now), signature: hash("md5", `${now}${token}`) });
    const sha1 = await call({ action: "expand", shorturl: "yl-md5", timestamp: String(now), hash: "sha1", signature: hash("sha1", `${now}${token}`) });
    const longer = [];
    for (const algo of ["sha256", "sha512"]) {
      longer.push(await call({ action: "expand", shorturl: "yl-md5", timestamp: String(now), hash: algo.toUpperCase(), signature: hash(algo, `${now}${token}`) }));
    }
    const otherHash = await call({ action: "expand", shorturl: "yl-md5", timestamp: String(now), hash: "sha256", signature: hash("sha512", `${now}${token}`) });
    const stale = await call({ action: "expand", shorturl: "yl-md5", timestamp: String(now - 13 * 3600), signature: hash("md5", `${now - 13 * 3600}${token}`) });
    const wrong = await call({ action: "expand", shorturl: "yl-md5", timestamp: String(now), signature: hash("md5", `${now}not-the-token`) });
    const byRootToken = await (await call({ action: "signature", username: "root", password: ROOT })).json();
    const row = await w.db.prepare("SELECT created_by FROM links WHERE key = ?1").bind("yl-md5").first();

    assert.match(token, /^[0-9a-f]{32}$/);
    assert.notEqual(byRootToken.signature, token, "each key has its own token");
    assert.equal(plain.keyword, "yl-token");
    assert.equal(md5.status, 200);
    assert.equal((await md5.json()).status, "success");
    assert.equal(row.created_by, key.id, "a link made with a derived signature is the key's");
    assert.equal(sha1.status, 200);
    assert.equal((await sha1.json()).longurl, "https://example.com/yourls/md5");
    for (const answer of longer) {
      assert.equal(answer.status, 200);
      assert.equal((await answer.json()).longurl, "https://example.com/yourls/md5");
    }
    assert.equal(otherHash.status, 403, "a signature is checked under the hash it names");
    assert.equal(stale.status, 403);
    assert.equal(wrong.status, 403);
    assert.equal((await wrong.json()).message, "Please log in");
  });

  test("errors are YOURLS's: wrong key, unknown keyword, taken keyword, invalid URL, unknown action", async () => {
    const w = await start();
    await py(w, { signature: ROOT }, `out = plain(client.shorten("https://example.com/yourls/taken", keyword="yl-taken"))`);

    const wrongKey = await py(w, { signature: "sk_not_a_real_key" }, `out = client.expand("yl-taken")`);
    const unknown = await py(w, { signature: ROOT }, `out = client.expand("no-such-keyword")`);
    const taken = await py(w, { signature: ROOT }, `out = plain(client.shorten("https://example.com/other", keyword="yl-taken"))`);
    const invalid = await py(w, { signature: ROOT }, `out = plain(client.shorten("not a url"))`);
    const edit = await fetch(`${w.api}?action=update&format=json&signature=${ROOT}&shorturl=yl-taken&url=https://example.com/x`);

    assert.deepEqual({ error: wrongKey.error, status: wrongKey.status, message: wrongKey.message }, { error: "YOURLSHTTPError", status: 403, message: "Please log in" });
    assert.deepEqual({ error: unknown.error, status: unknown.status }, { error: "YOURLSHTTPError", status: 404 });
    assert.equal(taken.error, "YOURLSKeywordExistsError");
    assert.equal(invalid.error, "YOURLSNoURLError");
    assert.equal(edit.status, 400);
    assert.deepEqual(await edit.json(), { errorCode: 400, message: 'Unknown or missing "action" parameter', statusCode: 400 });
    assert.equal((await native(w, "yl-taken")).target_url, "https://example.com/yourls/taken");
  });

  test("formats: xml by default, json, and simple", async () => {
    const w = await start();
    const made = await fetch(`${w.api}?action=shorturl&format=simple&signature=${ROOT}&url=${encodeURIComponent("https://example.com/yourls/simple")}&keyword=yl-simple`);
    const xml = await fetch(`${w.api}?action=expand&signature=${ROOT}&shorturl=yl-simple`);
    const posted = await fetch(w.api, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ action: "version", format: "json", signature: ROOT }),
    });

    assert.equal(made.status, 200);
    assert.equal(await made.text(), `${w.base}/yl-simple`);
    assert.match(xml.headers.get("content-type"), /^application\/xml/);
    const text = await xml.text();
    assert.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<result>/);
    assert.match(text, /<longurl>https:\/\/example.com\/yourls\/simple<\/longurl>/);
    assert.deepEqual(await posted.json(), { version: "1.9.2", message: "success", statusCode: 200 });
  });

  test("switched off by COMPAT_APIS, /yourls-api.php answers as an unknown path does", async () => {
    const w = await start({ COMPAT_APIS: "shlink,kutt" });

    const res = await fetch(`${w.api}?action=version&format=json`, { headers: { accept: "application/json" } });
    const unknown = await fetch(`${w.base}/nothing-here.php`, { headers: { accept: "application/json" } });

    assert.equal(res.status, unknown.status);
    assert.deepEqual(await res.json(), await unknown.json());
  });
});
