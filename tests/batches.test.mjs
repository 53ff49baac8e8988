// A batch answers per item and never fails for one row (issue 24): every conflict a
// row of an import or a bulk creation can meet is that row's answer, a dry run answers
// what the real import then does, and the audit record names every link a batch made
// by its domain and key.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { workerPerTest } from "./harness.mjs";

const ROOT = "root-token-for-batches";
const GO = "go.example.com";
const worker = workerPerTest();
const start = () => worker({ vars: { ADMIN_TOKEN: ROOT, BASE_URL: "https://sho.rt", DOMAINS: JSON.stringify({ [GO]: {} }) } });

/** A link `key` renamed to `key`-now: `key` stays its alias and still leads to it. */
async function renamed(w, key) {
  const made = await w.create({ target_url: `https://${key}.example/`, custom_key: key });
  const res = await w.operator(`/api/links/${key}`, { method: "PATCH", json: { key: `${key}-now` } });
  assert.equal(res.status, 200, await res.clone().text());
  return made;
}

describe("import", () => {
  for (const mode of ["skip", "update"]) {
    test(`every conflict is an item's answer, and the dry run says what the real import does (on_conflict=${mode})`, async () => {
      const w = await start();
      await w.create({ target_url: "https://taken.example/", custom_key: "taken" });
      await renamed(w, "former");
      const item = (key, target_url = `https://${key}.example/imported`) => ({ key, target_url });
      // [item, outcome, status]
      const table = [
        [item("fresh-one"), "created", undefined],
        [item("taken"), mode === "update" ? "updated" : "exists", mode === "update" ? undefined : 409],
        [item("former"), "rejected", 409],
        [item("admin"), "rejected", 400],
        [item("scheme", "javascript:alert(1)"), "rejected", 400],
        [item("private", "http://10.0.0.1/"), "rejected", 400],
        [item("Fresh-One"), "rejected", 422],
        [item("fresh-two"), "created", undefined],
      ];
      const items = table.map(([i]) => i);
      const path = `/api/links/import?on_conflict=${mode}`;

      const dry = await w.operator(`${path}&dry_run=true`, { method: "POST", json: items });
      const real = await w.operator(path, { method: "POST", json: items });
      const again = await w.operator(`${path}&dry_run=true`, { method: "POST", json: items });

      assert.equal(dry.status, 200, await dry.clone().text());
      assert.equal(real.status, 200, await real.clone().text());
      const [dryAnswer, realAnswer, againAnswer] = [await dry.json(), await real.json(), await again.json()];
      const outcomes = (answer) => answer.results.map((r) => [r.outcome, r.status]);
      assert.deepEqual(outcomes(realAnswer), table.map(([, outcome, status]) => [outcome, status]));
      assert.deepEqual(outcomes(dryAnswer), outcomes(realAnswer), "the dry run agrees with the real import");
      assert.match(realAnswer.results[2].detail, /former key of another link/);
      assert.deepEqual(
        [realAnswer.created, realAnswer.updated, realAnswer.exists, realAnswer.rejected],
        [2, mode === "update" ? 1 : 0, mode === "update" ? 0 : 1, 5],
      );
      // Sent again, the written rows are now taken: the dry run says so.
      assert.deepEqual(againAnswer.results.map((r) => r.outcome).filter((o) => o === "created"), []);
      // The valid rows were written; the alias still leads to the renamed link.
      assert.equal((await w.row("fresh-one")).target_url, "https://fresh-one.example/imported");
      assert.equal((await w.row("fresh-two")).target_url, "https://fresh-two.example/imported");
      assert.equal((await w.visit("former")).headers.get("location"), "https://former.example/");
      assert.equal((await w.row("taken")).target_url, mode === "update" ? "https://taken.example/imported" : "https://taken.example/");
    });
  }

  test("a batch of nothing but conflicts writes nothing and still answers 200 item by item", async () => {
    const w = await start();
    await renamed(w, "gone-by");
    const res = await w.operator("/api/links/import", { method: "POST", json: [{ key: "gone-by", target_url: "https://x.example/" }] });
    assert.equal(res.status, 200);
    const answer = await res.json();
    assert.deepEqual([answer.rejected, answer.results[0].status], [1, 409]);
  });
});

describe("bulk creation", () => {
  test("every conflict a row can meet is that row's answer; the others are made", async () => {
    const w = await start();
    await w.create({ target_url: "https://taken.example/", custom_key: "taken" });
    await renamed(w, "former");
    const target = "https://bulk.example/";
    // [body, status]
    const table = [
      [{ target_url: target, custom_key: "bulk-fresh" }, 201],
      [{ target_url: target, custom_key: "taken" }, 409],
      [{ target_url: target, custom_key: "former" }, 409],
      [{ target_url: target, custom_key: "admin" }, 400],
      [{ target_url: "javascript:alert(1)" }, 400],
      [{ target_url: "http://192.168.1.1/" }, 400],
      [{ target_url: target, valid_since: "2031-02-01T00:00:00Z", expires_at: "2031-01-01T00:00:00Z" }, 400],
      [{ target_url: target, domain: "nope.example" }, 400],
      [{ target_url: target, reuse: true }, 400],
      [{ target_url: target, owner: "me" }, 422],
      [{ target_url: target }, 201],
    ];
    const res = await w.operator("/api/links/bulk", { method: "POST", json: table.map(([body]) => body) });

    assert.equal(res.status, 200);
    const results = (await res.json()).results;
    assert.deepEqual(results.map((r) => r.status), table.map(([, status]) => status));
    for (const r of results) if (r.status !== 201) assert.ok(typeof r.detail === "string" && r.detail, JSON.stringify(r));
    assert.equal((await w.visit("bulk-fresh")).headers.get("location"), target);
    assert.equal((await w.visit("former")).headers.get("location"), "https://former.example/");
    assert.equal((await w.visit("taken")).headers.get("location"), "https://taken.example/");
  });
});

describe("the audit record of a batch", () => {
  test("names every link it made by domain and key, with counts", async () => {
    const w = await start();
    const bulk = await w.operator("/api/links/bulk", {
      method: "POST",
      json: [
        { target_url: "https://a.example/", custom_key: "same" },
        { target_url: "https://b.example/", custom_key: "same", domain: GO },
        { target_url: "javascript:alert(1)" },
      ],
    });
    assert.equal(bulk.status, 200);
    const imported = await w.operator(`/api/links/import?domain=${GO}&on_conflict=update`, {
      method: "POST",
      json: [{ key: "same", target_url: "https://c.example/" }, { key: "other", target_url: "https://d.example/" }, { key: "x", target_url: "https://e.example/" }],
    });
    assert.equal(imported.status, 200);

    const entries = (await (await w.operator("/api/audit")).json()).entries;
    const created = entries.find((e) => e.action === "links.create");
    const imports = entries.find((e) => e.action === "links.import");
    assert.deepEqual(created.detail, { created: ["same", `${GO}/same`], refused: 1 });
    assert.deepEqual(created.domains.sort(), ["sho.rt", GO].sort());
    assert.deepEqual(imports.detail, {
      created: 1,
      updated: 1,
      exists: 0,
      rejected: 1,
      on_conflict: "update",
      domain: GO,
      links: { created: [`${GO}/other`], updated: [`${GO}/same`] },
    });
    assert.deepEqual(imports.domains, [GO]);
  });
});
