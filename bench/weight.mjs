// The weight of each page people open: the bytes of its HTML and of the scripts and
// stylesheets it names (same origin), as the built worker and its static assets serve
// them under Miniflare (tests/harness.mjs), raw and gzip-compressed. Writes
// bench/weight.md (or prints with --print). Run after `make build`:
//   node bench/weight.mjs [label]
import { execSync } from "node:child_process";
import { writeFileSync, readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { startWorker } from "../tests/harness.mjs";

const label = process.argv[2] || "";
const commit = execSync("git rev-parse --short HEAD").toString().trim();
const dirty = execSync("git status --porcelain -- src site").toString().trim() ? "+uncommitted" : "";
const w = await startWorker({ vars: { ADMIN_TOKEN: "weight-token" } });
try {
  const made = await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/weight", custom_key: "weight-page" }] });
  const created = (await made.json()).results?.[0];
  const secret = created?.secret_key ?? created?.link?.secret_key;
  const pages = [
    ["Home", "/"],
    ["Dashboard", "/dashboard"],
    ["Admin page", secret ? `/admin/${secret}` : null],
    ["API reference", "/docs"],
    ["API console", "/docs/try"],
  ];
  const rows = [];
  for (const [name, path] of pages) {
    if (!path) continue;
    const html = await (await w.fetch(path, { headers: { accept: "text/html" } })).text();
    const refs = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="stylesheet"[^>]*\shref)="(\/[^"]+)"/g)].map((m) => m[1]);
    let raw = Buffer.byteLength(html);
    let gz = gzipSync(html).length;
    const parts = [`HTML ${raw}`];
    for (const ref of refs) {
      const body = Buffer.from(await (await w.fetch(ref)).arrayBuffer());
      raw += body.length;
      gz += gzipSync(body).length;
      parts.push(`${ref.split("/").pop()} ${body.length}`);
    }
    rows.push({ name, path: path.startsWith("/admin/") ? "/admin/{secret_key}" : path, raw, gz, parts: parts.join(", ") });
  }
  const table = [
    `### ${commit}${dirty}${label ? ` (${label})` : ""}`,
    "",
    "| Page | Bytes (HTML+JS+CSS) | gzip | Parts (bytes) |",
    "|---|---:|---:|---|",
    ...rows.map((r) => `| ${r.name} \`${r.path}\` | ${r.raw.toLocaleString("en")} | ${r.gz.toLocaleString("en")} | ${r.parts} |`),
    "",
  ].join("\n");
  if (process.argv.includes("--print")) console.log(table);
  else {
    const file = new URL("./weight.md", import.meta.url).pathname;
    const head = "# Page weight\n\nWritten by `node bench/weight.mjs [label]` after `make build`: each page's HTML and the same-origin scripts and stylesheets it names, as Miniflare serves the built worker and assets (raw bytes, and gzip level 6 as a proxy for the wire). Newest run last.\n\n";
    const old = existsSync(file) ? readFileSync(file, "utf8").replace(head, "") : "";
    writeFileSync(file, head + old + table + "\n");
    console.log(table);
  }
} finally {
  await w.dispose();
}
