// The deployable bundle, as an operator without Rust meets it: `make bundle`, then, in a
// copy of bundle/ with no cargo, rustc or rustup on PATH (and none of the repository's
// own node_modules), `npm ci`, `npx wrangler deploy --dry-run`, and `npx wrangler dev`
// serving a link that is created, redirected and counted. Also what the Deploy to
// Cloudflare button reads (secrets, binding descriptions, the deploy script), and the
// deploy script's refusal of placeholder ids. Nothing leaves 127.0.0.1 but npm ci's
// registry requests, which the npm cache usually answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "./harness.mjs";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BUNDLE = join(ROOT, "bundle");
const RUST_TOOLS = ["cargo", "rustc", "rustup"];

/** PATH without the Rust toolchain and without anything of this repository. */
function pathWithoutRust() {
  return process.env.PATH.split(":")
    .filter((dir) => dir && !dir.startsWith(ROOT) && !RUST_TOOLS.some((tool) => existsSync(join(dir, tool))))
    .join(":");
}

function run(cmd, args, { cwd, env = process.env, timeout = 300_000 } = {}) {
  const started = Date.now();
  const res = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout });
  const output = `${res.stdout}\n${res.stderr}`;
  assert.equal(res.status, 0, `${cmd} ${args.join(" ")} failed (${res.status}, ${res.error ?? ""}):\n${output.slice(-3000)}`);
  return { output, seconds: (Date.now() - started) / 1000 };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Stops a process group started with `detached`, politely, then not. */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const gone = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!gone) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

test("make bundle writes a folder with no build step, wrangler as its only dependency, and what the button reads", () => {
  run("make", ["--no-print-directory", "bundle"], { cwd: ROOT, timeout: 900_000 });
  const toml = readFileSync(join(BUNDLE, "wrangler.toml"), "utf8");
  assert.doesNotMatch(toml, /^\[build\]/m, "no [build] step: nothing to compile");
  assert.doesNotMatch(toml, /make build/);
  for (const file of ["build/index.js", "build/index_bg.wasm", "dist/assets/_headers", "deploy.mjs", "package-lock.json", ".dev.vars.example"]) {
    assert.ok(existsSync(join(BUNDLE, file)), file);
  }
  for (const dir of [...toml.matchAll(/^migrations_dir\s*=\s*"([^"]+)"/gm)].map((m) => m[1])) {
    assert.deepEqual(readdirSync(join(BUNDLE, dir)), readdirSync(join(ROOT, dir)), `${dir} copied whole`);
  }

  const pkg = JSON.parse(readFileSync(join(BUNDLE, "package.json"), "utf8"));
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), ["node", "wrangler"], "wrangler, and Node 22 for older systems");
  assert.equal(pkg.devDependencies, undefined);
  assert.equal(pkg.dependencies.wrangler, JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies.wrangler, "the repository's pinned wrangler");
  assert.match(pkg.scripts.deploy, /deploy\.mjs/);
  // Every binding of the config has a description for the button's form.
  const bindings = [...toml.matchAll(/^(?:binding|name)\s*=\s*"([A-Z_0-9]+)"/gm)].map((m) => m[1]);
  assert.deepEqual(bindings.sort(), Object.keys(pkg.cloudflare.bindings).sort());
  for (const [name, { description }] of Object.entries(pkg.cloudflare.bindings)) assert.ok(description.length > 20, name);

  // Every secret the worker reads is listed, each with a line saying what it is for.
  const sources = spawnSync("grep", ["-rhoE", 'secret\\("[A-Z_]+"\\)', join(ROOT, "src")], { encoding: "utf8" }).stdout;
  const read = [...new Set([...sources.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]))].sort();
  const example = readFileSync(join(BUNDLE, ".dev.vars.example"), "utf8").split("\n");
  const listed = example.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split("=")[0]);
  assert.deepEqual([...listed].sort(), read);
  for (const name of listed) {
    const line = example.indexOf(`${name}=`);
    assert.match(example[line - 1], /^# \S.{20,}/, `${name} has a line on what it is for`);
  }
});

test("the deploy script refuses placeholder ids in words, and the config has none", () => {
  const dir = mkdtempSync(join(tmpdir(), "shortener-placeholder-"));
  try {
    const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
    const check = (text) => {
      writeFileSync(join(dir, "wrangler.toml"), text);
      return spawnSync(process.execPath, [join(ROOT, "deploy/deploy.mjs"), "--check", "--config", join(dir, "wrangler.toml")], { encoding: "utf8" });
    };
    const clean = check(toml);
    assert.equal(clean.status, 0, clean.stderr);
    const zeros = toml.replace(/^binding = "DB"$/m, 'binding = "DB"\ndatabase_id = "00000000-0000-0000-0000-000000000000"');
    const refused = check(zeros);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /placeholder ids \(database_id = "00000000-0000-0000-0000-000000000000"\)/);
    assert.match(refused.stderr, /Delete\s+those lines/);
    const kv = check(toml.replace(/^binding = "LINKS"$/m, 'binding = "LINKS"\nid = "00000000000000000000000000000000"'));
    assert.equal(kv.status, 1);
    const real = check(toml.replace(/^binding = "DB"$/m, 'binding = "DB"\ndatabase_id = "2c4f1b8e-9a57-4f0e-b1d3-7c2a6e9f8d10"'));
    assert.equal(real.status, 0, "a real id is the operator's choice");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without Rust: npm ci, wrangler deploy --dry-run, and wrangler dev serves, redirects and counts a link", { timeout: 900_000 }, async (t) => {
  assert.ok(existsSync(join(BUNDLE, "wrangler.toml")), "the first test wrote bundle/");
  const dir = mkdtempSync(join(tmpdir(), "shortener-bundle-"));
  let dev;
  try {
    cpSync(BUNDLE, dir, { recursive: true });
    const env = { ...process.env, PATH: pathWithoutRust(), WRANGLER_SEND_METRICS: "false", NO_UPDATE_NOTIFIER: "1", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
    for (const name of Object.keys(env)) if (/^(npm_|CARGO|RUSTUP)/i.test(name)) delete env[name];
    const which = spawnSync("sh", ["-c", `command -v ${RUST_TOOLS.join(" ")}`], { env, encoding: "utf8" });
    assert.equal(which.stdout.trim(), "", "no Rust tool on this PATH");

    const ci = run("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir, env, timeout: 600_000 });
    t.diagnostic(`npm ci in the bundle: ${ci.seconds.toFixed(1)} s`);

    const dry = run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", join(dir, ".dry-run")], { cwd: dir, env });
    assert.match(dry.output, /--dry-run: exiting now/);
    assert.match(dry.output, /env\.DB/);

    run("npm", ["run", "migrate:local"], { cwd: dir, env });

    const port = await freePort();
    dev = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port)], { cwd: dir, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    dev.stdout.on("data", (d) => (log += d));
    dev.stderr.on("data", (d) => (log += d));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => {
      if (dev.exitCode !== null) throw new Error(`wrangler dev exited (${dev.exitCode}):\n${log.slice(-2000)}`);
      return fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    }, { timeout: 120_000, interval: 500, message: "wrangler dev to answer /healthz" });

    const made = await fetch(`${base}/url`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ target_url: "https://example.com/from-the-bundle", custom_key: "bundled" }) });
    assert.equal(made.status, 201, await made.clone().text());
    const link = await made.json();
    const visit = await fetch(`${base}/bundled`, { redirect: "manual" });
    assert.equal(visit.status, 302);
    assert.equal(visit.headers.get("location"), "https://example.com/from-the-bundle");
    const admin = link.admin_url.replace(/^https?:\/\/[^/]+/, base);
    const counted = await waitFor(async () => {
      const shown = await (await fetch(admin, { headers: { accept: "application/json" } })).json();
      return shown.clicks === 1 && shown;
    }, { timeout: 60_000, interval: 500, message: "the click to be counted" });
    assert.equal(counted.clicks, 1);
  } finally {
    if (dev) await stop(dev);
    rmSync(dir, { recursive: true, force: true });
  }
});
