// Every gate is decided before every answer that can name a target (issue 24, class 1).
// A table of link states (healthy or dead in each dead-link mode, with or without a
// social card and a fallback URL) × gates (password, validity window, click limit, the
// link's domain, the operator's blocklist) × client kinds (browser, API client, link
// preview, crawler, mail scanner), each cell asked through every door that can answer
// with a target: GET and HEAD of the short link, its peek and its QR code. No answer
// may name the target (in its body or any header) unless every gate passed; and where
// every gate passed, a visit does name it, so the detector itself is tested.
//
// Targets that are dead were found so by a real check at creation: the worker's
// outbound fetches go to `outbound` below, nothing leaves 127.0.0.1.
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, waitFor, workerForFile } from "./harness.mjs";

const GO = "go.example.com";
const DOMAINS = JSON.stringify({ [GO]: { not_found: "https://example.com/go-missing", inactive: "https://example.com/go-inactive" } });

/** The outside world: `live.example` answers, `dead.example` is gone. */
function outbound(request) {
  const host = new URL(request.url).hostname;
  if (host === "live.example") return new Response(request.method === "HEAD" ? null : "ok");
  if (host === "dead.example") return new Response("not found", { status: 404 });
  throw new Error(`outbound fetch refused by the test: ${request.url}`);
}

const PASSWORD = "open sesame";
/** How long an expiring link of the table lives: less than the time the table takes to make. */
const LIFETIME_MS = 3000;
const DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";

/** Client kinds: the headers each sends, and whether it is a preview (never passes a password). */
const CLIENTS = {
  browser: { headers: { "user-agent": DESKTOP, accept: "text/html,application/xhtml+xml" } },
  "API client": { headers: { "user-agent": "curl/8.5.0" } },
  "link preview": { headers: { "user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" }, prefetch: true },
  crawler: { headers: { "user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" } },
  "mail scanner": { headers: { "user-agent": "Mozilla/5.0 (compatible; Mimecast/1.0)" }, prefetch: true },
};

/** Link states: the target's health and the link's own dead-link mode, a card, a fallback. */
const STATES = [];
for (const health of ["healthy", "dead, interstitial", "dead, gone"]) {
  for (const card of [false, true]) {
    for (const fallback of [false, true]) {
      STATES.push({ health, card, fallback, name: `${health}${card ? ", with a card" : ""}${fallback ? ", with a fallback" : ""}` });
    }
  }
}

/**
 * Gates: what each adds to a new link, and what it does after creation (`then`). `open`
 * says whether every gate passes for a client kind. `status` is the GET's answer when
 * closed, by link state and client (undefined: not checked beyond the target rule).
 */
const GATES = {
  "no gate": { fields: {}, open: () => true },
  "password, none given": {
    fields: { password: PASSWORD },
    protected: true,
    open: () => false,
    // A preview of a healthy link with a card gets the card; every other answer is the gate.
    status: (s, c) => (c.preview && s.card && s.health === "healthy" ? 200 : 401),
  },
  "password, given": {
    fields: { password: PASSWORD },
    protected: true,
    send: { "x-link-password": PASSWORD },
    // Previews and mail scanners never pass a password, even the right one.
    open: (client) => !client.prefetch,
    status: (s, c) => (c.preview && s.card && s.health === "healthy" ? 200 : 401),
  },
  "not valid yet": { fields: { valid_since: "2099-01-01T00:00:00Z" }, open: () => false, status: () => 404 },
  expired: {
    // Its lifetime runs out while the others are made; the walk waits for it.
    fields: () => ({ expires_at: new Date(Date.now() + LIFETIME_MS).toISOString() }),
    open: () => false,
    status: (s) => (s.fallback ? 302 : 410),
  },
  "out of clicks": {
    fields: { max_clicks: 1 },
    // Cached as live first (a HEAD spends nothing), then its last click is spent
    // elsewhere: only the counters know.
    then: async (w, link) => {
      await w.visit(link.key, { method: "HEAD" });
      await w.waitUntilCached(link.key);
      await w.db.prepare("UPDATE links SET clicks = max_clicks WHERE key = ?1").bind(link.key).run();
    },
    open: () => false,
    status: (s) => (s.fallback ? 302 : 410),
  },
  "on another domain": { fields: {}, host: GO, open: () => false, status: () => 404 },
};

/** The fields of a new link in `state` behind `gate`; `n` makes its target unique. */
function fieldsOf(state, gate, n) {
  const host = state.health === "healthy" ? "live.example" : "dead.example";
  return {
    target_url: `https://${host}/secret-${n}`,
    check: true,
    ...(state.health === "healthy" ? {} : { dead_link_mode: state.health.split(", ")[1] }),
    ...(state.card ? { social_card: { title: "What the owner shows" } } : {}),
    ...(state.fallback ? { fallback_url: `https://example.com/fallback-${n}` } : {}),
    ...(typeof gate.fields === "function" ? gate.fields() : gate.fields),
  };
}

/** Creates a link on `host` and returns the 201 body. */
async function createOn(w, host, fields) {
  const res = await w.fetch(`http://${host}/url`, { method: "POST", body: JSON.stringify(fields), headers: { "content-type": "application/json" } });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Every door that can answer with a target, as `client` asks it (on localhost). */
const DOORS = {
  GET: (w, key, headers) => w.fetch(`http://localhost/${key}`, { headers }),
  HEAD: (w, key, headers) => w.fetch(`http://localhost/${key}`, { method: "HEAD", headers }),
  peek: (w, key, headers) => w.fetch(`http://localhost/${key}+`, { headers }),
  QR: (w, key, headers) => w.fetch(`http://localhost/${key}/qr`, { headers }),
};

/** Whether an answer names `secret` (the target's unique path) in its body or any header. */
async function names(res, secret) {
  const headers = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join("\n");
  return headers.includes(secret) || (await res.text()).includes(secret);
}

/**
 * Asks every door of every link as every client, and returns what went wrong: an answer
 * naming the target with a gate closed, a visit not naming it with every gate open, or
 * a closed gate's wrong status.
 */
async function walk(w, links) {
  const failures = [];
  let cells = 0;
  for (const { state, gateName, gate, link, secret } of links) {
    for (const [clientName, client] of Object.entries(CLIENTS)) {
      const headers = { ...client.headers, ...(gate.send ?? {}) };
      const open = gate.open(client);
      for (const [doorName, door] of Object.entries(DOORS)) {
        cells += 1;
        const res = await door(w, link.key, headers);
        const where = `${state.name} × ${gateName} × ${clientName} × ${doorName} -> ${res.status}`;
        const named = await names(res, secret);
        if (named && !open) failures.push(`${where}: names the target with a gate closed`);
        if (res.status >= 500) failures.push(`${where}: a ${res.status}`);
        const preview = clientName === "link preview";
        // Every gate open: a visit forwards (or shows the dead-link facts), except a
        // preview of a carded link, which gets the card; a peek shows the target of a
        // link without a password.
        const shouldName =
          (doorName === "GET" && !(preview && state.card && state.health === "healthy")) ||
          (doorName === "peek" && !gate.protected);
        if (open && shouldName && !named) failures.push(`${where}: every gate open, yet the target is not named`);
        if (!open && doorName === "GET" && gate.status) {
          const wanted = gate.status(state, { preview });
          if (res.status !== wanted) failures.push(`${where}: wanted ${wanted}`);
        }
      }
    }
  }
  return { failures, cells };
}

describe("every gate before every answer that can name a target", () => {
  test("the reported case: a link preview at a protected link with a card whose target is dead gets the password gate", async () => {
    const w = await workerForFile({ outbound });
    const failures = [];
    for (const mode of ["interstitial", "gone"]) {
      const link = await w.create({ target_url: `https://dead.example/reported-${mode}`, check: true, dead_link_mode: mode, password: PASSWORD, social_card: { title: "Members only" } });
      assert.equal(link.health.state, "dead");
      for (const accept of [{}, { accept: "text/html" }]) {
        const res = await w.visit(link.key, { userAgent: CLIENTS["link preview"].headers["user-agent"], headers: accept });
        const text = await res.text();
        if (res.status !== 401 || text.includes("dead.example")) failures.push(`${mode} ${JSON.stringify(accept)}: ${res.status} ${text.slice(0, 160)}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  test(`a table of ${STATES.length} link states × ${Object.keys(GATES).length} gates × ${Object.keys(CLIENTS).length} client kinds × ${Object.keys(DOORS).length} doors names a target only when every gate passed`, async () => {
    const w = await workerForFile({ outbound, vars: { DOMAINS } });
    const links = [];
    let n = 0;
    for (const state of STATES) {
      for (const [gateName, gate] of Object.entries(GATES)) {
        n += 1;
        const link = await createOn(w, gate.host ?? "localhost", fieldsOf(state, gate, n));
        const dead = state.health !== "healthy";
        assert.equal(link.health.state, dead ? "dead" : "healthy", `${state.name} × ${gateName}`);
        links.push({ state, gateName, gate, link, secret: `/secret-${n}` });
      }
    }
    for (const { gate, link } of links) if (gate.then) await gate.then(w, link);
    const lastExpiry = Math.max(...links.map(({ link }) => (link.expires_at ? Date.parse(link.expires_at) : 0)));
    await waitFor(() => Date.now() > lastExpiry, { timeout: LIFETIME_MS + 1000, message: "the expiring links to expire" });

    const { failures, cells } = await walk(w, links);

    assert.equal(cells, STATES.length * Object.keys(GATES).length * Object.keys(CLIENTS).length * Object.keys(DOORS).length);
    assert.deepEqual(failures, []);
  });

  test("a host the operator blocks after the links were made: no door names their targets, for any client", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gates-d1-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const before = await startWorker({ outbound, d1Persist: dir });
    const links = [];
    let n = 1000;
    for (const state of STATES) {
      n += 1;
      const gate = { fields: {}, open: () => false, status: () => 410 };
      links.push({ state, gateName: "blocked host", gate, link: await before.create(fieldsOf(state, gate, n)), secret: `/secret-${n}` });
    }
    await before.dispose();
    const w = await startWorker({ outbound, d1Persist: dir, migrate: false, vars: { BLOCKED_HOSTS: "live.example,dead.example" } });
    after(() => w.dispose());

    const { failures, cells } = await walk(w, links);

    assert.equal(cells, STATES.length * Object.keys(CLIENTS).length * Object.keys(DOORS).length);
    assert.deepEqual(failures, []);
  });
});
