// A limited key is limited everywhere (issue 24): every operator route, asked by every
// role, with a key that reaches every domain and with one limited to GO, about an
// object on another domain (ORG). Each cell is what the client sees: the status, why a
// 403 was given (the role or the domain), and for listings whether anything of ORG (or
// of every domain, such as an unlimited key or an instance-wide record) showed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { workerPerTest } from "./harness.mjs";

const ROOT = "root-token-for-limits";
const GO = "go.example.com";
const ORG = "links.example.org";
const DOMAINS = JSON.stringify({ [GO]: {}, [ORG]: {} });
const worker = workerPerTest();

const ROLES = ["admin", "creator", "reader", "stats"];

/** A status as the table writes it: a 403 says whether the role or the domain refused. */
async function cell(res, extra = "") {
  const text = await res.text();
  let status = String(res.status);
  if (res.status === 403) status += /domain/.test(JSON.parse(text).detail) ? " domain" : " role";
  return { status: status + extra, text };
}

/** Whether a listing shows anything of ORG, or of every domain (`null` domains). */
const reachesOrg = (domains) => domains === null || domains === undefined || domains.includes(ORG);

test("every operator route, every role, limited or not: a limited key never touches another domain's links, keys or records", async () => {
  const w = await worker({ vars: { ADMIN_TOKEN: ROOT, BASE_URL: "https://sho.rt", DOMAINS, HEALTH_CHECK_MIN_INTERVAL_SECONDS: "0" } });
  const asRoot = (path, init) => w.operator(path, init);
  const newKey = async (fields) => {
    const res = await asRoot("/api/keys", { method: "POST", json: fields });
    assert.equal(res.status, 201, await res.clone().text());
    return res.json();
  };
  // The objects: a link on each domain (made by root, tagged by its domain) and the
  // records of root's changes to both.
  const make = async (domain, key) => {
    const res = await asRoot("/api/links/bulk", { method: "POST", json: [{ target_url: `https://${key}.example/`, custom_key: key, domain, tags: [key] }] });
    const made = (await res.json()).results[0];
    assert.equal(made.status, 201, JSON.stringify(made));
  };
  await make(GO, "go-link");
  await make(ORG, "org-link");
  for (const domain of [GO, ORG]) {
    const key = domain === GO ? "go-link" : "org-link";
    assert.equal((await asRoot(`/api/links/${key}?domain=${domain}`, { method: "PATCH", json: { title: "seen by root" } })).status, 200);
  }
  const actors = {};
  for (const role of ROLES) {
    actors[`${role}`] = await newKey({ name: `${role} everywhere`, role });
    actors[`${role} limited`] = await newKey({ name: `${role} on go`, role, domains: [GO] });
  }

  // Each route as a request about ORG (or, marked "in reach", about GO), and how its
  // answer is written in the table.
  const routes = {
    list: async (token) => {
      const { status, text } = await cell(await w.operator("/api/links", { token }));
      return status === "200" ? status + (JSON.parse(text).links.some((l) => l.domain === ORG) ? " +org" : "") : status;
    },
    show: async (token) => (await cell(await w.operator(`/api/links/org-link?domain=${ORG}`, { token }))).status,
    "show in reach": async (token) => (await cell(await w.operator(`/api/links/go-link?domain=${GO}`, { token }))).status,
    patch: async (token) => (await cell(await w.operator(`/api/links/org-link?domain=${ORG}`, { method: "PATCH", json: { note: "changed" }, token }))).status,
    delete: async (token) => (await cell(await w.operator(`/api/links/org-link?domain=${ORG}`, { method: "DELETE", token }))).status,
    stats: async (token) => (await cell(await w.operator(`/api/links/org-link/stats?domain=${ORG}`, { token }))).status,
    check: async (token) => (await cell(await w.operator(`/api/links/org-link/check?domain=${ORG}`, { method: "POST", token }))).status,
    bulk: async (token) => {
      const { status, text } = await cell(await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: "https://bulk.example/", domain: ORG }], token }));
      return status === "200" ? `200 item ${JSON.parse(text).results[0].status}` : status;
    },
    export: async (token) => {
      const { status, text } = await cell(await w.operator("/api/links/export", { token }));
      if (status !== "200") return status;
      const lines = text.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(lines.at(-1).export, "complete");
      return status + (lines.some((l) => l.domain === ORG) ? " +org" : "");
    },
    import: async (token) => {
      const key = `imp-${Math.random().toString(36).slice(2, 8)}`;
      const { status, text } = await cell(await w.operator(`/api/links/import?domain=${ORG}`, { method: "POST", json: [{ key, target_url: "https://imported.example/" }], token }));
      return status === "200" ? `200 ${JSON.parse(text).results[0].outcome}` : status;
    },
    tags: async (token) => {
      const { status, text } = await cell(await w.operator("/api/tags", { token }));
      return status === "200" ? status + (JSON.parse(text).tags.some((t) => t.tag === "org-link") ? " +org" : "") : status;
    },
    domains: async (token) => {
      const { status, text } = await cell(await w.operator("/api/domains", { token }));
      return status === "200" ? status + (JSON.parse(text).domains.some((d) => d.name === ORG) ? " +org" : "") : status;
    },
    keys: async (token) => {
      const { status, text } = await cell(await w.operator("/api/keys", { token }));
      return status === "200" ? status + (JSON.parse(text).keys.some((k) => reachesOrg(k.domains)) ? " +org" : "") : status;
    },
    // A fresh unlimited admin key per cell: the one a limited admin must not reach.
    "key show": async (token) => {
      const victim = await newKey({ name: "victim", role: "admin" });
      return (await cell(await w.operator(`/api/keys/${victim.id}`, { token }))).status;
    },
    "key revoke": async (token) => {
      const victim = await newKey({ name: "victim", role: "admin" });
      const { status } = await cell(await w.operator(`/api/keys/${victim.id}`, { method: "DELETE", token }));
      // Revoked only when the answer said so: otherwise the victim still opens the API.
      const after = (await w.operator("/api/domains", { token: victim.token })).status;
      assert.equal(after, status === "200" ? 401 : 200, `victim after ${status}`);
      return status;
    },
    "key revoke in reach": async (token) => {
      const victim = await newKey({ name: "go victim", role: "reader", domains: [GO] });
      return (await cell(await w.operator(`/api/keys/${victim.id}`, { method: "DELETE", token }))).status;
    },
    "key create": async (token) => (await cell(await w.operator("/api/keys", { method: "POST", json: { name: "made", role: "reader", domains: [ORG] }, token }))).status,
    audit: async (token) => {
      const { status, text } = await cell(await w.operator("/api/audit?limit=500", { token }));
      if (status !== "200") return status;
      const entries = JSON.parse(text).entries;
      // What a limited admin reads is not nothing: root's change on GO is there.
      const sawGo = entries.some((e) => e.action === "link.update" && e.target === `${GO}/go-link`);
      return status + (entries.some((e) => reachesOrg(e.domains)) ? " +org" : "") + (sawGo ? "" : " (no go record)");
    },
    "audit export": async (token) => {
      const { status, text } = await cell(await w.operator("/api/audit/export", { token }));
      if (status !== "200") return status;
      const lines = text.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(lines.at(-1).export, "complete");
      return status + (lines.slice(0, -1).some((e) => reachesOrg(e.domains)) ? " +org" : "");
    },
  };

  const R = "403 role";
  const D = "403 domain";
  // One row per actor, in the order of `routes`.
  const expected = {
    admin: ["200 +org", "200", "200", "200", "200", "200", "200", "200 item 201", "200 +org", "200 created", "200 +org", "200 +org", "200 +org", "200", "200", "200", "201", "200 +org", "200 +org"],
    "admin limited": ["200", D, "200", D, D, D, D, "200 item 403", "200", D, "200", "200", "200", "404", "404", "200", "400", "200", "200"],
    creator: ["200", "404", "404", "404", "404", "404", "404", "200 item 201", R, R, R, "200 +org", R, R, R, R, R, R, R],
    "creator limited": ["200", D, "404", D, D, D, D, "200 item 403", R, R, R, "200", R, R, R, R, R, R, R],
    reader: ["200 +org", "200", "200", R, R, "200", R, R, "200 +org", R, "200 +org", "200 +org", R, R, R, R, R, R, R],
    "reader limited": ["200", D, "200", R, R, D, R, R, "200", R, "200", "200", R, R, R, R, R, R, R],
    stats: [R, R, R, R, R, "200", R, R, R, R, R, R, R, R, R, R, R, R, R],
    "stats limited": [R, R, R, R, R, D, R, R, R, R, R, R, R, R, R, R, R, R, R],
  };
  const got = {};
  // Unlimited admin last: its delete deactivates ORG's link (still found afterwards).
  for (const name of ["stats", "stats limited", "reader", "reader limited", "creator", "creator limited", "admin limited", "admin"]) {
    got[name] = [];
    for (const route of Object.values(routes)) got[name].push(await route(actors[name].token));
  }
  const table = (rows) => Object.fromEntries(Object.entries(rows).map(([name, cells]) => [name, Object.fromEntries(Object.keys(routes).map((r, i) => [r, cells[i]]))]));
  assert.deepEqual(table(got), table(expected));
  assert.equal(Object.keys(routes).length * Object.keys(actors).length, 152);
});
