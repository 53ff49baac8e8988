// `make bundle`: writes bundle/, the worker as built, which deploys with Node alone.
// Cloudflare's build image (Workers Builds) has no Rust and a 20-minute limit, so the
// Deploy to Cloudflare button points at this folder (the `deploy` branch), where there
// is nothing left to compile. Run after `make build`; takes the output directory.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");
const out = process.argv[2] ?? join(ROOT, "bundle");
const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");

/** The wrangler config without its [build] section (and that section's comment lines). */
function withoutBuild(text) {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.trim() === "[build]");
  if (start < 0) return text;
  let from = start;
  while (from > 0 && lines[from - 1].startsWith("#")) from--;
  let to = start + 1;
  while (to < lines.length && !/^\[/.test(lines[to])) to++;
  const kept = [...lines.slice(0, from), ...lines.slice(to)];
  return kept.join("\n");
}

const assets = toml.match(/^\[assets\]\n(?:[^[]*?\n)?directory\s*=\s*"([^"]+)"/m)?.[1];
const migrations = [...new Set([...toml.matchAll(/^migrations_dir\s*=\s*"([^"]+)"/gm)].map((m) => m[1]))];
const needed = ["build/index.js", "build/index_bg.wasm", join(assets, "_headers")];
for (const file of needed) {
  if (!existsSync(join(ROOT, file))) {
    console.error(`bundle: ${file} is missing: run make build first`);
    process.exit(1);
  }
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const copy = (from, to = from) => cpSync(join(ROOT, from), join(out, to), { recursive: true });
copy("build");
copy(assets);
for (const dir of migrations) copy(dir);
copy(".dev.vars.example");
for (const file of ["package.json", "package-lock.json", "deploy.mjs", "README.md"]) copy(join("deploy", file), file);
writeFileSync(
  join(out, "wrangler.toml"),
  "# Written by `make bundle` from the repository's wrangler.toml, without its [build]\n" +
    "# step: build/ holds the compiled worker.\n" +
    withoutBuild(toml),
);
writeFileSync(join(out, ".gitignore"), "/node_modules/\n/.wrangler/\n/.dev.vars\n");
console.log(`bundle: wrote ${out} (${migrations.length} migrations folders, assets from ${assets})`);
