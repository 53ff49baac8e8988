// The cost of recording clicks must follow the traffic, not a link's age: a flush reads
// the rows of its own batch, never every visit the link ever had (which would make a
// popular link slower, and its D1 reads dearer, with every click it gets).
// Each test starts its own worker (one per click-recording mode).
import { test } from "node:test";
import assert from "node:assert/strict";
import { workerPerTest } from "./harness.mjs";

const start = workerPerTest();
const HISTORY = 3000;
const VISITS = 200;

/** D1 rows read by click writes per redirect, over VISITS redirects to `key`. */
async function rowsReadPerClick(w, key) {
  const before = (await w.counters()).click_rows_read;
  const clicksBefore = await w.clicks(key);
  for (let i = 0; i < VISITS; i += 50) {
    const answers = await w.visitConcurrently(key, 50);
    assert.ok(answers.every((r) => r.status === 302));
  }
  assert.equal(await w.settleClicks(key, clicksBefore + VISITS), clicksBefore + VISITS);
  const after = (await w.counters()).click_rows_read;
  return (after - before) / VISITS;
}

for (const queue of [false, true]) {
  test(`a link with ${HISTORY} past visits costs no more D1 reads per click than a new one (${queue ? "queue" : "direct"} mode)`, async () => {
    const w = await start({ queue, vars: { BENCH_COUNTERS: "1" } });
    const fresh = await w.create({ target_url: "https://example.com/fresh" });
    const old = await w.create({ target_url: "https://example.com/old" });
    // The old link's history, written straight into D1.
    await w.db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${HISTORY})
         INSERT INTO visits (link_id, at, device, is_bot)
         SELECT (SELECT id FROM links WHERE key = ?1), ?2 - i, 'desktop', 0 FROM n`,
      )
      .bind(old.key, Date.now())
      .run();

    const perFresh = await rowsReadPerClick(w, fresh.key);
    const perOld = await rowsReadPerClick(w, old.key);

    assert.ok(perFresh > 0, "D1 reports rows read for click writes");
    assert.ok(perOld <= perFresh * 1.5 + 1, `rows read per click: ${perOld} for the old link, ${perFresh} for the new one`);
  });
}
