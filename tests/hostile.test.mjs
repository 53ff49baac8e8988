// A table of hostile and malformed requests against the built wasm. Each must get its
// documented 4xx with a JSON `detail`, never a 5xx; afterwards the same isolate (what it
// remembers in memory intact, so no panic reset it) still serves a redirect. One worker
// for the file's one test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { refuseOutbound, workerForFile } from "./harness.mjs";

// A rule is cached on its second miss in an isolate (the deployed default), which is
// what tells this isolate from a fresh one below. The one target a health check finds
// dead; every other outbound fetch is refused.
const outbound = (request) => (new URL(request.url).hostname === "gone.example" ? new Response("not found", { status: 404 }) : refuseOutbound(request));
const w = await workerForFile({ vars: { BASE_URL: "https://sho.rt", BENCH_COUNTERS: "1", CACHE_AFTER_MISSES: "2" }, outbound });
// The rows marked `bare` go to an instance without ADMIN_TOKEN: the one above has the
// operator token its benchmark counters answer to.
const bare = await workerForFile({ vars: { BASE_URL: "https://sho.rt" } });

const JSON_CT = { "content-type": "application/json" };
const create = (target_url) => ({ method: "POST", path: "/url", headers: JSON_CT, body: JSON.stringify({ target_url }) });
const raw = (body, headers = JSON_CT) => ({ method: "POST", path: "/url", body, headers });
const secretShape = (random) => `/admin/abcdefgh_${random}`;

const SLACKBOT = { "user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" };

/**
 * [name, request, status]. `request.path` may use {key} and {secret}, and {locked}: a
 * password-protected link with a social card whose target is dead, in interstitial
 * mode. `request.hides`: text the answer must not contain. `request.bare`: sent to the
 * instance without ADMIN_TOKEN.
 */
const TABLE = [
  // Scheme tricks.
  ["javascript:", create("javascript:alert(1)"), 400],
  ["javascript: mixed case", create("JaVaScRiPt:alert(document.cookie)"), 400],
  ["javascript: leading spaces", create("   javascript:alert(1)"), 400],
  ["javascript: embedded tab", create("java\tscript:alert(1)"), 400],
  ["javascript: embedded newline", create("java\nscript:alert(1)"), 400],
  ["javascript: leading NUL", create("\u0000javascript:alert(1)"), 400],
  ["javascript: NUL inside the scheme", create("java\u0000script:alert(1)"), 400],
  ["javascript: entity-looking", create("javascript&colon;alert(1)"), 400],
  ["data:", create("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="), 400],
  ["file:", create("file:///etc/passwd"), 400],
  ["vbscript:", create("vbscript:msgbox(1)"), 400],
  ["intent:", create("intent://scan/#Intent;scheme=zxing;package=com.google.zxing;end"), 400],
  ["blob:", create("blob:https://example.com/uuid"), 400],
  ["ws:", create("ws://example.com/socket"), 400],
  // Credentials.
  ["user and password", create("https://user:pass@example.com/"), 400],
  ["user only", create("https://admin@example.com/"), 400],
  ["credentials hiding the host", create("https://example.com@evil.example/"), 400],
  // Loopback and private addresses in every spelling.
  ["127.0.0.1", create("http://127.0.0.1/"), 400],
  ["127.1 short form", create("http://127.1/"), 400],
  ["decimal loopback", create("http://2130706433/"), 400],
  ["hex loopback", create("http://0x7f000001/"), 400],
  ["dotted hex loopback", create("http://0x7f.0x0.0x0.0x1/"), 400],
  ["octal loopback", create("http://0177.0.0.01/"), 400],
  ["IPv6 loopback", create("http://[::1]/"), 400],
  ["IPv6 loopback, long form", create("http://[0000:0000:0000:0000:0000:0000:0000:0001]/"), 400],
  ["IPv4-mapped IPv6 loopback", create("http://[::ffff:127.0.0.1]/"), 400],
  ["IPv4-mapped IPv6 hex", create("http://[::ffff:7f00:1]/"), 400],
  ["IPv4-mapped private", create("http://[::ffff:192.168.0.1]/"), 400],
  ["10/8", create("http://10.20.30.40/"), 400],
  ["172.16/12", create("http://172.31.0.1/"), 400],
  ["192.168/16", create("http://192.168.0.1:8080/"), 400],
  ["link-local metadata", create("http://169.254.169.254/latest/meta-data/"), 400],
  ["unspecified", create("http://0.0.0.0/"), 400],
  ["zero short form", create("http://0/"), 400],
  ["IPv6 unspecified", create("http://[::]/"), 400],
  ["IPv6 link-local", create("http://[fe80::1]/"), 400],
  ["IPv6 unique local", create("http://[fd00::1]/"), 400],
  ["localhost", create("http://localhost:8787/"), 400],
  ["localhost, upper case, trailing dot", create("http://LOCALHOST./"), 400],
  ["*.localhost", create("http://app.localhost/"), 400],
  // The service's own host.
  ["own host", create("https://sho.rt/abc"), 400],
  ["own host, upper case", create("https://SHO.RT/abc"), 400],
  ["own host, trailing dot", create("https://sho.rt./abc"), 400],
  ["own host, explicit port", create("https://sho.rt:443/abc"), 400],
  ["own host, other port", create("http://sho.rt:8080/abc"), 400],
  // Scheme-less and protocol-relative.
  ["scheme-less", create("example.com/path"), 400],
  ["protocol-relative", create("//example.com/path"), 400],
  ["backslashes", create("\\\\example.com\\path"), 400],
  ["empty", create(""), 400],
  ["whitespace", create("   \t\n  "), 400],
  // Oversized.
  ["target over 2048 bytes", create(`https://example.com/${"a".repeat(2100)}`), 400],
  ["body over 8 KiB", raw(JSON.stringify({ target_url: `https://example.com/${"a".repeat(9000)}` })), 413],
  ["body of 64 KiB", raw("x".repeat(64 * 1024)), 413],
  ["9 KiB streamed without Content-Length", { ...raw(null), stream: 9 * 1024 }, 413],
  // Malformed JSON of every shape.
  ["empty body", raw(""), 422],
  ["truncated object", raw('{"target_url": "https://example.com"'), 422],
  ["missing value", raw('{"target_url": }'), 422],
  ["trailing comma", raw('{"target_url": "https://example.com",}'), 422],
  ["single quotes", raw("{'target_url': 'https://example.com'}"), 422],
  ["array", raw("[]"), 422],
  ["null", raw("null"), 422],
  ["number", raw("42"), 422],
  ["string", raw('"https://example.com"'), 422],
  ["target is a number", raw('{"target_url": 1}'), 422],
  ["target is an array", raw('{"target_url": ["https://example.com"]}'), 422],
  ["target is an object", raw('{"target_url": {"href": "https://example.com"}}'), 422],
  ["target is true", raw('{"target_url": true}'), 422],
  ["target is null", raw('{"url": null}'), 422],
  ["no target", raw('{"custom_key": "abc"}'), 422],
  ["unknown field", raw('{"target_url": "https://example.com", "owner": "me"}'), 422],
  ["deep nesting", raw(`${"[".repeat(3000)}${"]".repeat(3000)}`), 422],
  ["invalid UTF-8", raw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 422],
  ["byte order mark", raw('\ufeff{"target_url": "https://example.com"}'), 422],
  ["duplicate key smuggling javascript:", raw('{"target_url": "https://example.com", "target_url": "javascript:alert(1)"}'), 400],
  // Wrong content types.
  ["text/plain", raw('{"target_url": "https://example.com"}', { "content-type": "text/plain" }), 415],
  ["form-urlencoded", raw("target_url=https://example.com", { "content-type": "application/x-www-form-urlencoded" }), 415],
  ["multipart", raw("--x\r\n\r\n--x--", { "content-type": "multipart/form-data; boundary=x" }), 415],
  ["application/xml", raw("<url/>", { "content-type": "application/xml" }), 415],
  // Bad custom keys.
  ["custom key with slash", { ...create("https://example.com/"), body: JSON.stringify({ target_url: "https://example.com/", custom_key: "a/b" }) }, 400],
  ["custom key traversal", { ...create("https://example.com/"), body: JSON.stringify({ target_url: "https://example.com/", custom_key: "../etc" }) }, 400],
  ["custom key percent-encoded", { ...create("https://example.com/"), body: JSON.stringify({ target_url: "https://example.com/", custom_key: "%61bc" }) }, 400],
  ["custom key Unicode", { ...create("https://example.com/"), body: JSON.stringify({ target_url: "https://example.com/", custom_key: "ключ" }) }, 400],
  ["custom key reserved", { ...create("https://example.com/"), body: JSON.stringify({ target_url: "https://example.com/", custom_key: "Admin" }) }, 400],
  ["custom key overlong", { ...create("https://example.com/"), body: JSON.stringify({ target_url: "https://example.com/", custom_key: "k".repeat(65) }) }, 400],
  // Unicode and percent-encoded keys, traversal, overlong keys and secrets.
  ["percent-encoded key", { method: "GET", path: "/%61%62%63%64" }, 404],
  ["Cyrillic key", { method: "GET", path: "/ключ" }, 404],
  ["emoji key", { method: "GET", path: "/😀😀😀" }, 404],
  ["NUL in key", { method: "GET", path: "/abc%00def" }, 404],
  ["encoded slash", { method: "GET", path: "/abc%2Fdef" }, 404],
  ["dot segments", { method: "GET", path: "/%2e%2e/%2e%2e/etc/passwd" }, 404],
  ["traversal after a key", { method: "GET", path: "/{key}/../../etc" }, 404],
  ["65-character key", { method: "GET", path: `/${"a".repeat(65)}` }, 404],
  ["10,000-character key", { method: "GET", path: `/${"a".repeat(10000)}` }, 404],
  ["overlong secret", { method: "GET", path: `/admin/${"a".repeat(5000)}` }, 404],
  ["secret with symbols outside the alphabet", { method: "GET", path: secretShape("0".repeat(27)) }, 404],
  ["secret one symbol short", { method: "GET", path: secretShape("a".repeat(26)) }, 404],
  ["well-formed unknown secret", { method: "GET", path: secretShape("a".repeat(27)) }, 404],
  ["unknown secret stats", { method: "GET", path: `${secretShape("b".repeat(27))}/stats` }, 404],
  ["secret with traversal", { method: "GET", path: "/admin/{secret}/../../url" }, 405],
  ["bad stats window", { method: "GET", path: "/admin/{secret}/stats?days=1e9" }, 400],
  ["bad QR size", { method: "GET", path: "/{key}/qr?size=-1" }, 400],
  // Wrong methods on every route.
  ["GET /url", { method: "GET", path: "/url" }, 405],
  ["PUT /url", { method: "PUT", path: "/url" }, 405],
  ["DELETE /url", { method: "DELETE", path: "/url" }, 405],
  ["POST /", { method: "POST", path: "/" }, 405],
  ["DELETE /healthz", { method: "DELETE", path: "/healthz" }, 405],
  // Static files: Workers Static Assets refuses other methods itself, with no body.
  ["POST /openapi.json", { method: "POST", path: "/openapi.json", staticFile: true }, 405],
  ["PUT /docs", { method: "PUT", path: "/docs", staticFile: true }, 405],
  ["POST /{key}", { method: "POST", path: "/{key}" }, 405],
  ["PUT /{key}", { method: "PUT", path: "/{key}" }, 405],
  ["DELETE /{key}", { method: "DELETE", path: "/{key}" }, 405],
  ["PATCH /{key}+", { method: "PATCH", path: "/{key}+" }, 405],
  ["POST /{key}/qr", { method: "POST", path: "/{key}/qr" }, 405],
  // POST /admin/{secret} is the admin page's settings form without script; a body that names no form is a 400.
  ["POST /admin/{secret} without a form", { method: "POST", path: "/admin/{secret}" }, 400],
  ["PUT /admin/{secret}", { method: "PUT", path: "/admin/{secret}" }, 405],
  ["DELETE /admin/{secret}/stats", { method: "DELETE", path: "/admin/{secret}/stats" }, 405],
  ["PROPFIND /{key}", { method: "PROPFIND", path: "/{key}" }, 405],
  ["OPTIONS /url without CORS", { method: "OPTIONS", path: "/url" }, 405],
  // Hostile PATCH bodies on a real link.
  ["PATCH with javascript:", { method: "PATCH", path: "/admin/{secret}", headers: JSON_CT, body: '{"target_url": "JAVASCRIPT:alert(1)"}' }, 400],
  ["PATCH to a private address", { method: "PATCH", path: "/admin/{secret}", headers: JSON_CT, body: '{"target_url": "http://[::ffff:10.0.0.1]/"}' }, 400],
  ["PATCH with a huge max_clicks", { method: "PATCH", path: "/admin/{secret}", headers: JSON_CT, body: '{"max_clicks": 1e400}' }, 422],
  ["PATCH with a negative max_clicks", { method: "PATCH", path: "/admin/{secret}", headers: JSON_CT, body: '{"max_clicks": -9223372036854775808}' }, 400],
  ["PATCH with a year-10000 expiry", { method: "PATCH", path: "/admin/{secret}", headers: JSON_CT, body: '{"expires_at": "10000-01-01T00:00:00Z"}' }, 400],
  ["PATCH with an empty object", { method: "PATCH", path: "/admin/{secret}", headers: JSON_CT, body: "{}" }, 422],
  // Issue 24: a link that could never be live, the no-script form's mistyped number,
  // the operator API of an instance without ADMIN_TOKEN.
  ["valid_since after expires_at", { ...create("https://example.com/"), body: JSON.stringify({ target_url: "https://example.com/", valid_since: "2031-02-01T00:00:00Z", expires_at: "2031-01-01T00:00:00Z" }), detail: /must be earlier than expires_at/ }, 400],
  ["valid_since equal to expires_at", { ...create("https://example.com/"), body: JSON.stringify({ target_url: "https://example.com/", valid_since: "2031-01-01T00:00:00Z", expires_at: "2031-01-01T00:00:00Z" }) }, 400],
  ["PATCH to a window that closes before it opens", { method: "PATCH", path: "/admin/{secret}", headers: JSON_CT, body: '{"valid_since": "2031-02-01T00:00:00Z", "expires_at": "2031-01-01T00:00:00Z"}', detail: /could never be live/ }, 400],
  ["no-script form with a mistyped click limit", { method: "POST", path: "/admin/{secret}", headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" }, body: "form=limits&max_clicks=ten", page: /The click limit must be/ }, 400],
  ["operator API without ADMIN_TOKEN", { method: "GET", path: "/api/links", headers: { authorization: "Bearer anything" }, detail: /operator API is off.*ADMIN_TOKEN/, bare: true }, 404],
  ["operator API path that names nothing, without ADMIN_TOKEN", { method: "POST", path: "/api/nothing", detail: /ADMIN_TOKEN/, bare: true }, 404],
  // A gate that an earlier answer could skip (issue 24): a faked link preview at a
  // protected link with a card whose target is dead got the dead-link facts.
  ["link preview at a protected dead link with a card", { method: "GET", path: "/{locked}", headers: SLACKBOT, hides: "gone.example" }, 401],
  ["link preview with the password at a protected dead link with a card", { method: "GET", path: "/{locked}", headers: { ...SLACKBOT, "x-link-password": "hostile-pw" }, hides: "gone.example" }, 401],
];

test(`a table of ${TABLE.length} hostile requests gets documented 4xx answers and no 5xx`, async () => {
  assert.ok(TABLE.length >= 60);
  const link = await w.create({ target_url: "https://example.com/still-here" });
  // The isolate's memory: one miss of this link is remembered in it (for an hour), so
  // the next visit, its second miss, caches the rule in KV. A reset isolate would take
  // that visit for a first miss and cache nothing.
  const marker = await w.create({ target_url: "https://example.com/isolate-marker" });
  assert.equal((await w.fetch(`https://sho.rt/${marker.key}`)).status, 302);
  await w.settleClickWindow();
  assert.equal(await w.cached(marker.key), null, "one miss caches nothing");
  const locked = await w.create({ target_url: "https://gone.example/members", check: true, dead_link_mode: "interstitial", password: "hostile-pw", social_card: { title: "Members only" } });
  assert.equal(locked.health.state, "dead");
  const before = await w.counters();

  const failures = [];
  for (const [name, req, status] of TABLE) {
    const path = req.path.replace("{key}", link.key).replace("{secret}", link.secret_key).replace("{locked}", locked.key);
    let res;
    try {
      // A streamed body has no Content-Length: the worker must count what it reads.
      const body = req.stream
        ? new ReadableStream({
            start(c) {
              for (let i = 0; i < req.stream; i += 1024) c.enqueue(new TextEncoder().encode("x".repeat(1024)));
              c.close();
            },
          })
        : req.body;
      res = await (req.bare ? bare : w).fetch(`https://sho.rt${path}`, { method: req.method, headers: req.headers, body, ...(req.stream ? { duplex: "half" } : {}) });
    } catch (e) {
      failures.push(`${name}: the client could not send it: ${e.cause?.message ?? e.message}`);
      continue;
    }
    const text = await res.text();
    let detail;
    try {
      detail = JSON.parse(text).detail;
    } catch {
      detail = undefined;
    }
    // A page (the no-script form answers one) says why in its own words instead.
    const said = req.page ? req.page.test(text) : !req.staticFile && (typeof detail !== "string" || !detail) ? false : !req.detail || req.detail.test(detail);
    if (res.status !== status || !said) {
      failures.push(`${name}: ${req.method} ${path.slice(0, 60)} -> ${res.status} ${text.slice(0, 120)} (wanted ${status} with ${req.page ? `a page matching ${req.page}` : `a JSON detail${req.detail ? ` matching ${req.detail}` : ""}`})`);
    }
    if (req.hides && (text.includes(req.hides) || [...res.headers.values()].some((v) => v.includes(req.hides)))) {
      failures.push(`${name}: ${req.method} ${path.slice(0, 60)} -> ${res.status} names ${req.hides}`);
    }
    if (res.status >= 500) failures.push(`${name}: a ${res.status}`);
  }

  assert.deepEqual(failures, []);
  // Same isolate: a panic would have reset it, and its counters with it.
  const after = await w.counters();
  assert.ok(after.d1_statements >= before.d1_statements, JSON.stringify({ before, after }));
  // And it still remembers the marker's first miss: this second one caches the rule.
  assert.equal((await w.fetch(`https://sho.rt/${marker.key}`)).status, 302);
  await w.waitUntilCached(marker.key);
  const res = await w.fetch(`https://sho.rt/${link.key}`);
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "https://example.com/still-here");
  assert.equal((await w.row(link.key)).target_url, "https://example.com/still-here");
});
