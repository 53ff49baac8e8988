// `make bench-guards`: bytes a queue-mode batch guard costs in SQLite, the figure
// docs/scaling.md uses for the guards of queue mode (which bench/clicks.mjs, in direct
// mode, never writes). Creates the guard table from its own migration in a file database
// (node:sqlite, the SQLite Node ships), inserts 100,000 guards of the shape the worker
// writes (`src/clicks/batch.rs` `batch_id`: 12 hex digits of time, then 16 random
// characters; a 16-character write id, `src/clicks/writer.rs` `ID_LEN`), and divides the
// file's growth by the rows. Writes bench/guards.md.
import { DatabaseSync } from "node:sqlite";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { revision } from "./provenance.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const ROWS = 100_000;
const ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
const random = (n) => Array.from(randomBytes(n), (b) => ALPHABET[b % ALPHABET.length]).join("");

// The table as the migration makes it (the links database's copy; the analytics
// databases' `applied_batches` has the same two columns).
const migration = readFileSync(join(ROOT, "migrations", "0004_click_batches.sql"), "utf8");
const create = migration.match(/CREATE TABLE click_batches \([^;]*;/)?.[0];
if (!create) throw new Error("CREATE TABLE click_batches not found in migrations/0004_click_batches.sql");

const dir = mkdtempSync(join(tmpdir(), "guards-"));
try {
  const db = new DatabaseSync(join(dir, "guards.sqlite"));
  db.exec(create);
  const size = () => {
    const { page_count } = db.prepare("PRAGMA page_count").get();
    const { page_size } = db.prepare("PRAGMA page_size").get();
    return page_count * page_size;
  };
  const before = size();
  const insert = db.prepare("INSERT INTO click_batches (id, write_id) VALUES (?, ?)");
  const start = Date.parse("2026-12-01T00:00:00Z");
  db.exec("BEGIN");
  // One batch every 3 ms of sending time, in order, as a busy queue sends them.
  for (let i = 0; i < ROWS; i++) insert.run(`${(start + 3 * i).toString(16).padStart(12, "0")}${random(16)}`, random(16));
  db.exec("COMMIT");
  const perRow = (size() - before) / ROWS;
  db.close();
  const text = `# Batch guards: bytes per guard row

Written by \`make bench-guards\` (\`node bench/guards.mjs\`) at commit ${revision(["bench/guards.md"])} on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, SQLite ${process.versions.sqlite ?? "(version unknown)"}.

${ROWS.toLocaleString("en-US")} guards of the worker's shape in \`click_batches\` (migrations/0004_click_batches.sql), inserted in id order: **${perRow.toFixed(1)} bytes per guard** (file growth / rows, pages included). Used by docs/scaling.md for queue mode's guards.
`;
  writeFileSync(join(ROOT, "bench", "guards.md"), text);
  console.log(text);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
