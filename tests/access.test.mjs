// Sign-in with Cloudflare Access: a person whom Access let through carries a signed JWT
// in `Cf-Access-Jwt-Assertion`, and the worker maps their email or group to a role from
// ACCESS_ROLES. The team's key set is served here through Miniflare's outboundService,
// and every token is signed with RSA keys this file generates (node:crypto), so the
// worker's RS256 check runs for real. Covers each mapped role through the API and the
// dashboard, an unmapped person, a wrong audience, an expired token, a bad signature,
// a key rotation, API keys beside Access, and the audit log naming the person.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { workerPerTest, refuseOutbound } from "./harness.mjs";
// In CI a missing Chromium fails this file instead of skipping its browser part.
import { CHROMIUM, skip as noBrowser } from "./browser.mjs";

const TEAM = "team.cloudflareaccess.com";
const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const CERTS = `https://${TEAM}/cdn-cgi/access/certs`;
const ADMIN_TOKEN = "access-test-admin-token";
const ROLES = {
  "ops@example.com": "admin",
  "Rita@Example.com": "reader",
  "sam@example.com": "stats",
  "group:marketing": { role: "creator", domains: ["go.example.com"] },
};
const DOMAINS = JSON.stringify({ "go.example.com": {} });
const NOW = () => Math.floor(Date.now() / 1000);

/** An RSA key pair as Access has them: a key id, the public JWK, the private key. */
function keyPair(kid) {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, privateKey, jwk: { kid, kty: "RSA", alg: "RS256", use: "sig", ...publicKey.export({ format: "jwk" }) } };
}

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** A token as Access signs it, with `claims` over the defaults; `key` signs it. */
function jwt(key, claims = {}, { kid = key.kid, alg = "RS256" } = {}) {
  const now = NOW();
  const body = {
    aud: [AUD], iss: `https://${TEAM}`, iat: now, nbf: now, exp: now + 3600,
    type: "app", identity_nonce: "n", sub: "7335d417-61da-459d-899c-0a01c76a2d1e", country: "NL",
    ...claims,
  };
  const signed = `${b64({ alg, kid, typ: "JWT" })}.${b64(body)}`;
  return `${signed}.${sign("sha256", Buffer.from(signed), key.privateKey).toString("base64url")}`;
}

/** The team's key endpoint: serves `keys`, counts the fetches. */
function team(keys) {
  const endpoint = {
    keys,
    fetches: 0,
    outbound(request) {
      if (request.url !== CERTS) return refuseOutbound(request);
      endpoint.fetches++;
      return Response.json({ keys: endpoint.keys.map((k) => k.jwk), public_cert: { kid: endpoint.keys[0].kid, cert: "(unused)" } });
    },
  };
  return endpoint;
}

const start = workerPerTest();
async function startWith(endpoint, vars = {}) {
  return start({
    outbound: (req) => endpoint.outbound(req),
    vars: { ADMIN_TOKEN, ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_ROLES: JSON.stringify(ROLES), DOMAINS, ...vars },
  });
}

/** An operator call carrying only an Access token, as Access forwards a browser's request. */
function asPerson(w, token, path, { method = "GET", json } = {}) {
  const headers = { "cf-access-jwt-assertion": token, accept: "application/json" };
  if (json === undefined) return w.fetch(path, { method, headers });
  return w.fetch(path, { method, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(json) });
}

describe("a person signed in through Access", () => {
  let w;
  let key;
  let endpoint;
  before(async () => {
    key = keyPair("key-2026-a");
    endpoint = team([key]);
    w = await startWith(endpoint);
  });

  test("gets the role ACCESS_ROLES maps their email or group to, through the API", async () => {
    const people = {
      admin: jwt(key, { email: "ops@example.com" }),
      reader: jwt(key, { email: "rita@example.com" }),
      stats: jwt(key, { email: "sam@example.com" }),
      creator: jwt(key, { email: "ann@example.com", groups: ["marketing"] }),
    };
    const calls = {
      list: ["/api/links"],
      create: ["/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/access-a", domain: "go.example.com" }] }],
      keys: ["/api/keys"],
      tags: ["/api/tags"],
      audit: ["/api/audit"],
    };
    const expected = {
      admin: { list: 200, create: 200, keys: 200, tags: 200, audit: 200 },
      creator: { list: 200, create: 200, keys: 403, tags: 403, audit: 403 },
      reader: { list: 200, create: 403, keys: 403, tags: 200, audit: 403 },
      stats: { list: 403, create: 403, keys: 403, tags: 403, audit: 403 },
    };
    const seen = {};
    for (const [role, token] of Object.entries(people)) {
      seen[role] = {};
      for (const [name, [path, init]] of Object.entries(calls)) {
        seen[role][name] = (await asPerson(w, token, path, init)).status;
      }
    }
    assert.deepEqual(seen, expected);
  });

  test("GET /api/me names the person, their role and their domains", async () => {
    const creator = await asPerson(w, jwt(key, { email: "ann@example.com", groups: ["marketing"] }), "/api/me");
    assert.equal(creator.status, 200);
    assert.deepEqual(await creator.json(), { id: "ann@example.com", kind: "person", email: "ann@example.com", role: "creator", domains: ["go.example.com"] });
    // The stats role, which can list nothing, may still ask who it is.
    const stats = await (await asPerson(w, jwt(key, { email: "sam@example.com" }), "/api/me")).json();
    assert.deepEqual([stats.kind, stats.email, stats.role, stats.domains], ["person", "sam@example.com", "stats", null]);
    assert.equal((await asPerson(w, jwt(key, { email: "nobody@example.com" }), "/api/me")).status, 403);
  });

  test("limited to its group's domains, a creator is refused on the others in words", async () => {
    const token = jwt(key, { email: "ann@example.com", groups: ["marketing"] });
    const res = await asPerson(w, token, "/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/access-b", domain: "default" }] });
    const refused = (await res.json()).results[0];
    assert.equal(refused.status, 403);
    assert.match(refused.detail, /not allowed on the domain/);
  });

  test("is named in the audit log, and a creator sees the links they made", async () => {
    const ann = jwt(key, { email: "Ann@Example.com", groups: ["marketing"] });
    const made = await (await asPerson(w, ann, "/api/links/bulk", { method: "POST", json: [{ custom_key: "by-ann", target_url: "https://example.com/by-ann", domain: "go.example.com" }] })).json();
    assert.equal(made.results[0].link.key, "by-ann");
    const audit = await (await w.operator("/api/audit?actor=ann@example.com")).json();
    assert.equal(audit.entries[0].actor, "ann@example.com");
    assert.equal(audit.entries[0].action, "links.create");
    const own = await (await asPerson(w, ann, "/api/links?domain=go.example.com")).json();
    assert.ok(own.links.some((l) => l.key === "by-ann"));
    assert.ok(own.links.every((l) => l.created_by === undefined || l.created_by === "ann@example.com"));
  });

  test("the dashboard's calls work with the Access token alone, as the page makes them", async () => {
    // /dashboard is a public page; its script calls these without a key behind Access.
    const page = await w.fetch("/dashboard", { headers: { accept: "text/html", "cf-access-jwt-assertion": jwt(key, { email: "ops@example.com" }) } });
    assert.equal(page.status, 200);
    const reader = jwt(key, { email: "rita@example.com" });
    const probes = {};
    for (const path of ["/api/links?limit=1", "/api/keys", "/api/tags", "/api/domains"]) probes[path] = (await asPerson(w, reader, path)).status;
    assert.deepEqual(probes, { "/api/links?limit=1": 200, "/api/keys": 403, "/api/tags": 200, "/api/domains": 200 });
  });

  test("an unmapped person is refused with their email and why", async () => {
    const res = await asPerson(w, jwt(key, { email: "eve@example.com", groups: ["visitors"] }), "/api/links");
    assert.equal(res.status, 403);
    assert.match((await res.json()).detail, /eve@example\.com.*ACCESS_ROLES gives this person no role/);
  });

  test("a token that fails a check is refused in words (401), never accepted", async () => {
    const stranger = keyPair(key.kid); // the same key id, another key: a forged signature
    const now = NOW();
    const cases = {
      "wrong audience": [jwt(key, { email: "ops@example.com", aud: ["another-app"] }), /another application/],
      "another team": [jwt(key, { email: "ops@example.com", iss: "https://evil.cloudflareaccess.com" }), /another team/],
      expired: [jwt(key, { email: "ops@example.com", iat: now - 7200, nbf: now - 7200, exp: now - 3600 }), /expired/],
      "not valid yet": [jwt(key, { email: "ops@example.com", nbf: now + 3600 }), /not valid yet/],
      "bad signature": [jwt(stranger, { email: "ops@example.com" }), /signature does not verify/],
      "tampered claims": [(() => { const [h, , s] = jwt(key, { email: "sam@example.com" }).split("."); return `${h}.${b64({ aud: [AUD], iss: `https://${TEAM}`, exp: now + 60, email: "ops@example.com" })}.${s}`; })(), /signature does not verify/],
      "alg none": [`${b64({ alg: "none", kid: key.kid })}.${b64({ aud: [AUD], iss: `https://${TEAM}`, exp: now + 60, email: "ops@example.com" })}.`, /only RS256/],
      malformed: ["not-a-jwt", /malformed/],
      "a service token (no email)": [jwt(key, { common_name: "ci.access" }), /names no person/],
    };
    for (const [name, [token, words]] of Object.entries(cases)) {
      const res = await asPerson(w, token, "/api/links");
      const body = await res.json();
      assert.equal(res.status, 401, name);
      assert.match(body.detail, /^Cloudflare Access sign-in refused: /, name);
      assert.match(body.detail, words, name);
    }
  });

  test("API keys keep working beside Access, and a key in the request wins", async () => {
    assert.equal((await w.operator("/api/keys")).status, 200);
    const both = await w.fetch("/api/keys", { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "cf-access-jwt-assertion": jwt(key, { email: "sam@example.com" }) } });
    assert.equal(both.status, 200, "the admin token decides, not the stats person's token");
    assert.equal((await w.operator("/api/keys", { token: "wrong" })).status, 401);
  });
});

test("a key rotation at the team's endpoint: a new key id is fetched once, an unknown one is not fetched again", async () => {
  const first = keyPair("key-1");
  const endpoint = team([first]);
  const w = await startWith(endpoint);
  assert.equal((await asPerson(w, jwt(first, { email: "ops@example.com" }), "/api/links")).status, 200);
  assert.equal((await asPerson(w, jwt(first, { email: "ops@example.com" }), "/api/links")).status, 200);
  assert.equal(endpoint.fetches, 1, "the key set is cached");

  // Access rotates: the new key signs, the previous one stays published.
  const second = keyPair("key-2");
  endpoint.keys = [second, first];
  assert.equal((await asPerson(w, jwt(second, { email: "ops@example.com" }), "/api/links")).status, 200);
  assert.equal(endpoint.fetches, 2, "an unknown key id fetches the set again");
  assert.equal((await asPerson(w, jwt(first, { email: "ops@example.com" }), "/api/links")).status, 200, "the previous key still verifies");

  const made_up = keyPair("key-never-published");
  for (let i = 0; i < 3; i++) {
    const res = await asPerson(w, jwt(made_up, { email: "ops@example.com" }), "/api/links");
    assert.equal(res.status, 401);
    assert.match((await res.json()).detail, /key the team does not publish/);
  }
  assert.equal(endpoint.fetches, 3, "one fetch for the made-up key id, then it is remembered");
});

test("keys that cannot be fetched refuse the sign-in in words; Access off ignores the header", async () => {
  const key = keyPair("k");
  const down = { outbound: () => new Response("bad gateway", { status: 502 }) };
  const w = await startWith(down);
  const res = await asPerson(w, jwt(key, { email: "ops@example.com" }), "/api/links");
  assert.equal(res.status, 401);
  assert.match((await res.json()).detail, /signing keys could not be fetched/);

  const off = await start({ vars: { ADMIN_TOKEN } });
  assert.equal((await asPerson(off, jwt(key, { email: "ops@example.com" }), "/api/links")).status, 401, "no Access settings: the token is not a key");
  const misconfigured = await start({ vars: { ADMIN_TOKEN, ACCESS_TEAM_DOMAIN: TEAM } });
  const said = await asPerson(misconfigured, jwt(key, { email: "ops@example.com" }), "/api/links");
  assert.equal(said.status, 401);
  assert.match((await said.json()).detail, /ACCESS_AUD/);
});

// The dashboard in Chromium, with the header Access would add to each request.
describe("the dashboard behind Access, in a browser", { skip: noBrowser }, () => {
  let browser;
  let w;
  let key;
  before(async () => {
    const { chromium } = await import("playwright-core");
    key = keyPair("dash");
    const endpoint = team([key]);
    w = await start({
      host: "127.0.0.1",
      port: 0,
      outbound: (req) => endpoint.outbound(req),
      vars: { ADMIN_TOKEN, ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_ROLES: JSON.stringify(ROLES), DOMAINS },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  });
  after(() => browser?.close());

  for (const [email, role, sees] of [
    ["ops@example.com", "admin", "#keys"],
    ["rita@example.com", "reader", "#transfer"],
    ["ann@example.com", "creator", "#bulk"],
  ]) {
    test(`signs ${email} in as ${role} without a key`, async () => {
      const claims = role === "creator" ? { email, groups: ["marketing"] } : { email };
      const context = await browser.newContext({ extraHTTPHeaders: { "cf-access-jwt-assertion": jwt(key, claims) } });
      try {
        const page = await context.newPage();
        await page.goto(`${String(w.url).replace(/\/$/, "")}/dashboard`);
        await page.waitForSelector("#board:not([hidden])", { timeout: 15000 });
        assert.match(await page.textContent("#whoami"), new RegExp(`Signed in through Cloudflare Access as ${email.replace(/[.]/g, "\\.")}, an? ${role}`));
        assert.equal(await page.isVisible(sees), true, `${role} sees ${sees}`);
        assert.equal(await page.isVisible("#signin"), false);
      } finally {
        await context.close();
      }
    });
  }

  test("an unmapped person sees why, and the key form", async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { "cf-access-jwt-assertion": jwt(key, { email: "eve@example.com" }) } });
    try {
      const page = await context.newPage();
      await page.goto(`${String(w.url).replace(/\/$/, "")}/dashboard`);
      await page.waitForSelector("#token-error:not([hidden])", { timeout: 15000 });
      assert.match(await page.textContent("#token-error"), /eve@example\.com.*no role/);
      assert.equal(await page.isVisible("#signin"), true);
    } finally {
      await context.close();
    }
  });
});
