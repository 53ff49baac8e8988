// The cost of recording clicks must follow the traffic, not a link's age: a flush reads
// the rows of its own batch and today's aggregate rows, never a link's whole history
// (which would make a popular link slower, and its D1 reads dearer, with every click).
// Each test starts its own worker (one per click-recording mode).
import { test } from "node:test";
import assert from "node:assert/strict";
import { onOneUtcDate, workerPerTest } from "./harness.mjs";

const start = workerPerTest();
/** Days of history, each with a full set of kept values per dimension. */
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
  test(`a link with ${HISTORY} past visits costs no more D1 reads per click than a new one (${queue ? "queue" : "direct"} mode)`, () =>
    onOneUtcDate(async () => {
      const w = await start({ queue, vars: { BENCH_COUNTERS: "1" } });
      const fresh = await w.create({ target_url: "https://example.com/fresh" });
      const old = await w.create({ target_url: "https://example.com/old" });
      // The old link's history, written straight into its aggregates: a row per day,
      // each with nine referrers, for the HISTORY days before today.
      const today = Math.floor(Date.now() / 86_400_000);
      const dims = JSON.stringify(Object.fromEntries(Array.from({ length: 9 }, (_, j) => [`r:site${j}.example`, 1])));
      await w.analytics[0]
        .prepare(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${HISTORY})
           INSERT INTO daily (link_key, day, clicks, bots, dims) SELECT ?1, ?2 - i, 9, 0, ?3 FROM n`,
        )
        .bind(old.key, today, dims)
        .run();

      const perFresh = await rowsReadPerClick(w, fresh.key);
      const perOld = await rowsReadPerClick(w, old.key);

      assert.ok(perFresh > 0, "D1 reports rows read for click writes");
      assert.ok(perOld <= perFresh * 1.5 + 1, `rows read per click: ${perOld} for the old link, ${perFresh} for the new one`);
    }));
}
