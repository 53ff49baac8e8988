// End to end in a real browser: Debian's Chromium, driven by playwright-core, against
// the built worker served by Miniflare on 127.0.0.1. Shortens a link through the form,
// follows it, reads the admin page, changes the target, deactivates, and sees the 410
// page; reads the API reference and calls the API from its console. Saves screenshots to
// tests/screenshots/ (git-ignored).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { chromium } from "playwright-core";
import { startWorker } from "./harness.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SHOTS = new URL("./screenshots/", import.meta.url).pathname;
const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM}: install Debian's chromium package (make test does so when run as root)`;

const ADMIN_TOKEN = "browser-test-admin-token";
let w;
let browser;
let base;
let site;
let targets;
before(async () => {
  if (skip) return;
  // The token lets the API console make an authorized call.
  w = await startWorker({ host: "127.0.0.1", port: 0, vars: { ADMIN_TOKEN: ADMIN_TOKEN } });
  base = String(w.url).replace(/\/$/, "");
  // The targets live on example.com, which the browser resolves to a page served
  // here on 127.0.0.1 (no traffic leaves the machine).
  site = createServer((req, res) => res.end(`<h1>target ${req.url}</h1>`));
  await new Promise((r) => site.listen(0, "127.0.0.1", r));
  targets = `http://example.com:${site.address().port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-features=HttpsUpgrades",
      "--host-resolver-rules=MAP example.com 127.0.0.1",
    ],
  });
  mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await w?.dispose();
  site?.close();
});

async function newPage(viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // Expected 4xx answers (an API error shown in the form, the 410 page) log "Failed
  // to load resource"; anything else on the console is a script error.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  return { context, page, errors };
}

async function noHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

test("a person shortens, follows, manages and deactivates a link in the browser", { skip }, async () => {
  const { page, errors } = await newPage();
  await page.goto(`${base}/`);
  assert.equal(await page.title(), "Shorten a link");
  await page.screenshot({ path: `${SHOTS}home-desktop.png`, fullPage: true });

  // Errors from the API appear next to the field they concern.
  await page.fill("#target_url", "javascript:alert(1)");
  await page.click("button[type=submit]");
  await page.waitForSelector("#target_url-error:not([hidden])");
  assert.match(await page.textContent("#target_url-error"), /^The long URL must use http or https/);
  await page.fill("#target_url", `${targets}/from-the-browser`);
  await page.fill("#custom_key", "admin");
  await page.click("button[type=submit]");
  await page.waitForSelector("#custom_key-error:not([hidden])");
  assert.match(await page.textContent("#custom_key-error"), /reserved/);
  assert.ok(await page.isHidden("#target_url-error"));
  await page.fill("#custom_key", "");

  // Keyboard only: Tab to the URL field, type, and press Enter to submit.
  await page.fill("#target_url", "");
  await page.goto(`${base}/`);
  for (let i = 0; i < 6 && (await page.evaluate(() => document.activeElement?.id)) !== "target_url"; i++) {
    await page.keyboard.press("Tab");
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), "target_url");
  await page.keyboard.type(`${targets}/from-the-browser`);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#result:not([hidden])");
  const shortUrl = await page.textContent("#short-url");
  const adminUrl = await page.textContent("#admin-url");
  assert.match(shortUrl, new RegExp(`^${base}/[23456789a-hjkmnp-z]{8}$`));
  assert.ok(adminUrl.startsWith(`${base}/admin/`));
  assert.match(await page.textContent(".warning"), /only way/);
  await page.waitForFunction(() => document.getElementById("qr").naturalWidth > 0);
  await page.click("#copy");
  await page.waitForSelector("#copied:not([hidden])");
  assert.equal(await page.textContent("#copied"), "Copied: the short link.");
  await page.click("button[data-copy=admin-url]");
  // The message follows the clipboard write, which the page awaits.
  await page.waitForFunction(() => document.getElementById("copied").textContent === "Copied: the admin link.");
  // The QR code can be downloaded; the form is empty for the next link, and "Shorten
  // another" puts the cursor back in it.
  const key0 = shortUrl.split("/").pop();
  assert.equal(await page.getAttribute("#qr-download", "href"), `/${key0}/qr?size=512`);
  assert.equal(await page.getAttribute("#qr-download", "download"), `${key0}.svg`);
  assert.equal(await page.inputValue("#target_url"), "");
  await page.screenshot({ path: `${SHOTS}home-result-desktop.png`, fullPage: true });
  await page.click("#again");
  assert.ok(await page.isHidden("#result"));
  assert.equal(await page.evaluate(() => document.activeElement?.id), "target_url");

  // Follow the short link: a real redirect to the target.
  const visit = await page.goto(shortUrl);
  assert.equal(page.url(), `${targets}/from-the-browser`);
  assert.equal(visit.request().redirectedFrom()?.url(), shortUrl);
  const key = shortUrl.split("/").pop();
  await w.settleClicks(key, 1);

  // The admin page: the click counted and the chart drawn.
  await page.goto(adminUrl);
  assert.equal(await page.textContent("#clicks"), "1");
  assert.equal(await page.locator("svg.chart rect.bar").count(), 30);
  const tallest = await page.$$eval("svg.chart rect.bar", (bars) => Math.max(...bars.map((b) => Number(b.getAttribute("height")))));
  assert.ok(tallest > 0);
  // The same numbers as a table a screen reader can reach, folded under the chart.
  assert.equal(await page.locator(".chart-table tbody tr").count(), 30);
  await page.click(".chart-table summary");
  assert.equal(await page.textContent(".chart-table tbody tr:last-child td.num"), "1");
  assert.match(await page.textContent("#state"), /Active/);
  // Dates for people, with the exact instant on hover.
  const created = page.locator("dd time").first();
  assert.match(await created.getAttribute("title"), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.doesNotMatch(await created.textContent(), /T\d{2}:\d{2}:\d{2}Z/);
  await page.screenshot({ path: `${SHOTS}admin-desktop.png`, fullPage: true });

  // Change the target; the next visit goes to the new one.
  await page.fill("#new_target", `${targets}/changed-in-the-browser`);
  await Promise.all([page.waitForEvent("load"), page.click("#retarget button[type=submit]")]);
  assert.match(await page.textContent(".facts .target"), /changed-in-the-browser/);
  await page.goto(shortUrl);
  assert.equal(page.url(), `${targets}/changed-in-the-browser`);

  // Deactivate, which asks first: dismissed, nothing changes; accepted, the short link
  // shows the 410 page.
  await page.goto(adminUrl);
  const asked = [];
  page.once("dialog", (d) => {
    asked.push(d.message());
    d.dismiss();
  });
  await page.click("button[data-patch]");
  assert.match(asked[0], /Deactivate this link\?/);
  assert.match(await page.textContent("#state"), /Active/);
  page.once("dialog", (d) => d.accept());
  await Promise.all([page.waitForEvent("load"), page.click("button[data-patch]")]);
  assert.match(await page.textContent("#state"), /Deactivated/);
  const gone = await page.goto(shortUrl);
  assert.equal(gone.status(), 410);
  assert.match(await page.textContent("h1"), /no longer works/);
  assert.deepEqual(errors, []);
});

test("pages are readable at phone width, previews need no script, and unknown links get a 404 page", { skip }, async () => {
  const link = await w.create({ target_url: "https://example.com/a/rather/long/path/that/must/wrap/on/a/small/screen?with=query&and=more" });
  const { page, context } = await newPage({ width: 390, height: 844 });
  await page.goto(`${base}/`);
  assert.ok(await noHorizontalScroll(page), "home scrolls sideways at 390 px");
  await page.screenshot({ path: `${SHOTS}home-phone.png`, fullPage: true });
  await page.goto(link.admin_url.replace("http://localhost", base));
  assert.ok(await noHorizontalScroll(page), "admin page scrolls sideways at 390 px");
  await page.screenshot({ path: `${SHOTS}admin-phone.png`, fullPage: true });
  await context.close();

  const noScript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  const p2 = await noScript.newPage();
  await p2.goto(`${base}/${link.key}+`);
  assert.match(await p2.textContent("h1"), /Where this link goes/);
  assert.equal(await p2.getAttribute("a.button", "href"), link.target_url);
  await p2.goto(link.admin_url.replace("http://localhost", base));
  assert.equal(await p2.textContent("#clicks"), "0");
  const missing = await p2.goto(`${base}/no-such-link`);
  assert.equal(missing.status(), 404);
  assert.match(await p2.textContent("h1"), /not found/);
  await noScript.close();
});

// axe-core (from npm, injected into each page) on every kind of page, in the light and
// the dark colour scheme: no serious or critical violation.
const AXE = new URL("../node_modules/axe-core/axe.min.js", import.meta.url).pathname;

test("every page passes axe-core with no serious or critical violation, light and dark", { skip }, async () => {
  const link = await w.create({ target_url: "https://example.com/axe/checked", title: "Checked" });
  const locked = await w.create({ target_url: "https://example.com/axe/locked", password: "axe pass" });
  const admin = link.admin_url.replace("http://localhost", base);
  const made = await w.create({ target_url: "https://example.com/axe/gone" });
  await w.deactivate(made);
  const pages = {
    home: `${base}/`,
    admin,
    docs: `${base}/docs`,
    preview: `${base}/${link.key}+`,
    "password form": `${base}/${locked.key}`,
    "api console": `${base}/docs/try`,
    "not found": `${base}/no-such-link`,
    gone: `${base}/${made.key}`,
  };
  const found = [];
  for (const scheme of ["light", "dark"]) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    for (const [name, url] of Object.entries(pages)) {
      await page.goto(url);
      // The result card too, as a person sees it after shortening.
      if (name === "home") {
        await page.fill("#target_url", "https://example.com/axe/home");
        await page.click("button[type=submit]");
        await page.waitForSelector("#result:not([hidden])");
      }
      // The console draws itself from /openapi.json after the load.
      // The console draws itself from /openapi.json after the load; two operations are
      // opened (query parameters, a JSON body), as a person trying a call sees them.
      if (name === "api console") {
        for (const id of ["listLinks", "createLink"]) {
          await page.click(`#operations-default-${id} .opblock-summary-control`);
          await page.waitForSelector(`#operations-default-${id} button.execute`);
        }
        await page.waitForSelector("#operations-default-createLink textarea[aria-label]");
      }
      // Injected through the debugging protocol, which the page's CSP does not govern.
      await page.addScriptTag({ path: AXE }).catch(async () => page.evaluate(await import("node:fs").then((fs) => fs.readFileSync(AXE, "utf8"))));
      const result = await page.evaluate(async () => {
        const r = await globalThis.axe.run(document, { resultTypes: ["violations"] });
        return r.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      });
      for (const v of result) found.push(`${scheme} ${name}: ${v}`);
      await page.screenshot({ path: `${SHOTS}${name.replace(" ", "-")}-${scheme}.png`, fullPage: true });
    }
    await context.close();
  }
  assert.deepEqual(found, []);
  // Every page names its icon, which is served (no 404 on a first visit), and the admin
  // page, whose URL is the secret, asks search engines to stay away.
  const icon = await w.get("/static/favicon.svg");
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get("content-type"), "image/svg+xml");
  const adminPage = await w.get(new URL(admin).pathname, { accept: "text/html" });
  assert.match(await adminPage.text(), /<link rel="icon" href="\/static\/favicon.svg"/);
  assert.equal(adminPage.headers.get("x-robots-tag"), "noindex, nofollow");
});

// The static files: Workers Static Assets serves them in front of the worker (the
// harness gives Miniflare wrangler.toml's [assets] directory, which `make build` fills
// from site/), with the headers of the generated _headers file.
test("static files are served with their types, caching and security headers", { skip }, async () => {
  // Every answer's body is read: Miniflare's dispose waits for unread ones.
  const get = async (path, headers) => {
    const res = await w.get(path, headers);
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  // Every file of src/assets/ is at /static/<name>, with no route of its own.
  const types = { css: /^text\/css/, js: /^text\/javascript/, svg: /^image\/svg\+xml/ };
  const sources = readdirSync(new URL("../src/assets/", import.meta.url)).filter((f) => f !== "openapi.json");
  assert.ok(sources.includes("app.css") && sources.includes("app.js"));
  for (const name of sources) {
    const res = await get(`/static/${name}`);
    assert.equal(res.status, 200, name);
    const type = types[name.split(".").pop()];
    if (type) assert.match(res.headers.get("content-type"), type, name);
    assert.equal(res.headers.get("cache-control"), "public, max-age=300", name);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", name);
    // Revalidation after the five minutes is a 304 on the ETag.
    const etag = res.headers.get("etag");
    assert.ok(etag, name);
    assert.equal((await get(`/static/${name}`, { "if-none-match": etag })).status, 304, name);
  }
  assert.equal((await get("/static/no-such-file.js")).status, 404);

  // The OpenAPI document, compacted.
  const openapi = await get("/openapi.json");
  assert.match(openapi.headers.get("content-type"), /^application\/json/);
  assert.equal(JSON.parse(openapi.text).openapi, "3.1.0");

  // The console's files are under their version, so they are cached for good.
  const consolePage = (await get("/docs/try")).text;
  const bundle = consolePage.match(/src="(\/vendor\/swagger-ui-[\d.]+\/swagger-ui-bundle\.js)"/)[1];
  const vendored = await get(bundle);
  assert.equal(vendored.status, 200);
  assert.match(vendored.headers.get("content-type"), /^text\/javascript/);
  assert.equal(vendored.headers.get("cache-control"), "public, max-age=31536000, immutable");

  // The reference keeps the pages' strict policy; the console loosens styles and
  // images only (Swagger UI sets style attributes and draws data: icons).
  const csp = async (path) => (await get(path, { accept: "text/html" })).headers.get("content-security-policy");
  const strict = await csp("/docs");
  assert.equal(strict, await csp("/"));
  assert.doesNotMatch(strict, /unsafe/);
  const loose = await csp("/docs/try");
  assert.match(loose, /script-src 'self';/);
  assert.match(loose, /style-src 'self' 'unsafe-inline';/);
  assert.match(loose, /img-src 'self' data:;/);
  assert.doesNotMatch(loose, /unsafe-eval|script-src[^;]*unsafe-inline/);
  // Other methods on an asset path are refused.
  const post = await w.fetch("/docs", { method: "POST" });
  await post.arrayBuffer();
  assert.equal(post.status, 405);
});

test("the API reference renders its Markdown, has working contents and reads on a phone without script", { skip }, async () => {
  const noScript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  const page = await noScript.newPage();
  await page.goto(`${base}/docs`);
  assert.match(await page.textContent("h1"), /API/);
  // Backticks in the document's descriptions become code elements, not literal marks.
  assert.ok(await page.locator(".docs > p code", { hasText: '{"detail": "..."}' }).count());
  assert.equal(await page.locator(".docs :is(p, td)", { hasText: /`/ }).count(), 0, "a literal backtick is left");
  // The console is linked from the reference.
  assert.equal(await page.getAttribute("a[href='/docs/try']", "href"), "/docs/try");
  // The contents lead to the operation, with no script.
  const entry = page.locator(".toc a[href='#op-listLinks']");
  await entry.click();
  assert.ok(page.url().endsWith("#op-listLinks"));
  const heading = page.locator("#op-listLinks");
  assert.match(await heading.textContent(), /GET\s*\/api\/links/i);
  assert.ok(await heading.isVisible());
  const box = await heading.boundingBox();
  assert.ok(box.y >= 0 && box.y < 844, `the heading is in view (y = ${box.y})`);
  // Tables fit the phone: nothing scrolls sideways, and no cell is squeezed to a
  // column narrower than a word.
  assert.ok(await noHorizontalScroll(page), "/docs scrolls sideways at 390 px");
  const narrowest = await page.$$eval(".doc-table td", (cells) => Math.min(...cells.filter((c) => c.textContent.trim()).map((c) => c.getBoundingClientRect().width)));
  assert.ok(narrowest > 100, `a table cell is ${narrowest} px wide at 390 px`);
  await page.screenshot({ path: `${SHOTS}docs-phone.png` });
  await noScript.close();
});

/** axe-core's serious and critical violations on the page as it is now. */
async function seriousViolations(page) {
  // Evaluated through the debugging protocol: the page's CSP refuses an injected script tag.
  await page.evaluate(readFileSync(AXE, "utf8"));
  return page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
}

test("the API console loads the OpenAPI document and makes an authorized call", { skip }, async () => {
  const link = await w.create({ target_url: "https://example.com/console/listed", custom_key: "console-listed" });
  const { page, errors, context } = await newPage();
  const calls = [];
  page.on("request", (r) => calls.push(r));
  await page.goto(`${base}/docs/try`);
  await page.waitForSelector("#swagger-ui .opblock");
  assert.ok(await page.locator("#operations-default-listLinks").count());

  // Authorize with the operator's token.
  await page.click("button.authorize");
  await page.fill(".auth-container input", ADMIN_TOKEN);
  await page.click(".auth-btn-wrapper button.authorize");
  // The dialog, and below the page after the call, pass axe-core too.
  assert.deepEqual(await seriousViolations(page), [], "the authorization dialog");
  await page.click(".auth-btn-wrapper button.btn-done");

  // GET /api/links, executed from the page against this worker.
  await page.click("#operations-default-listLinks .opblock-summary-control");
  await page.click("#operations-default-listLinks button.execute");
  const status = page.locator("#operations-default-listLinks .live-responses-table tr.response .response-col_status").first();
  await status.waitFor();
  assert.equal((await status.textContent()).trim(), "200");
  const sent = calls.find((r) => new URL(r.url()).pathname === "/api/links");
  assert.ok(sent, "the console called /api/links");
  assert.equal(new URL(sent.url()).origin, base);
  assert.equal(sent.headers().authorization, `Bearer ${ADMIN_TOKEN}`);
  assert.match(await page.textContent("#operations-default-listLinks .live-responses-table"), new RegExp(link.key));
  assert.deepEqual(await seriousViolations(page), [], "the console after a call");
  // Nothing left the origin, and the CSP refused nothing.
  assert.deepEqual(calls.map((r) => new URL(r.url()).origin).filter((o) => o !== base), []);
  assert.deepEqual(errors, []);
  await page.screenshot({ path: `${SHOTS}api-console.png`, fullPage: true });
  await context.close();
});
