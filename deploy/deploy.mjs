#!/usr/bin/env node
// The deploy, in one command: `npm run deploy` in the bundle, `make deploy` in the
// repository. Needs only Node and wrangler (no Rust: the worker is already built).
//
// 1. Refuses a config that still holds a placeholder id (all zeros): such an id turns
//    off wrangler's automatic provisioning and fails only at the real deploy.
// 2. Applies the D1 migrations, by binding name, to every database that exists already
//    (an upgrade: the new schema is in place before the new code runs).
// 3. `wrangler deploy`, which creates the databases and the KV namespace declared
//    without an id (wrangler 4.45+), then applies the migrations of the databases it
//    just created (a first deploy: nothing is served from them yet).
// 4. Sets the secrets the worker has not got: ADMIN_TOKEN, COOKIE_SECRET and
//    WEBHOOK_SECRET, from the environment when the operator exports them, else strong
//    random values. Generated values are written only to a file in the operator's home
//    directory (mode 600), never into the repository or the bundle, and that file's
//    path is printed. In CI (CI or WORKERS_CI set) no file would survive, so a missing
//    ADMIN_TOKEN is not generated there: the script names it and how to set it.
//
// Options: --config <file> (default wrangler.toml), --check (step 1 only),
// --migrate-local (the migrations of every database to wrangler dev's local state).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

/** Every secret the worker reads, and what it is for (also in .dev.vars.example). */
export const SECRETS = {
  ADMIN_TOKEN: "the root key of the operator API and the dashboard (unset: /api answers 404)",
  COOKIE_SECRET: "signs the cookies that remember a link password (unset: a public value anyone can forge)",
  WEBHOOK_SECRET: "signs the link health webhook (HEALTH_WEBHOOK_URL); the receiver verifies with it",
};

/** An id made of zeros (a last digit aside): a placeholder, never a real resource. */
export function placeholderIds(toml) {
  return [...toml.matchAll(/^\s*(database_id|id)\s*=\s*"([^"]*)"/gm)]
    .filter(([, , id]) => /^[0-]*[0-9a-f]?$/i.test(id) && id.replace(/-/g, "").length >= 32)
    .map(([, field, id]) => `${field} = "${id}"`);
}

/** The [[d1_databases]] of a wrangler.toml: binding, name, id (if any), migrations. */
export function databases(toml) {
  return [...toml.matchAll(/^\[\[d1_databases\]\]([\s\S]*?)(?=^\[|(?![\s\S]))/gm)].map((m) => {
    const field = (name) => m[1].match(new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m"))?.[1];
    return { binding: field("binding"), name: field("database_name"), id: field("database_id") };
  });
}

function workerName(toml) {
  return toml.match(/^name\s*=\s*"([^"]+)"/m)?.[1] ?? "worker";
}

function wrangler(args, { capture = false, stderr = false } = {}) {
  const res = spawnSync("wrangler", args, {
    stdio: ["inherit", capture ? "pipe" : "inherit", stderr ? "pipe" : "inherit"],
    encoding: "utf8",
    shell: process.platform === "win32",
  });
  if (res.error) throw new Error(`could not run wrangler (${res.error.message}): run npm ci first`);
  return res;
}

function must(args) {
  const res = wrangler(args);
  if (res.status !== 0) {
    console.error(`\ndeploy: 'wrangler ${args.join(" ")}' failed (exit ${res.status}); nothing after it was done.`);
    process.exit(res.status || 1);
  }
}

function jsonOf(res, what) {
  try {
    return JSON.parse(res.stdout);
  } catch {
    console.error(`deploy: could not read ${what} (wrangler said: ${String(res.stdout).slice(0, 200)})`);
    process.exit(1);
  }
}

function main(argv) {
  const configAt = argv.includes("--config") ? argv[argv.indexOf("--config") + 1] : "wrangler.toml";
  const toml = readFileSync(configAt, "utf8");
  const placeholders = placeholderIds(toml);
  if (placeholders.length) {
    console.error(
      `deploy: ${configAt} still holds placeholder ids (${placeholders.join(", ")}).\n` +
        "A placeholder turns off wrangler's automatic provisioning and fails at deploy. Delete\n" +
        "those lines (wrangler then creates each database and namespace on the first deploy),\n" +
        "or replace them with the ids of resources you already have (`npx wrangler d1 list`).",
    );
    process.exit(1);
  }
  if (argv.includes("--check")) return;
  const config = ["--config", configAt];
  const dbs = databases(toml);
  if (argv.includes("--migrate-local")) {
    for (const db of dbs) must(["d1", "migrations", "apply", db.binding, "--local", ...config]);
    return;
  }

  // What secrets the worker has, first: a listing that fails stops before any change.
  const have = secretsSet(config);

  // 2. Migrations of the databases that exist already.
  const listed = jsonOf(wrangler(["d1", "list", "--json", ...config], { capture: true }), "the account's D1 databases");
  const existing = new Set(listed.map((d) => d.name));
  const exists = (db) => Boolean(db.id) || existing.has(db.name);
  const later = [];
  for (const db of dbs) {
    if (exists(db)) must(["d1", "migrations", "apply", db.binding, "--remote", ...config]);
    else later.push(db);
  }

  // 4 (before 3, so they arrive with the code). The secrets the worker has not got.
  const ci = Boolean(process.env.CI || process.env.WORKERS_CI);
  const set = {};
  const generated = [];
  const named = [];
  for (const name of Object.keys(SECRETS)) {
    if (have.has(name)) continue;
    if (process.env[name]) set[name] = process.env[name];
    else if (ci && name === "ADMIN_TOKEN") named.push(name);
    else {
      set[name] = randomBytes(32).toString("base64url");
      generated.push(name);
    }
  }

  // 3. The deploy, with those secrets (wrangler adds them to the ones already set), which
  // creates what is declared without an id; then the new databases' migrations.
  const dir = mkdtempSync(join(tmpdir(), "shortener-secrets-"));
  try {
    const secrets = [];
    if (Object.keys(set).length) {
      // Outside the repository, readable by this user only, removed at once.
      writeFileSync(join(dir, "secrets.json"), JSON.stringify(set), { mode: 0o600 });
      secrets.push("--secrets-file", join(dir, "secrets.json"));
    }
    must(["deploy", ...secrets, ...config]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const db of later) must(["d1", "migrations", "apply", db.binding, "--remote", ...config]);

  const kept = generated.length && !ci ? keep(workerName(toml), Object.fromEntries(generated.map((n) => [n, set[n]]))) : null;
  console.log("");
  for (const name of Object.keys(SECRETS)) {
    const how = have.has(name) ? "already set (kept)" : generated.includes(name) ? "generated and set" : set[name] ? "set from your environment" : "NOT SET";
    console.log(`  ${name.padEnd(15)} ${how}`);
  }
  if (kept) console.log(`\nThe generated values are in ${kept} (only there: Cloudflare never shows a secret again).`);
  if (generated.includes("ADMIN_TOKEN") && kept) console.log(`Your admin token is ADMIN_TOKEN in ${kept}; sign in to /dashboard with it.`);
  else if (have.has("ADMIN_TOKEN")) console.log("ADMIN_TOKEN was set before: use the value you set (or set a new one with `npx wrangler secret put ADMIN_TOKEN`).");
  for (const name of named) {
    console.log(
      `\n${name} is not set, so the operator API and /dashboard stay off (404). Set it in the Cloudflare\n` +
        "dashboard (Workers & Pages → your worker → Settings → Variables and Secrets → Add, type Secret)\n" +
        `or with \`npx wrangler secret put ${name}\`, then sign in to /dashboard with it.`,
    );
  }
}

/**
 * The names of the secrets the deployed worker has. A worker not deployed yet has none;
 * any other failure stops the deploy, so that an existing token is never replaced
 * because the listing failed.
 */
function secretsSet(config) {
  const res = wrangler(["secret", "list", "--format", "json", ...config], { capture: true, stderr: true });
  if (res.status === 0) return new Set(jsonOf(res, "the worker's secrets").map((s) => s.name));
  const said = `${res.stdout}\n${res.stderr}`;
  if (/10007|not found|does not exist/i.test(said)) return new Set();
  console.error(`deploy: could not list the worker's secrets, so none was changed:\n${said.trim()}`);
  process.exit(1);
}

/** Writes `values` to ~/.config/shortener/<worker>.secrets (mode 600); answers its path. */
function keep(worker, values) {
  const dir = join(process.env.XDG_CONFIG_HOME || join(homedir(), ".config"), "shortener");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${worker}.secrets`);
  let previous = "";
  try {
    previous = readFileSync(file, "utf8");
  } catch {
    // first deploy of this worker from this machine
  }
  const lines = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  writeFileSync(file, `${previous}# set on ${new Date().toISOString()}\n${lines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
