// Each source's real export through the CLI (target/release/shortener) into the worker
// under Miniflare: the fixtures in tests/fixtures/ are written the way each tool writes
// its files (see tests/fixtures/README.md for the document or source file behind each).
// Per link: key, domain, target, title, tags, creation date and clicks; per refused row:
// the reason; per thing not kept: the note. All formats go into one instance (a
// cross-format run), then all again into a fresh one with --from auto, which must come
// out the same. Files of the wrong format exit 3 with what was expected and found.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { workerForFile, workerPerTest } from "./harness.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "target/release/shortener");
const FIXTURES = join(ROOT, "tests/fixtures");
const TOKEN = "operator-token-for-import-format-tests-0123";
const GO = "go.example.com";
const VARS = { ADMIN_TOKEN: TOKEN, DOMAINS: JSON.stringify({ [GO]: {} }) };
const tmp = mkdtempSync(join(tmpdir(), "shortener-formats-"));

function cli(w, args, { token = TOKEN } = {}) {
  const env = { PATH: process.env.PATH, HOME: tmp, SHORTENER_CONFIG: join(tmp, "no-config"), SHORTENER_URL: String(w.url) };
  if (token) env.SHORTENER_TOKEN = token;
  return new Promise((resolve) => {
    execFile(CLI, args, { env, cwd: tmp, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** Rows of a CSV file the CLI wrote (reject or notes file), as objects. */
function csvRows(path) {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; }
    else cell += c;
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

async function shown(w, key, domain) {
  const q = domain ? `?domain=${domain}` : "";
  const res = await w.operator(`/api/links/${encodeURIComponent(key)}${q}`);
  return res.status === 200 ? res.json() : null;
}

// What each fixture must become. `domain`: the link's own domain when this service
// serves it (go.example.com here); absent: the default domain. `title: null`: none.
const FORMATS = [
  {
    from: "bitly-json", file: "bitly-api-bitlinks.json", summary: /4 rows read, 3 created, 0 updated, 0 exist already .*1 refused/,
    links: [
      { key: "spring-sale", domain: GO, target: "https://example.com/shop/spring?utm_source=bitly", title: "Spring sale 2025 – up to 40% off", tags: ["marketing", "spring-2025"], created: "2025-03-01T09:30:00Z", clicks: 0 },
      { key: "bt-user-guide", target: "https://example.com/docs/user-guide", title: "User guide", tags: [], created: "2024-11-12T17:05:41Z", clicks: 0 },
      { key: "4abcdef", target: "https://example.com/blog/2023/06/launch", title: null, tags: [], created: "2023-06-30T23:59:59Z", clicks: 0 },
    ],
    refused: [{ key: "docs", reason: /reserved/ }],
    notes: [/bit\.ly\/2xk7pqr not kept as an alias/, /bit\.ly\/3kP9qRs not kept as an alias/, /bit\.ly\/3zZdOcS not kept as an alias/],
    domains: /onto their own domain: go\.example\.com \(1 link\); from domains not served here, onto the default domain: bit\.ly \(3 links\)/,
  },
  {
    from: "bitly-csv", file: "bitly-links-export.csv", summary: /5 rows read, 3 created, 0 updated, 0 exist already .*2 refused/,
    links: [
      { key: "autumn-sale", domain: GO, target: "https://example.com/shop/autumn", title: "Autumn sale, 2025", tags: ["marketing", "autumn"], created: "2025-09-01T08:00:00Z", clicks: 1204 },
      { key: "3csvdef", target: "https://example.com/pricing", title: "Pricing", tags: [], created: "2025-09-02T08:00:00Z", clicks: 87 },
      { key: "bt-team", target: "https://example.com/team", title: "Team page", tags: [], created: "2025-09-03T08:00:00Z", clicks: 5 },
    ],
    refused: [{ key: "bt-team", reason: /more than once/ }, { key: "admin", reason: /reserved/ }],
    notes: [/bit\.ly\/3csvAbc not kept as an alias/, /bit\.ly\/3csvGhi not kept/, /bit\.ly\/3csvJkl not kept/, /bit\.ly\/3csvMno not kept/],
  },
  {
    from: "yourls-csv", file: "yourls-phpmyadmin.csv", summary: /4 rows read, 3 created, 0 updated, 0 exist already .*1 refused/,
    links: [
      { key: "ypm-null", target: "https://example.com/yourls/null", title: null, tags: [], created: "2016-01-01T12:00:00Z", clicks: 0 },
      { key: "ypm-quote", target: "https://example.com/yourls/quote?a=1&b=2", title: "Ozh's \"blog\", with a comma", tags: [], created: "2015-03-14T09:26:53Z", clicks: 1234 },
      { key: "ypm-lines", target: "https://example.com/yourls/lines", title: "Line one line two", tags: [], created: "2017-07-07T07:07:07Z", clicks: 7 },
    ],
    refused: [{ key: "ypm-bad", reason: /http/ }],
    notes: [],
  },
  {
    from: "yourls-sql", file: "yourls-dump.sql", summary: /3 rows read, 2 created, 0 updated, 0 exist already .*1 refused/,
    links: [
      { key: "ys-ozh", target: "https://example.com/yourls-sql/ozh", title: "Ozh's \"blog\"; (sql)", tags: [], created: "2015-03-14T09:26:53Z", clicks: 77 },
      { key: "ys-empty", target: "https://example.com/yourls-sql/empty", title: null, tags: [], created: "2016-01-01T12:00:00Z", clicks: 0 },
    ],
    refused: [{ key: "ys-bad", reason: /clicks/ }],
    notes: [],
  },
  {
    from: "shlink-csv", file: "shlink-web-client-export.csv", summary: /3 rows read, 2 created, 0 updated, 0 exist already .*1 refused/,
    links: [
      { key: "shc-launch", target: "https://example.com/shlink/launch", title: "Launch day", tags: ["launch", "product-news"], created: "2025-01-10T09:00:00Z", clicks: 12 },
      { key: "shc-go", domain: GO, target: "https://example.com/shlink/go", title: null, tags: [], created: "2025-01-12T18:30:00Z", clicks: 0 },
    ],
    refused: [{ key: "events/2025", reason: /several path segments/ }],
    notes: [],
    domains: /onto their own domain: go\.example\.com \(1 link\); from domains not served here, onto the default domain: s\.test \(1 link\)$/m,
  },
  {
    from: "shlink-csv", file: "shlink-import.csv", summary: /3 rows read, 2 created, 0 updated, 0 exist already .*1 refused/,
    links: [
      { key: "sh-csv1", target: "https://example.com/shlink-csv/one", title: "Shlink CSV one", tags: ["foo", "bar"], clicks: 0 },
      { key: "sh-csv2", target: "https://example.com/shlink-csv/two", title: null, tags: [], clicks: 0 },
    ],
    refused: [{ key: "sh-csv3", reason: /URL|url/ }],
    notes: [],
  },
  {
    from: "shlink-json", file: "shlink-api-short-urls.json", summary: /3 rows read, 2 created, 0 updated, 0 exist already .*1 refused/,
    links: [
      { key: "sha-docs", target: "https://example.com/shlink-api/docs", title: "Docs: the guide", tags: ["docs", "shlink-api"], created: "2024-05-02T12:20:11Z", clicks: 321, max_clicks: 1000, forward_query: false },
      { key: "sha-go", domain: GO, target: "https://example.com/shlink-api/go", title: null, tags: [], created: "2024-05-03T00:00:00Z", clicks: 0, expires: "2030-01-01T00:00:00Z" },
    ],
    refused: [{ key: "blog/2024/recap", reason: /several path segments/ }],
    notes: [/validSince 2024-06-01T00:00:00\+00:00 not kept/],
  },
  {
    from: "kutt-json", file: "kutt-api-links.json", summary: /3 rows read, 3 created, 0 updated, 0 exist already .*0 refused/,
    links: [
      { key: "ktr-home", target: "https://example.com/kutt/home", title: "Home page", tags: [], created: "2024-02-02T10:11:12Z", clicks: 58 },
      { key: "ktr-go", domain: GO, target: "https://example.com/kutt/go", title: null, tags: [], created: "2024-02-04T00:00:00Z", clicks: 0, expires: "2031-01-01T00:00:00Z" },
      { key: "ktr-banned", target: "https://example.com/kutt/banned", title: "Banned at Kutt", tags: [], created: "2024-02-05T00:00:00Z", clicks: 9, state: "deactivated" },
    ],
    refused: [],
    notes: [/password not kept/, /banned at Kutt/],
  },
  {
    from: "sink-json", file: "sink-dashboard-export.json", summary: /3 rows read, 2 created, 0 updated, 0 exist already .*1 refused/,
    links: [
      { key: "snk-launch", target: "https://example.com/sink/launch", title: "Launch post", tags: ["launch", "newsletter"], created: "2024-06-01T00:00:00Z", clicks: 0 },
      { key: "snk-later", target: "https://example.com/sink/later", title: "expires with the campaign", tags: [], created: "2024-06-02T00:00:00Z", clicks: 0, expires: "2030-01-01T00:00:00Z" },
    ],
    refused: [{ key: "admin", reason: /reserved/ }],
    notes: [/Sink comment not kept/, /link preview \(description, image\) not kept/],
  },
  {
    from: "dub-json", file: "dub-api-links.json", summary: /4 rows read, 3 created, 0 updated, 0 exist already .*1 refused/,
    links: [
      { key: "dub-launch", target: "https://example.com/dub/launch", title: "Launch week", tags: ["product", "q1-launch"], created: "2025-01-06T09:00:00Z", clicks: 482 },
      { key: "dub-go", domain: GO, target: "https://example.com/dub/go", title: null, tags: [], created: "2025-01-08T09:00:00Z", clicks: 0, expires: "2030-06-30T00:00:00Z" },
      { key: "dub-off", target: "https://example.com/dub/off", title: "Switched off", tags: [], created: "2024-12-01T00:00:00Z", clicks: 17, state: "deactivated" },
    ],
    refused: [{ key: "_root", reason: /root/ }],
    notes: [/password not kept/, /Dub comments not kept/],
  },
  {
    from: "dub-csv", file: "dub-links-export.csv", summary: /3 rows read, 2 created, 0 updated, 0 exist already .*1 refused/,
    links: [
      { key: "dbc-launch", target: "https://example.com/dub-csv/launch", title: null, tags: ["product", "q1-launch"], created: "2025-01-06T09:00:00Z", clicks: 482 },
      { key: "dbc-go", domain: GO, target: "https://example.com/dub-csv/go", title: null, tags: ["-internal"], created: "2025-01-08T09:00:00Z", clicks: 0 },
    ],
    refused: [{ key: "docs", reason: /reserved/ }],
    notes: [],
  },
];

/** Imports one fixture and checks every link, refusal and note it must give. */
async function importAndCheck(w, c, from, label) {
  const rejects = join(tmp, `${label}.rejects.csv`);
  const notes = join(tmp, `${label}.notes.csv`);
  const run = await cli(w, ["import", "--from", from, join(FIXTURES, c.file), "--rejects", rejects, "--notes", notes]);
  const out = run.stdout + run.stderr;

  assert.equal(run.code, c.refused.length ? 1 : 0, out);
  assert.match(run.stdout, c.summary);
  if (c.domains) assert.match(run.stdout, c.domains);
  const refused = csvRows(rejects);
  assert.deepEqual(refused.map((r) => r.key), c.refused.map((r) => r.key), out);
  c.refused.forEach((want, i) => assert.match(refused[i].reason, want.reason));
  const noted = csvRows(notes).map((n) => n.note);
  assert.equal(noted.length, c.notes.length, JSON.stringify(noted));
  for (const want of c.notes) assert.ok(noted.some((n) => want.test(n)), `${want} in ${JSON.stringify(noted)}`);
  if (c.notes.length) assert.match(run.stdout, new RegExp(`notes: ${c.notes.length} things? .*${label}\\.notes\\.csv`));
  for (const want of c.links) {
    const link = await shown(w, want.key, want.domain);
    assert.ok(link, `${want.key} on ${want.domain ?? "the default domain"}\n${out}`);
    const got = { target: link.target_url, title: link.title ?? null, tags: link.tags ?? [], clicks: link.clicks, state: link.state };
    assert.deepEqual(got, { target: want.target, title: want.title, tags: want.tags, clicks: want.clicks, state: want.state ?? "active" }, want.key);
    assert.equal(link.imported_clicks, want.clicks);
    if (want.created) assert.equal(link.created_at, want.created, want.key);
    if (want.expires) assert.equal(link.expires_at, want.expires, want.key);
    if (want.max_clicks) assert.equal(link.max_clicks, want.max_clicks);
    if (want.forward_query !== undefined) assert.equal(link.forward_query, want.forward_query);
    if (want.domain) assert.equal(await shown(w, want.key), null, `${want.key} is on ${want.domain} only`);
  }
  return run;
}

/** Every link of an instance, as comparable rows. */
async function everything(w) {
  const rows = [];
  for (const domain of ["default", GO]) {
    let cursor = "";
    do {
      const page = await (await w.operator(`/api/links?limit=100&domain=${domain}${cursor ? `&cursor=${cursor}` : ""}`)).json();
      for (const l of page.links) rows.push([domain, l.key, l.target_url, l.title ?? null, (l.tags ?? []).join("|"), l.clicks, l.state].join(" "));
      cursor = page.next_cursor ?? "";
    } while (cursor);
  }
  return rows.sort();
}

// One instance takes every format (keys differ across the fixtures); a second takes them
// all again through --from auto.
const w = await workerForFile({ vars: VARS, host: "127.0.0.1", port: 0 });
const fresh = await workerForFile({ vars: VARS, host: "127.0.0.1", port: 0 });

describe("each source's real export, all into one instance", () => {
  for (const [i, c] of FORMATS.entries()) {
    test(`${c.from} (${c.file}): keys, domains, targets, titles, tags, dates and clicks as the source had them`, async () => {
      await importAndCheck(w, c, c.from, `one-${i}`);
    });
  }

  test("--from auto over every file gives a fresh instance the same links, and says what it read each file as", async () => {
    for (const [i, c] of FORMATS.entries()) {
      const run = await importAndCheck(fresh, c, "auto", `auto-${i}`);
      assert.match(run.stderr, new RegExp(`--from auto: read as ${c.from} \\(`));
    }
    const want = await everything(w);
    const expected = FORMATS.reduce((n, c) => n + c.links.length, 0);
    assert.equal(want.length, expected);
    assert.deepEqual(await everything(fresh), want);
  });

  test("a second run of a file changes nothing and says one link exists in the singular", async () => {
    const before = await everything(w);
    const run = await cli(w, ["import", "--from", "kutt-json", join(FIXTURES, "kutt-api-links.json"), "--notes", join(tmp, "again.notes.csv")]);
    const single = join(tmp, "single.csv");
    writeFileSync(single, "key,target_url\nonly-one,https://example.com/only-one\n");
    const one = await cli(w, ["import", "--from", "csv", single]);
    const oneAgain = await cli(w, ["import", "--from", "csv", single]);

    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /3 rows read, 0 created, 0 updated, 3 exist already \(left as they were\), 0 refused; [\d.]+ s, 0 links\/s imported/);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^import: 1 row read, 1 created, 0 updated, 0 exist already \(left as they were\), 0 refused;/);
    assert.match(oneAgain.stdout, /^import: 1 row read, 0 created, 0 updated, 1 exists already \(left as it was\), 0 refused;/);
    assert.deepEqual((await everything(w)).filter((r) => !r.includes(" only-one ")), before);
  });
});

describe("wrong input", () => {
  const worker = workerPerTest();

  test("a file of another format exits 3 with what was expected and what was found, and writes nothing", async () => {
    const w = await worker({ vars: VARS, host: "127.0.0.1", port: 0 });
    const cases = [
      ["yourls-sql", "shlink-api-short-urls.json", /expected an SQL dump with INSERT INTO yourls_url .*found none \(the file starts with '\{/],
      ["shlink-json", "kutt-api-links.json", /expected a page of Shlink's GET \/rest\/v3\/short-urls .*; found a JSON object with data, limit, skip, total; its 'data' lists objects with address/],
      ["kutt-json", "sink-dashboard-export.json", /expected a page of Kutt's GET \/api\/v2\/links .*; found a JSON object with count, cursor, exportedAt/],
      ["bitly-json", "dub-api-links.json", /expected a page of Bitly's .*; found a JSON list of objects with /],
      ["bitly-csv", "bitly-api-bitlinks.json", /expected Bitly's CSV export .*; found JSON/],
      ["dub-csv", "yourls-phpmyadmin.csv", /expected Dub's CSV export .*; found a header of keyword, url, title, timestamp, ip, clicks/],
      ["yourls-csv", "dub-links-export.csv", /expected the yourls_url table as CSV .*; found a header of Short link, Destination URL/],
      ["sink-json", "yourls-dump.sql", /expected Sink's export .*; found text that is not JSON/],
    ];
    for (const [from, file, why] of cases) {
      const run = await cli(w, ["import", "--from", from, join(FIXTURES, file), "--rejects", join(tmp, "wrong.csv")]);
      assert.equal(run.code, 3, `${from} on ${file}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, why, `${from} on ${file}`);
    }
    const unknown = await cli(w, ["import", "--from", "auto", join(ROOT, "README.md")]);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /--from auto: .*README\.md looks like none of the formats \(it starts with '# shortener/);
    assert.equal(await w.linkCount(), 0);
  });

  test("the token and the service are checked before the file is read; an unknown key's stats exit 6", async () => {
    const w = await worker({ vars: VARS, host: "127.0.0.1", port: 0 });
    const missing = join(tmp, "not-there.csv");
    const wrongToken = await cli(w, ["import", "--from", "csv", missing], { token: "wrong" });
    const noToken = await cli(w, ["import", "--from", "csv", missing], { token: null });
    const unknown = await cli(w, ["stats", "no-such-key"]);
    await w.create({ target_url: "https://example.com/one-click", custom_key: "one-click" });
    await w.visit("one-click");
    await w.settleClicks("one-click", 1);
    const one = await cli(w, ["stats", "one-click"]);

    assert.equal(wrongToken.code, 4, wrongToken.stderr);
    assert.match(wrongToken.stderr, /401/);
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /no operator token/);
    assert.equal(unknown.code, 6, unknown.stderr);
    assert.match(unknown.stderr, /no link with the key 'no-such-key' here/);
    assert.doesNotMatch(unknown.stderr, /ADMIN_TOKEN/);
    assert.match(one.stdout, /^one-click: 1 click \(/);
  });
});
