// The command-line tool (cli/, built by `make cli` as target/release/shortener) against
// the worker listening on 127.0.0.1: imports from every source format's fixture, the
// reject file, idempotent reruns, dry runs, --on-conflict=update, exports, a round trip
// into a fresh instance, and the exit codes. Plus the import endpoint's own guarantees
// (one batch, nothing half-written) through the operator API.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onOneUtcDate, readJson, workerForFile, workerPerTest } from "./harness.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "target/release/shortener");
const FIXTURES = join(ROOT, "tests/fixtures");
const TOKEN = "operator-token-for-cli-tests-0123456789";
const tmp = mkdtempSync(join(tmpdir(), "shortener-cli-"));

/** Runs the CLI against `w` and resolves to {code, stdout, stderr}, whatever the exit code. */
function cli(w, args, { token = TOKEN, url = w?.url } = {}) {
  const env = { PATH: process.env.PATH, HOME: tmp, SHORTENER_CONFIG: join(tmp, "no-config") };
  if (url) env.SHORTENER_URL = String(url);
  if (token) env.SHORTENER_TOKEN = token;
  return new Promise((resolve) => {
    execFile(CLI, args, { env, cwd: tmp, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** A link as the operator sees it, or null. */
async function shown(w, key) {
  const res = await w.operator(`/api/links/${key}`);
  return res.status === 200 ? res.json() : null;
}

/** The rows of a reject file as objects (the file is plain CSV with a header). */
function rejects(path) {
  const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const names = header.split(",");
  return lines.map((line) => {
    const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g).map((c) => c.replace(/,$/, "").replace(/^"|"$/g, "").replaceAll('""', '"'));
    return Object.fromEntries(names.map((n, i) => [n, cells[i]]));
  });
}

assert.ok(existsSync(CLI), `${CLI} is missing: run make cli`);
// Each format's fixture uses keys no other test of the file uses.
const w = await workerForFile({ vars: { ADMIN_TOKEN: TOKEN }, host: "127.0.0.1", port: 0 });

describe("importing each source format", () => {

  // Each fixture holds two good links and one the service (or the reader) refuses.
  const cases = [
    { from: "bitly-json", file: "bitly-bitlinks.json", good: { "3xyzabc": { target: "https://example.com/bitly/docs", created: "2019-05-01T10:00:00Z" }, "bt-spring": {} }, bad: "bt-bad", reason: /http/ },
    { from: "bitly-csv", file: "bitly-export.csv", good: { btcsv1: { clicks: 12, created: "2019-06-01T08:30:00Z" }, "btcsv-two": { clicks: 0 } }, bad: "x1", reason: /3 to 64/ },
    { from: "yourls-csv", file: "yourls-url.csv", good: { "yo-ozh": { clicks: 1234, created: "2015-03-14T09:26:53Z" }, "yo-blog": { target: "https://example.com/yourls/blog?a=1&b=2" } }, bad: "yo-bad", reason: /http/ },
    { from: "yourls-sql", file: "yourls-dump.sql", good: { "ys-ozh": { clicks: 77 }, "ys-empty": { clicks: 0 } }, bad: "ys-bad", reason: /clicks/ },
    { from: "shlink-csv", file: "shlink-import.csv", good: { "sh-csv1": { target: "https://example.com/shlink-csv/one" }, "sh-csv2": {} }, bad: "sh-csv3", reason: /URL|url/ },
    { from: "shlink-json", file: "shlink-short-urls.json", good: { "sh-json1": { clicks: 321, created: "2022-04-10T09:00:00Z", max_clicks: 1000, forward_query: false }, "sh-json2": { state: "expired" } }, bad: "sh/bad", reason: /may contain only/ },
    { from: "kutt-json", file: "kutt-links.json", good: { "kt-one": { clicks: 42, created: "2021-08-01T12:34:56Z" }, "kt-two": { expires: "2031-01-01T00:00:00Z" } }, bad: "kt-bad", reason: /future/ },
    { from: "sink-json", file: "sink-export.json", good: { "sk-one": { created: "2024-06-01T00:00:00Z" }, "sk-two": { expires: "2030-01-01T00:00:00Z" } }, bad: "admin", reason: /reserved/ },
    { from: "csv", file: "generic.csv", args: ["--map", "key=Code,target_url=Destination,clicks=Hits,created_at=Made,tags=Labels,title=Name", "--tag-separator", ";"], good: { "gn-one": { clicks: 5, created: "2018-01-01T00:00:00Z" }, "gn-two": {} }, bad: "gn-bad", reason: /whole number/ },
  ];

  for (const c of cases) {
    test(`${c.from}: keys, targets, dates and clicks are kept; the refused row goes to the reject file`, async () => {
      const rejectFile = join(tmp, `${c.from}.rejects.csv`);
      const run = await cli(w, ["import", "--from", c.from, join(FIXTURES, c.file), "--rejects", rejectFile, ...(c.args ?? [])]);

      assert.equal(run.code, 1, `exit 1 when a row is refused\n${run.stdout}${run.stderr}`);
      assert.match(run.stdout, /3 rows read, 2 created, 0 updated, 0 exist already/);
      const refused = rejects(rejectFile);
      assert.equal(refused.length, 1, JSON.stringify(refused));
      assert.equal(refused[0].key.toLowerCase(), c.bad);
      assert.match(refused[0].reason, c.reason);
      for (const [key, want] of Object.entries(c.good)) {
        const link = await shown(w, key);
        assert.ok(link, `${key} was imported`);
        if (want.target) assert.equal(link.target_url, want.target);
        if (want.created) assert.equal(link.created_at, want.created);
        if (want.clicks !== undefined) {
          assert.equal(link.clicks, want.clicks);
          assert.equal(link.imported_clicks, want.clicks);
        }
        if (want.expires) assert.equal(link.expires_at, want.expires);
        if (want.max_clicks) assert.equal(link.max_clicks, want.max_clicks);
        if (want.forward_query !== undefined) assert.equal(link.forward_query, want.forward_query);
        assert.equal(link.state, want.state ?? "active");
        if (link.state === "active") {
          const res = await w.visit(key);
          assert.equal(res.status, link.redirect_status);
          assert.equal(res.headers.get("location"), link.target_url);
        }
      }
      assert.equal(await shown(w, c.bad), null);
    });
  }

  test("historical clicks are counted, never shown as visits in the daily statistics", async () => {
    const stats = await readJson(w.operator("/api/links/yo-ozh/stats?days=365"));
    assert.ok(stats.clicks >= 1234);
    const perDay = stats.by_day.reduce((n, d) => n + d.clicks, 0);
    assert.ok(perDay < 1234, `by_day holds only clicks counted here, got ${perDay}`);
  });

  test("running an import again changes nothing and reports the keys as existing", async () => {
    // The import test above followed kt-one once; its click lands after the response.
    await w.settleClicks("kt-one", 43);
    const before = await shown(w, "kt-one");
    const run = await cli(w, ["import", "--from", "kutt-json", join(FIXTURES, "kutt-links.json"), "--rejects", join(tmp, "again.csv")]);

    assert.equal(run.code, 1);
    assert.match(run.stdout, /0 created, 0 updated, 2 exist already/);
    assert.deepEqual(await shown(w, "kt-one"), before);
  });
});

describe("conflicts and dry runs", () => {
  const worker = workerPerTest();

  test("--dry-run reports what would change and writes nothing", async () => {
    const w = await worker({ vars: { ADMIN_TOKEN: TOKEN }, host: "127.0.0.1", port: 0 });
    const run = await cli(w, ["import", "--from", "yourls-csv", join(FIXTURES, "yourls-url.csv"), "--dry-run", "--rejects", join(tmp, "dry.csv")]);

    assert.equal(run.code, 1);
    assert.match(run.stdout, /dry run: nothing written.*2 created/);
    assert.equal(await w.linkCount(), 0);
  });

  test("--on-conflict=update replaces target and imported clicks, keeps clicks counted here, and redirects anew at once", async () => {
    const w = await worker({ vars: { ADMIN_TOKEN: TOKEN }, host: "127.0.0.1", port: 0 });
    const first = join(tmp, "first.csv");
    writeFileSync(first, "key,target_url,clicks\nupd-one,https://example.com/old,5\n");
    assert.equal((await cli(w, ["import", "--from", "csv", first])).code, 0);
    await w.visit("upd-one");
    await w.settleClicks("upd-one", 6);
    await w.waitUntilCached("upd-one");

    const second = join(tmp, "second.csv");
    writeFileSync(second, "key,target_url,clicks\nupd-one,https://example.com/new,10\n");
    const kept = await cli(w, ["import", "--from", "csv", second]);
    assert.equal(kept.code, 0);
    assert.match(kept.stdout, /0 created, 0 updated, 1 exists already/);
    assert.equal((await shown(w, "upd-one")).target_url, "https://example.com/old");

    const updated = await cli(w, ["import", "--from", "csv", second, "--on-conflict", "update"]);
    assert.equal(updated.code, 0);
    assert.match(updated.stdout, /0 created, 1 updated/);
    const link = await shown(w, "upd-one");
    assert.equal(link.target_url, "https://example.com/new");
    assert.equal(link.clicks, 11, "one click counted here plus the 10 imported");
    assert.equal(link.imported_clicks, 10);
    assert.equal((await w.visit("upd-one")).headers.get("location"), "https://example.com/new");
  });
});

describe("exports and the round trip", () => {
  const worker = workerPerTest();

  test("export from one instance and import into a fresh one reproduces links, settings and counts", async () => {
    const a = await worker({ vars: { ADMIN_TOKEN: TOKEN }, host: "127.0.0.1", port: 0 });
    await cli(a, ["import", "--from", "shlink-json", join(FIXTURES, "shlink-short-urls.json"), "--rejects", join(tmp, "rt.csv")]);
    const made = await a.create({ target_url: "https://example.com/rt/made", custom_key: "rt-made", max_clicks: 50, redirect_status: 301, forward_query: false, expires_at: "2031-05-05T05:05:05Z" });
    await a.visit(made.key);
    await a.settleClicks(made.key, 1);
    const off = await a.create({ target_url: "https://example.com/rt/off", custom_key: "rt-off" });
    await a.deactivate(off);

    const jsonl = join(tmp, "a.jsonl");
    const exported = await cli(a, ["export", "links", "--out", jsonl]);
    assert.equal(exported.code, 0, exported.stderr);
    const b = await worker({ vars: { ADMIN_TOKEN: TOKEN }, host: "127.0.0.1", port: 0 });
    const imported = await cli(b, ["import", "--from", "shortener", jsonl]);
    assert.equal(imported.code, 0, imported.stdout + imported.stderr);
    assert.match(imported.stdout, /4 rows read, 4 created/);

    const again = join(tmp, "b.jsonl");
    assert.equal((await cli(b, ["export", "links", "--out", again])).code, 0);
    const fields = ({ key, target_url, is_active, state, clicks, created_at, expires_at, max_clicks, redirect_status, forward_query }) =>
      ({ key, target_url, is_active, state, clicks, created_at, expires_at, max_clicks, redirect_status, forward_query });
    const read = (p) => readFileSync(p, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.key).map(fields);
    assert.deepEqual(read(again), read(jsonl));
    assert.equal((await b.visit("rt-made")).status, 301);
    assert.equal((await b.visit("rt-off")).status, 410);
  });

  test("links export as CSV and statistics per link per day as CSV; a secret gives one link's", () =>
    onOneUtcDate(async () => {
      const w = await worker({ vars: { ADMIN_TOKEN: TOKEN }, host: "127.0.0.1", port: 0 });
      const link = await w.create({ target_url: "https://example.com/csv, \"quoted\"", custom_key: "csv-one" });
      await w.visit(link.key);
      await w.visit(link.key);
      await w.settleClicks(link.key, 2);

      const csv = await cli(w, ["export", "links", "--format", "csv"]);
      assert.equal(csv.code, 0, csv.stderr);
      const [header, row] = csv.stdout.trim().split("\n");
      assert.equal(header, "key,target_url,is_active,state,clicks,imported_clicks,created_at,expires_at,max_clicks,redirect_status,forward_query,title,tags");
      assert.ok(row.startsWith(`csv-one,"https://example.com/csv,%20%22quoted%22",true,active,2,0,`), row);

      const today = new Date().toISOString().slice(0, 10);
      const all = await cli(w, ["export", "stats", "--days", "3"]);
      assert.equal(all.code, 0, all.stderr);
      const lines = all.stdout.trim().split("\n");
      assert.equal(lines[0], "key,date,clicks");
      assert.equal(lines.length, 4, "three days of one link");
      assert.ok(lines.includes(`csv-one,${today},2`), all.stdout);

      const owner = await cli(w, ["export", "stats", "--days", "1", "--secret", link.secret_key], { token: null });
      assert.equal(owner.code, 0, owner.stderr);
      assert.equal(owner.stdout.trim(), `key,date,clicks\ncsv-one,${today},2`);
    }));

  test("list, create and stats answer from the operator API", async () => {
    const w = await worker({ vars: { ADMIN_TOKEN: TOKEN }, host: "127.0.0.1", port: 0 });
    const made = await cli(w, ["create", "https://example.com/cli/made", "--key", "cli-made", "--max-clicks", "3"]);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stdout.trim(), `${String(w.url).replace(/\/$/, "")}/cli-made`);
    assert.match(made.stderr, /admin \(shown once\): .*\/admin\/cli-made_/);
    await w.visit("cli-made");
    await w.settleClicks("cli-made", 1);

    const listed = await cli(w, ["list", "--all"]);
    assert.match(listed.stdout, /^cli-made\s+1\s+active\s+https:\/\/example.com\/cli\/made$/m);
    const stats = await cli(w, ["stats", "CLI-MADE", "--days", "2"]);
    assert.match(stats.stdout, /^cli-made: 1 click \(/);
    const taken = await cli(w, ["create", "https://example.com/x", "--key", "cli-made"]);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /409 custom_key 'cli-made' is already taken/);
  });
});

describe("team keys from the command line", () => {
  const worker = workerPerTest();

  test("keys create prints a token that works at once, keys list shows it, keys revoke stops it", async () => {
    const w = await worker({ vars: { ADMIN_TOKEN: TOKEN }, host: "127.0.0.1", port: 0 });

    const made = await cli(w, ["keys", "create", "--name", "CI deploys", "--role", "reader"]);
    const token = made.stdout.trim();
    const asReader = await cli(w, ["list"], { token });
    const readerCreates = await cli(w, ["create", "https://example.com/not-allowed"], { token });
    const listed = await cli(w, ["keys", "list"]);
    const id = made.stderr.match(/created (key_[2-9a-z]{12})/)?.[1];
    const revoked = await cli(w, ["keys", "revoke", id]);
    const afterwards = await cli(w, ["list"], { token });
    const unknown = await cli(w, ["keys", "revoke", "key_23456789abcd"]);
    const badRole = await cli(w, ["keys", "create", "--name", "x", "--role", "owner"]);
    const help = await cli(w, ["keys", "--help"]);

    assert.equal(made.code, 0, made.stderr);
    assert.match(token, /^sk_[2-9a-z]{12}_[2-9a-z]{32}$/);
    assert.equal(asReader.code, 0, asReader.stderr);
    assert.equal(readerCreates.code, 2);
    assert.match(readerCreates.stderr, /403 .*role \(reader\)/);
    assert.match(listed.stdout, new RegExp(`^${id}\\s+reader\\s+active\\s+\\S+\\s+CI deploys$`, "m"));
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout.trim(), `revoked ${id}`);
    assert.equal(afterwards.code, 4, "a revoked key is refused (401)");
    assert.equal(unknown.code, 2);
    assert.equal(badRole.code, 2);
    assert.match(help.stdout, /creator \(creates links and manages its own\)/);
  });
});

describe("exit codes", () => {
  const worker = workerPerTest();

  test("a wrong token is 4, no token or URL is 2, a missing file is 3, an unreachable service is 5", async () => {
    const w = await worker({ vars: { ADMIN_TOKEN: TOKEN }, host: "127.0.0.1", port: 0 });
    const file = join(FIXTURES, "kutt-links.json");
    const wrong = await cli(w, ["import", "--from", "kutt-json", file], { token: "wrong" });
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.match(wrong.stderr, /401/);
    assert.equal((await cli(w, ["list"], { token: null })).code, 2);
    assert.equal((await cli(null, ["list"])).code, 2);
    assert.equal((await cli(w, ["import", "--from", "csv", join(tmp, "nothing-here.csv")])).code, 3);
    assert.equal((await cli(w, ["import", "--from", "kutt-json", join(FIXTURES, "generic.csv")])).code, 3);
    const down = await cli(w, ["list"], { url: "http://127.0.0.1:9" });
    assert.equal(down.code, 5, down.stderr);
    assert.equal(await w.linkCount(), 0, "nothing was written by any of them");
  });

  test("--help names every command, the formats and the exit codes", async () => {
    const help = await cli(w, ["--help"]);
    for (const word of ["import", "export", "list", "create", "stats", "keys", "Exit codes", "SHORTENER_TOKEN"]) assert.match(help.stdout, new RegExp(word));
    const importHelp = await cli(w, ["import", "--help"]);
    for (const format of ["bitly-json", "bitly-csv", "yourls-csv", "yourls-sql", "shlink-csv", "shlink-json", "kutt-json", "sink-json", "csv", "--dry-run", "--on-conflict", "--rejects", "--map"]) {
      assert.ok(importHelp.stdout.includes(format), format);
    }
  });
});

describe("the import endpoint", () => {
  const worker = workerPerTest();
  const item = (key, extra = {}) => ({ key, target_url: `https://example.com/ep/${key}`, ...extra });

  test("takes up to 1,000 links in a call and answers one result per item, in order", async () => {
    const w = await worker({ vars: { ADMIN_TOKEN: TOKEN } });
    const items = Array.from({ length: 1000 }, (_, i) => item(`ep-${i}`, { clicks: i, created_at: "2020-01-01T00:00:00Z" }));
    items[10] = item("ep-10", { target_url: "not a url" });
    items[20] = item("ep-0");
    const res = await w.operator("/api/links/import", { method: "POST", json: items });

    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.results.length, 1000);
    assert.deepEqual([body.created, body.rejected, body.exists, body.updated], [998, 2, 0, 0]);
    assert.equal(body.results[10].outcome, "rejected");
    assert.equal(body.results[20].outcome, "rejected");
    assert.match(body.results[20].detail, /more than once/);
    assert.match(body.results[999].secret_key, /^ep-999_/);
    assert.equal(await w.linkCount(), 998);
    assert.equal((await w.row("ep-999")).imported_clicks, 999);

    const tooMany = await w.operator("/api/links/import", { method: "POST", json: [...items, item("ep-x")] });
    assert.equal(tooMany.status, 422);
    const badMode = await w.operator("/api/links/import?on_conflict=overwrite", { method: "POST", json: [item("ep-y")] });
    assert.equal(badMode.status, 400);
  });

  test("titles and tags arrive as the link's controls, normalized; an update merges them into the others", async () => {
    const w = await worker({ vars: { ADMIN_TOKEN: TOKEN } });
    const long = "T".repeat(300);
    const first = await w.operator("/api/links/import", {
      method: "POST",
      json: [item("tt-one", { title: "  Docs  ", tags: ["Alpha", "beta", "alpha"] }), item("tt-long", { title: long })],
    });
    await w.operator("/api/links/tt-one", { method: "PATCH", json: { note: "kept across an update" } });
    const again = await w.operator("/api/links/import?on_conflict=update", {
      method: "POST",
      json: [item("tt-one", { title: "Docs v2" })],
    });
    const one = await (await w.operator("/api/links/tt-one")).json();
    const tagged = await (await w.operator("/api/links?tag=alpha")).json();

    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.equal(one.title, "Docs v2");
    assert.deepEqual(one.tags, ["alpha", "beta"]);
    assert.equal(one.note, "kept across an update");
    assert.deepEqual(tagged.links.map((l) => l.key), ["tt-one"]);
    // A title longer than a link keeps is cut, not a reason to leave the link behind.
    assert.equal((await (await w.operator("/api/links/tt-long")).json()).title.length, 200);
  });

  test("a call that fails in D1 writes nothing at all", async () => {
    const w = await worker({ vars: { ADMIN_TOKEN: TOKEN } });
    await w.db.prepare("CREATE TRIGGER refuse_boom BEFORE INSERT ON links WHEN NEW.key = 'boom' BEGIN SELECT RAISE(ABORT, 'injected'); END").run();
    const res = await w.operator("/api/links/import", { method: "POST", json: [item("fine-1"), item("boom"), item("fine-2")] });

    // A write D1 refuses (here a trigger) would be refused again: a 500, not the 503
    // that tells a client to send it again (issue 24).
    assert.equal(res.status, 500);
    assert.equal(await w.linkCount(), 0);
  });
});

describe("several domains", () => {
  const worker = workerPerTest();

  test("--domain imports, creates and lists on one of the service's domains", async () => {
    const GO = "go.example.com";
    const w = await worker({ vars: { ADMIN_TOKEN: TOKEN, DOMAINS: JSON.stringify({ [GO]: {} }) }, host: "127.0.0.1", port: 0 });
    const file = join(tmp, "domains.csv");
    writeFileSync(file, "key,target_url\ndom-one,https://example.com/go/one\n");

    assert.equal((await cli(w, ["import", "--from", "csv", file, "--domain", GO])).code, 0);
    assert.equal((await cli(w, ["import", "--from", "csv", file])).code, 0, "the same key on the primary domain is another link");
    const made = await cli(w, ["create", "https://example.com/go/two", "--key", "dom-two", "--domain", GO]);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stdout.trim(), `https://${GO}/dom-two`);
    const listed = await cli(w, ["list", "--domain", GO, "--json"]);
    const links = listed.stdout.trim().split("\n").map((l) => JSON.parse(l));

    assert.deepEqual(links.map((l) => `${l.domain}/${l.key}`).sort(), [`${GO}/dom-one`, `${GO}/dom-two`]);
    assert.equal((await w.operator(`/api/links/dom-one?domain=${GO}`)).status, 200);
    assert.equal((await w.operator("/api/links/dom-one")).status, 200);
    const unknown = await cli(w, ["create", "https://example.com/x", "--domain", "nope.example"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /not served here/);
  });
});
