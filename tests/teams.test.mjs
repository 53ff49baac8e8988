// Teams: named API keys with roles, their expiry and revocation, and the audit log of
// operator writes, all through the operator API as a team would use it.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor, workerPerTest } from "./harness.mjs";

const ROOT = "root-token-for-teams";
const worker = workerPerTest();
const start = () => worker({ vars: { ADMIN_TOKEN: ROOT } });

/** Creates a key as root; returns its answer (with the token). */
async function makeKey(w, fields) {
  const res = await w.operator("/api/keys", { method: "POST", json: fields });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

describe("API keys", () => {
  test("a key is shown once, listed without its token, and stored only as a hash", async () => {
    const w = await start();

    const key = await makeKey(w, { name: "CI deploys", role: "creator", expires_at: "2099-01-01T00:00:00Z" });
    const list = await (await w.operator("/api/keys")).json();
    const one = await (await w.operator(`/api/keys/${key.id}`)).json();
    const row = await w.db.prepare("SELECT * FROM api_keys WHERE id = ?1").bind(key.id).first();

    assert.match(key.token, /^sk_[2-9a-z]{12}_[2-9a-z]{32}$/);
    assert.match(key.id, /^key_[2-9a-z]{12}$/);
    assert.deepEqual(
      { name: key.name, role: key.role, state: key.state, created_by: key.created_by, expires_at: key.expires_at, last_used_at: key.last_used_at },
      { name: "CI deploys", role: "creator", state: "active", created_by: "root", expires_at: "2099-01-01T00:00:00Z", last_used_at: null },
    );
    assert.equal(list.keys.length, 1);
    assert.equal(list.keys[0].id, key.id);
    assert.equal("token" in list.keys[0], false);
    assert.equal("token" in one, false);
    assert.ok(!JSON.stringify(row).includes(key.token.slice(17)), "the token's secret part is not stored");
    assert.match(row.token_hash, /^[0-9a-f]{64}$/);
  });

  test("bad key requests get clear errors, and only admins manage keys", async () => {
    const w = await start();
    const reader = await makeKey(w, { name: "dash", role: "reader" });

    const cases = [
      [{ name: "x", role: "owner" }, 400, /role must be admin, creator, reader or stats/],
      [{ role: "admin" }, 422, /name must be a string/],
      [{ name: "x", role: "admin", expires_at: "2001-01-01T00:00:00Z" }, 400, /future/],
      [{ name: "x", role: "admin", scopes: ["*"] }, 422, /unknown field 'scopes'/],
    ];
    for (const [json, status, detail] of cases) {
      const res = await w.operator("/api/keys", { method: "POST", json });
      assert.equal(res.status, status, JSON.stringify(json));
      assert.match((await res.json()).detail, detail);
    }
    const byReader = await w.operator("/api/keys", { method: "POST", json: { name: "y", role: "admin" }, token: reader.token });
    assert.equal(byReader.status, 403);
    assert.match((await byReader.json()).detail, /role \(reader\)/);
  });

  test("a revoked key is refused at once, and an expired one from its expiry", async () => {
    const w = await start();
    const key = await makeKey(w, { name: "temp", role: "reader" });
    const soon = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
    const short = await makeKey(w, { name: "short", role: "reader", expires_at: soon.toISOString() });

    const before = await w.operator("/api/links", { token: key.token });
    const revoked = await w.operator(`/api/keys/${key.id}`, { method: "DELETE" });
    const after = await w.operator("/api/links", { token: key.token });
    const shortBefore = await w.operator("/api/links", { token: short.token });
    // A sleep on purpose: the key must outlive its expiry, which is a wall-clock time.
    await sleep(Math.max(0, soon.getTime() - Date.now()) + 300);
    const shortAfter = await w.operator("/api/links", { token: short.token });
    const states = Object.fromEntries((await (await w.operator("/api/keys")).json()).keys.map((k) => [k.name, k.state]));

    assert.equal(before.status, 200);
    assert.equal(revoked.status, 200);
    assert.equal((await revoked.json()).state, "revoked");
    assert.equal(after.status, 401);
    assert.equal(shortBefore.status, 200);
    assert.equal(shortAfter.status, 401);
    assert.deepEqual(states, { temp: "revoked", short: "expired" });
    assert.equal((await w.operator("/api/keys/key_23456789abcd", { method: "DELETE" })).status, 404);
  });

  test("last use is recorded", async () => {
    const w = await start();
    const key = await makeKey(w, { name: "used", role: "stats" });

    const refused = await w.operator("/api/keys", { token: key.token }); // 403, but the key was used
    // Recorded after the response.
    const seen = await waitFor(async () => (await (await w.operator(`/api/keys/${key.id}`)).json()).last_used_at, {
      message: "last_used_at",
    });

    assert.equal(refused.status, 403);
    assert.match(seen, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });
});

describe("roles", () => {
  // Each operation as a request, and the statuses each role gets: 2xx where allowed,
  // 403 where the role refuses it; `own` marks creator access limited to its links.
  test("each role against each operation", async () => {
    const w = await start();
    const keys = {};
    for (const role of ["admin", "creator", "reader", "stats"]) keys[role] = (await makeKey(w, { name: role, role })).token;
    const rootLink = (await (await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/root" }] })).json()).results[0].link;

    const ops = {
      list: () => ["/api/links", {}],
      show: () => [`/api/links/${rootLink.key}`, {}],
      create: () => ["/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/by-role" }] }],
      patch: () => [`/api/links/${rootLink.key}`, { method: "PATCH", json: { forward_query: false } }],
      delete: () => [`/api/links/${rootLink.key}`, { method: "DELETE" }],
      export: () => ["/api/links/export", {}],
      keys: () => ["/api/keys", {}],
      audit: () => ["/api/audit", {}],
      stats: () => [`/api/links/${rootLink.key}/stats`, {}],
      tags: () => ["/api/tags", {}],
      import: () => ["/api/links/import", { method: "POST", json: [{ key: `imp-${Math.random().toString(36).slice(2, 8)}`, target_url: "https://example.com/imp" }] }],
    };
    // creator: another's link is answered as missing; its own list is empty of others'.
    const expected = {
      admin: { list: 200, show: 200, create: 200, patch: 200, delete: 200, export: 200, keys: 200, audit: 200, stats: 200, tags: 200, import: 200 },
      creator: { list: 200, show: 404, create: 200, patch: 404, delete: 404, export: 403, keys: 403, audit: 403, stats: 404, tags: 403, import: 403 },
      reader: { list: 200, show: 200, create: 403, patch: 403, delete: 403, export: 200, keys: 403, audit: 403, stats: 200, tags: 200, import: 403 },
      stats: { list: 403, show: 403, create: 403, patch: 403, delete: 403, export: 403, keys: 403, audit: 403, stats: 200, tags: 403, import: 403 },
    };
    const got = {};
    // Admin last: its delete deactivates the shared link.
    for (const role of ["stats", "reader", "creator", "admin"]) {
      got[role] = {};
      for (const [op, request] of Object.entries(ops)) {
        const [path, init] = request();
        const res = await w.operator(path, { ...init, token: keys[role] });
        await res.arrayBuffer();
        got[role][op] = res.status;
      }
    }
    assert.deepEqual(got, expected);
    // Every role may ask who it is; a token says it is the ADMIN_TOKEN, a key its id.
    for (const role of ["stats", "reader", "creator", "admin"]) {
      const me = await (await w.operator("/api/me", { token: keys[role] })).json();
      assert.deepEqual([me.kind, me.role, me.email, me.domains], ["api_key", role, null, null]);
      assert.match(me.id, /^key_[2-9a-z]{12}$/);
    }
    assert.deepEqual(await (await w.operator("/api/me")).json(), { id: "root", kind: "admin_token", email: null, role: "admin", domains: null });
    assert.equal((await w.operator("/api/me", { token: "wrong" })).status, 401);
    assert.equal((await w.operator("/api/links", { token: "sk_23456789abcd_23456789abcdefghjkmnpqrstuvwxyz234" })).status, 401);
    assert.equal((await w.operator("/api/links", { token: "wrong" })).status, 401);
  });

  test("a creator sees and changes only the links it created", async () => {
    const w = await start();
    const alice = (await makeKey(w, { name: "alice", role: "creator" })).token;
    const bob = (await makeKey(w, { name: "bob", role: "creator" })).token;
    const create = async (token, target) =>
      (await (await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: target }], token })).json()).results[0].link;
    const a = await create(alice, "https://example.com/alice");
    const b = await create(bob, "https://example.com/bob");

    const aliceList = (await (await w.operator("/api/links", { token: alice })).json()).links.map((l) => l.key);
    const rootList = (await (await w.operator("/api/links")).json()).links.map((l) => l.key).sort();
    const own = await w.operator(`/api/links/${a.key}`, { method: "PATCH", json: { target_url: "https://example.com/alice2" }, token: alice });
    const other = await w.operator(`/api/links/${b.key}`, { method: "PATCH", json: { target_url: "https://example.com/stolen" }, token: alice });
    const otherDelete = await w.operator(`/api/links/${b.key}`, { method: "DELETE", token: alice });

    assert.deepEqual(aliceList, [a.key]);
    assert.deepEqual(rootList, [a.key, b.key].sort());
    assert.equal(own.status, 200);
    assert.equal((await own.json()).target_url, "https://example.com/alice2");
    assert.equal(other.status, 404);
    assert.equal(otherDelete.status, 404);
    assert.equal((await w.visit(b.key)).headers.get("location"), "https://example.com/bob");
  });
});

describe("audit log", () => {
  test("every operator write is recorded with who made it, never with a secret", async () => {
    const w = await start();
    const key = await makeKey(w, { name: "bot", role: "creator" });
    const made = (await (await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/a1" }], token: key.token })).json()).results[0].link;
    await w.operator(`/api/links/${made.key}`, { method: "PATCH", json: { target_url: "https://example.com/a2", password: "hunter2 secret" }, token: key.token });
    await w.operator(`/api/links/${made.key}`, { method: "DELETE" });
    await w.operator(`/api/keys/${key.id}`, { method: "DELETE" });
    // An owner's change through the secret is not an operator write.
    await w.patch(made, { forward_query: false });

    const page = await (await w.operator("/api/audit")).json();
    const actions = page.entries.map((e) => [e.actor === "root" ? "root" : "key", e.action, e.target]);
    const byKey = await (await w.operator(`/api/audit?actor=${key.id}`)).json();
    const exported = (await (await w.operator("/api/audit/export")).text()).trim().split("\n").map((l) => JSON.parse(l));
    const all = JSON.stringify(page);

    assert.deepEqual(actions, [
      ["root", "key.revoke", key.id],
      ["root", "link.deactivate", made.key],
      ["key", "link.update", made.key],
      ["key", "links.create", null],
      ["root", "key.create", key.id],
    ]);
    assert.deepEqual(page.entries[3].detail, { created: [made.key], refused: 0 });
    assert.deepEqual(page.entries[2].detail, { target_url: "https://example.com/a2", password: "(set)" });
    assert.ok(!all.includes("hunter2"), "a link password is never in the log");
    assert.equal(byKey.entries.length, 2);
    assert.ok(!all.includes(key.token) && !all.includes(made.secret_key), "no token or secret in the log");
    assert.deepEqual(exported.at(-1), { export: "complete", entries: 5 });
    assert.deepEqual(exported.slice(0, -1).map((e) => e.action), ["key.create", "links.create", "link.update", "link.deactivate", "key.revoke"]);
  });

  test("the log pages newest first with a cursor", async () => {
    const w = await start();
    for (let i = 0; i < 5; i++) await makeKey(w, { name: `k${i}`, role: "stats" });

    const first = await (await w.operator("/api/audit?limit=2")).json();
    const second = await (await w.operator(`/api/audit?limit=2&cursor=${first.next_cursor}`)).json();
    const third = await (await w.operator(`/api/audit?limit=2&cursor=${second.next_cursor}`)).json();
    const bad = await w.operator("/api/audit?cursor=abc");

    assert.deepEqual([...first.entries, ...second.entries, ...third.entries].map((e) => e.detail.name), ["k4", "k3", "k2", "k1", "k0"]);
    assert.equal(third.next_cursor, null);
    assert.equal(bad.status, 400);
  });
});
