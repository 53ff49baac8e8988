// The deploy script's own decisions (deploy/deploy.mjs: `npm run deploy` in the bundle,
// `make deploy` here), which cannot meet Cloudflare from this machine: a stand-in
// `wrangler` first on PATH plays the account (which databases exist, whether the worker
// and its secrets do) and records each call. What is checked is the script, not
// Cloudflare: the order of migrations and deploy on a first deploy and on an upgrade,
// by binding name; the secrets sent with the deploy, generated, taken from the
// environment or named as missing in CI; where generated values are kept (outside the
// repository, mode 600); and that a failed listing changes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const SECRETS = ["ADMIN_TOKEN", "COOKIE_SECRET", "WEBHOOK_SECRET"];

// The stand-in: state in $FAKE_ACCOUNT/state.json, one line per call in calls.log.
const FAKE_WRANGLER = `#!/usr/bin/env node
const fs = require("fs");
const path = require("path");
const dir = process.env.FAKE_ACCOUNT;
const file = path.join(dir, "state.json");
const state = JSON.parse(fs.readFileSync(file, "utf8"));
const args = process.argv.slice(2).filter((a, i, all) => a !== "--config" && all[i - 1] !== "--config");
const log = (line) => fs.appendFileSync(path.join(dir, "calls.log"), line + "\\n");
const save = () => fs.writeFileSync(file, JSON.stringify(state));
const [a, b, c] = args;
if (a === "d1" && b === "list") { console.log(JSON.stringify(state.databases.map((name) => ({ name, uuid: name + "-id" })))); process.exit(0); }
if (a === "d1" && b === "migrations") {
  const binding = args[3];
  if (!state.databases.includes(state.names[binding])) { console.error("Couldn't find DB " + binding); process.exit(1); }
  log("migrate " + binding + " " + args.slice(4).join(" ")); process.exit(0);
}
if (a === "secret" && b === "list") {
  if (state.listFails) { console.error("Authentication error [code: 10000]"); process.exit(1); }
  if (!state.deployed) { console.error("This Worker does not exist on your account. [code: 10007]"); process.exit(1); }
  console.log(JSON.stringify(state.secrets.map((name) => ({ name, type: "secret_text" })))); process.exit(0);
}
if (a === "deploy") {
  const at = args.indexOf("--secrets-file");
  const sent = at < 0 ? {} : JSON.parse(fs.readFileSync(args[at + 1], "utf8"));
  if (at >= 0) state.sentFileMode = (fs.statSync(args[at + 1]).mode & 0o777).toString(8);
  state.sent = sent;
  log("deploy " + Object.keys(sent).sort().join(","));
  state.deployed = true;
  state.secrets = [...new Set([...state.secrets, ...Object.keys(sent)])];
  for (const name of Object.values(state.names)) if (!state.databases.includes(name)) state.databases.push(name);
  save(); process.exit(0);
}
console.error("fake wrangler: unexpected call " + args.join(" ")); process.exit(2);
`;

function account(overrides = {}) {
  const dir = mkdtempSync(join(tmpdir(), "shortener-fake-account-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "wrangler"), FAKE_WRANGLER);
  chmodSync(join(bin, "wrangler"), 0o755);
  const state = { databases: [], deployed: false, secrets: [], names: { DB: "shortener", ANALYTICS: "shortener-analytics" }, ...overrides };
  writeFileSync(join(dir, "state.json"), JSON.stringify(state));
  writeFileSync(join(dir, "calls.log"), "");
  return {
    dir,
    deploy(env = {}) {
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !["CI", "WORKERS_CI", ...SECRETS].includes(k)));
      const res = spawnSync(process.execPath, [join(ROOT, "deploy/deploy.mjs"), "--config", join(ROOT, "wrangler.toml")], {
        encoding: "utf8",
        env: { ...clean, PATH: `${bin}:${process.env.PATH}`, FAKE_ACCOUNT: dir, XDG_CONFIG_HOME: join(dir, "config"), ...env },
      });
      return { ...res, output: `${res.stdout}\n${res.stderr}` };
    },
    calls: () => readFileSync(join(dir, "calls.log"), "utf8").split("\n").map((l) => l.trimEnd()).filter(Boolean),
    state: () => JSON.parse(readFileSync(join(dir, "state.json"), "utf8")),
    kept: () => join(dir, "config", "shortener", "shortener.secrets"),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test("a first deploy: deploy with three generated secrets, then the new databases' migrations by binding; the values kept outside the repository", () => {
  const a = account();
  const repoBefore = spawnSync("git", ["status", "--porcelain"], { cwd: ROOT, encoding: "utf8" }).stdout;
  try {
    const res = a.deploy();
    assert.equal(res.status, 0, res.output);
    assert.deepEqual(a.calls(), ["deploy ADMIN_TOKEN,COOKIE_SECRET,WEBHOOK_SECRET", "migrate DB --remote", "migrate ANALYTICS --remote"]);
    const sent = a.state().sent;
    assert.equal(a.state().sentFileMode, "600");
    for (const name of SECRETS) assert.match(sent[name], /^[A-Za-z0-9_-]{43}$/, `${name}: 256 random bits`);
    assert.equal(new Set(Object.values(sent)).size, 3);

    const kept = readFileSync(a.kept(), "utf8");
    assert.equal(statSync(a.kept()).mode & 0o777, 0o600);
    for (const name of SECRETS) assert.match(kept, new RegExp(`^${name}=${sent[name]}$`, "m"));
    assert.match(res.stdout, new RegExp(`Your admin token is ADMIN_TOKEN in ${a.kept().replace(/[.]/g, "\\.")}`));
    for (const value of Object.values(sent)) assert.ok(!res.output.includes(value), "no secret value on the terminal");
    assert.equal(spawnSync("git", ["status", "--porcelain"], { cwd: ROOT, encoding: "utf8" }).stdout, repoBefore, "nothing written into the repository");

    // The next deploy: migrations first (an upgrade), no secret touched.
    const again = a.deploy();
    assert.equal(again.status, 0, again.output);
    assert.deepEqual(a.calls().slice(3), ["migrate DB --remote", "migrate ANALYTICS --remote", "deploy"]);
    assert.match(again.stdout, /ADMIN_TOKEN\s+already set \(kept\)/);
  } finally {
    a.done();
  }
});

test("in CI a missing ADMIN_TOKEN is named with how to set it, never generated; a value in the environment is used", () => {
  const ci = account();
  const given = account();
  try {
    const res = ci.deploy({ WORKERS_CI: "1" });
    assert.equal(res.status, 0, res.output);
    assert.deepEqual(Object.keys(ci.state().sent).sort(), ["COOKIE_SECRET", "WEBHOOK_SECRET"]);
    assert.match(res.stdout, /ADMIN_TOKEN\s+NOT SET/);
    assert.match(res.stdout, /ADMIN_TOKEN is not set, so the operator API and \/dashboard stay off \(404\)[\s\S]*wrangler secret put ADMIN_TOKEN/);
    assert.ok(!existsSync(ci.kept()), "no file in a build container");

    const own = given.deploy({ ADMIN_TOKEN: "the-operators-own-token-0123456789" });
    assert.equal(own.status, 0, own.output);
    assert.equal(given.state().sent.ADMIN_TOKEN, "the-operators-own-token-0123456789");
    assert.match(own.stdout, /ADMIN_TOKEN\s+set from your environment/);
    assert.doesNotMatch(readFileSync(given.kept(), "utf8"), /ADMIN_TOKEN/, "only generated values are kept");
  } finally {
    ci.done();
    given.done();
  }
});

test("a secret listing that fails for another reason than a missing worker stops before anything changes", () => {
  const a = account({ deployed: true, databases: ["shortener", "shortener-analytics"], secrets: ["ADMIN_TOKEN"], listFails: true });
  try {
    const res = a.deploy();
    assert.equal(res.status, 1);
    assert.match(res.stderr, /could not list the worker's secrets, so none was changed/);
    assert.ok(!a.calls().some((c) => c.startsWith("deploy")), "no deploy, so no token replaced");
  } finally {
    a.done();
  }
});
