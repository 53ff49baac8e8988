// What the browser tests (tests/browser-*.test.mjs, one file per page) share: Debian's
// Chromium driven by playwright-core against the built worker served by Miniflare on
// 127.0.0.1, a page with its script errors collected, and one axe-core check.
//
// Without Chromium a developer's run skips these files with the reason; in CI (the CI
// variable set, as every CI service does) a missing browser fails the run, so a green
// CI never means "skipped".
import { before, after } from "node:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { chromium } from "playwright-core";
import { startWorker, refuseOutbound } from "./harness.mjs";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** Where the screenshots go (git-ignored). */
export const SHOTS = new URL("./screenshots/", import.meta.url).pathname;
const INSTALL_HINT = "install Debian's chromium package (sudo apt-get install -y chromium; make test does so when run as root) or set CHROMIUM_PATH";
if (!existsSync(CHROMIUM) && process.env.CI && process.env.CI !== "false") {
  throw new Error(`no Chromium at ${CHROMIUM}, and CI does not skip the browser tests: ${INSTALL_HINT}`);
}
/** The `skip` option of every browser test: false, or why the browser is missing. */
export const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: ${INSTALL_HINT}`;

/** The operator's root key in the browser files' workers, for the dashboard and the console. */
export const ADMIN_TOKEN = "browser-test-admin-token";

// The worker's own outbound fetches (the admin page's "check now") are answered here:
// health.example is a site that is there, gone.example one that is gone; anything else
// is refused. Nothing leaves the machine.
function outbound(request) {
  const { hostname } = new URL(request.url);
  if (hostname === "health.example") return new Response(request.method === "HEAD" ? null : "ok");
  if (hostname === "gone.example") return new Response("not found", { status: 404 });
  return refuseOutbound(request);
}

/**
 * Starts, before the file's tests, a worker listening on 127.0.0.1, a page server for
 * the links' targets and Chromium, and stops them after. The returned object holds
 * `w` (the worker), `base` (its origin), `targets` (the targets' origin, example.com
 * mapped to 127.0.0.1) and `browser`, and is handed to `ready` once they are up.
 * `vars` are added to the worker's.
 */
export function browserSuite(ready = () => {}, { vars = {} } = {}) {
  const suite = {};
  let site;
  before(async () => {
    if (skip) return;
    // The token lets the dashboard sign in and the API console make an authorized call.
    suite.w = await startWorker({ host: "127.0.0.1", port: 0, outbound, vars: { ADMIN_TOKEN, ...vars } });
    suite.base = String(suite.w.url).replace(/\/$/, "");
    // The targets live on example.com, which the browser resolves to a page served
    // here on 127.0.0.1 (no traffic leaves the machine).
    site = createServer((req, res) => res.end(`<h1>target ${req.url}</h1>`));
    await new Promise((r) => site.listen(0, "127.0.0.1", r));
    suite.targets = `http://example.com:${site.address().port}`;
    suite.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-features=HttpsUpgrades",
        "--host-resolver-rules=MAP example.com 127.0.0.1",
      ],
    });
    mkdirSync(SHOTS, { recursive: true });
    ready(suite);
  });
  after(async () => {
    await suite.browser?.close();
    await suite.w?.dispose();
    site?.close();
  });
  return suite;
}

/**
 * A new context and page; `errors` collects the page's script errors. `options` may set
 * the `colorScheme` and `javaScriptEnabled` of the context.
 */
export async function openPage(browser, viewport = { width: 1280, height: 860 }, options = {}) {
  const context = await browser.newContext({ viewport, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // Expected 4xx answers (an API error shown in the form, the 410 page) log "Failed
  // to load resource"; anything else on the console is a script error.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  return { context, page, errors };
}

export async function noHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

/** Presses Tab until the focused element matches `selector`. */
export async function tabTo(page, selector, limit = 300) {
  for (let i = 0; i < limit; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${selector}`);
}

// axe-core, from npm.
const AXE = new URL("../node_modules/axe-core/axe.min.js", import.meta.url).pathname;
let axeSource;

/**
 * The serious and critical axe-core violations of the page as it is now, one line
 * each (rule, impact, the elements). axe-core is evaluated through the debugging
 * protocol, which the page's CSP does not govern (an injected script tag it refuses).
 */
export async function axeViolations(page) {
  axeSource ??= readFileSync(AXE, "utf8");
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
}
