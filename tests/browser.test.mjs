// End to end in a real browser: Debian's Chromium, driven by playwright-core, against
// the built worker served by Miniflare on 127.0.0.1. Shortens a link through the form,
// follows it, reads the admin page, changes the target, deactivates, and sees the 410
// page; finds its links again in "your links" and saves the QR code as PNG; runs the
// operator dashboard with the admin token and with team keys; sets every control on the
// admin page; reads the API reference and calls the API from its console. Saves
// screenshots to tests/screenshots/ (git-ignored).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { chromium } from "playwright-core";
import { startWorker, refuseOutbound, waitFor } from "./harness.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SHOTS = new URL("./screenshots/", import.meta.url).pathname;
const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM}: install Debian's chromium package (make test does so when run as root)`;

// The operator's root key in this file's worker, for the dashboard's tests.
const ADMIN_TOKEN = "browser-test-admin-token";

// The worker's own outbound fetches (the admin page's "check now") are answered here:
// health.example is a site that is there, gone.example one that is gone; anything else
// is refused. Nothing leaves the machine.
function outbound(request) {
  const { hostname } = new URL(request.url);
  if (hostname === "health.example") return new Response(request.method === "HEAD" ? null : "ok");
  if (hostname === "gone.example") return new Response("not found", { status: 404 });
  return refuseOutbound(request);
}

let w;
let browser;
let base;
let site;
let targets;
before(async () => {
  if (skip) return;
  // The token lets the dashboard sign in and the API console make an authorized call.
  w = await startWorker({ host: "127.0.0.1", port: 0, outbound, vars: { ADMIN_TOKEN } });
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
  // The admin page with every setting filled in, so every form shows.
  const link = await w.create({
    target_url: "https://example.com/axe/checked",
    title: "Checked",
    tags: ["axe"],
    note: "checked by axe",
    rules: [{ when: { device: ["mobile", "tablet"], os: "ios", language: "fr", after: "2030-01-01T00:00:00Z" }, target_url: "https://example.com/axe/rule" }],
    split: { variants: [{ target_url: "https://example.com/axe/a", weight: 1 }, { target_url: "https://example.com/axe/b", weight: 2 }] },
    password: "axe pass",
    social_card: { title: "Axe" },
    valid_since: "2030-01-01T00:00:00Z",
    max_clicks: 3,
  });
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
      // The lists' added items, an error and the check's answer too.
      if (name === "admin") {
        await page.click("#add-rule");
        await page.click("#add-variant");
        await page.fill("#max_clicks", "0");
        await page.click("#limits button[type=submit]");
        await page.waitForSelector("#limits-error:not([hidden])");
        await page.click("#check-now");
        await page.waitForFunction(() => document.getElementById("check-status").textContent.length > 20);
        await page.focus("svg.chart g.day");
      }
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

/** The serious and critical axe-core violations of the page as it is now. */
async function axeViolations(page) {
  // Injected through the debugging protocol, which the page's CSP does not govern.
  await page.addScriptTag({ path: AXE }).catch(async () => page.evaluate(readFileSync(AXE, "utf8")));
  return page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

test("the home page keeps the links made in this browser, forgets them on request, and saves the QR code as PNG", { skip }, async () => {
  const { page, context, errors } = await newPage();
  await page.goto(`${base}/`);
  assert.ok(await page.isHidden("#your-links"), "an empty list is not shown");
  const made = [];
  for (const path of ["/yours/one", "/yours/two"]) {
    await page.fill("#target_url", `${targets}${path}`);
    await page.click("button[type=submit]");
    await page.waitForFunction((n) => document.querySelectorAll("#your-links-list li").length === n, made.length + 1);
    made.push({ short: await page.textContent("#short-url"), admin: await page.textContent("#admin-url"), target: `${targets}${path}` });
  }

  // The QR code as PNG: a real PNG file of the size asked for, named after the key.
  const key = made[1].short.split("/").pop();
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#qr-png")]);
  assert.equal(download.suggestedFilename(), `${key}.png`);
  const png = readFileSync(await download.path());
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
  assert.equal(png.toString("latin1", 12, 16), "IHDR");
  assert.equal(png.readUInt32BE(16), 512);
  assert.equal(png.readUInt32BE(20), 512);

  // After a reload both are listed, newest first, with target, date and admin link.
  await page.reload();
  const items = page.locator("#your-links-list li");
  assert.equal(await items.count(), 2);
  assert.match(await page.textContent("#your-links"), /only in this browser/);
  for (const [i, link] of [made[1], made[0]].entries()) {
    const item = items.nth(i);
    assert.equal(await item.locator(".short a").getAttribute("href"), link.short);
    assert.match(await item.textContent(), new RegExp(`Goes to ${link.target}`));
    assert.match(await item.locator("time").getAttribute("datetime"), /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(await item.locator(`a[href="${link.admin}"]`).count(), 1);
  }
  // The admin links work.
  await page.click(`#your-links-list a[href="${made[0].admin}"]`);
  await page.waitForURL(made[0].admin);
  assert.equal(await page.textContent("h1"), `Link ${made[0].short.split("/").pop()}`);

  // Forget one: gone, also after a reload; the other stays.
  await page.goto(`${base}/`);
  await page.click(`button[aria-label="Forget ${made[0].short}"]`);
  assert.match(await page.textContent("#your-links-note"), /^Forgot /);
  await page.reload();
  assert.equal(await items.count(), 1);
  assert.equal(await items.first().locator(".short a").getAttribute("href"), made[1].short);
  // Forget all asks first, then empties the list.
  page.once("dialog", (d) => d.accept());
  await page.click("#forget-all");
  assert.equal(await items.count(), 0);
  await page.reload();
  assert.ok(await page.isHidden("#your-links"));
  assert.deepEqual(errors, []);
  await context.close();
});

test("the home page still shortens with local storage full or refused, and without script the list is not there", { skip }, async () => {
  // Full: every write throws, as a browser over its quota does.
  const full = await newPage();
  await full.context.addInitScript(() => {
    Storage.prototype.setItem = () => {
      throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    };
  });
  await full.page.goto(`${base}/`);
  await full.page.fill("#target_url", `${targets}/storage/full`);
  await full.page.click("button[type=submit]");
  await full.page.waitForSelector("#result:not([hidden])");
  assert.match(await full.page.textContent("#your-links-note"), /did not keep this link/);
  assert.equal(await full.page.locator("#your-links-list li").count(), 0);
  assert.deepEqual(full.errors, []);
  await full.context.close();

  // Refused: reading `localStorage` throws, as with storage blocked for the site.
  const refused = await newPage();
  await refused.context.addInitScript(() => {
    Object.defineProperty(window, "localStorage", {
      get() {
        throw new DOMException("Access is denied for this document.", "SecurityError");
      },
    });
  });
  await refused.page.goto(`${base}/`);
  await refused.page.fill("#target_url", `${targets}/storage/refused`);
  await refused.page.click("button[type=submit]");
  await refused.page.waitForSelector("#result:not([hidden])");
  assert.match(await refused.page.textContent("#short-url"), /^http:\/\/127\.0\.0\.1:\d+\/\w{8}$/);
  assert.deepEqual(refused.errors, []);
  await refused.context.close();

  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const page = await noScript.newPage();
  await page.goto(`${base}/`);
  assert.ok(await page.isHidden("#your-links"));
  await page.goto(`${base}/dashboard`);
  assert.ok(await page.isHidden("#signin"));
  assert.match(await page.textContent("noscript"), /needs JavaScript/);
  await noScript.close();
});

/** Creates links through the operator API with the admin token; answers their keys. */
async function operatorLinks(items) {
  const res = await w.operator("/api/links/bulk", { method: "POST", json: items });
  const { results } = await res.json();
  assert.deepEqual(results.map((r) => r.status), items.map(() => 201), JSON.stringify(results));
  return results.map((r) => r.link.key);
}

/** A new API key with `role`, made through the API; answers its token. */
async function apiKey(name, role) {
  const res = await w.operator("/api/keys", { method: "POST", json: { name, role } });
  assert.equal(res.status, 201);
  return (await res.json()).token;
}

async function signIn(page, token) {
  await page.goto(`${base}/dashboard`);
  await page.fill("#token", token);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#board:not([hidden])");
  await page.waitForSelector("#links-table tbody tr");
}

/** The keys the dashboard lists now. */
const listed = (page) => page.$$eval("#links-table tbody input[type=checkbox]", (boxes) => boxes.map((b) => b.value));

/** Waits until the dashboard lists exactly `keys` (in any order). */
async function waitForListed(page, keys) {
  await page.waitForFunction(
    (want) => {
      const got = [...document.querySelectorAll("#links-table tbody input[type=checkbox]")].map((b) => b.value).sort();
      return JSON.stringify(got) === JSON.stringify(want);
    },
    [...keys].sort(),
  );
}

test("the dashboard refuses a wrong key, lists with the admin token, searches, filters by tag and changes links in bulk", { skip }, async () => {
  await operatorLinks([
    { target_url: "https://example.com/dash/alpha", custom_key: "dash-alpha", title: "Alpha launch", tags: ["dash-spring"] },
    { target_url: "https://example.com/dash/beta", custom_key: "dash-beta", title: "Beta notes", tags: ["dash-spring"] },
    { target_url: "https://example.com/dash/gamma", custom_key: "dash-gamma", title: "Gamma notes", tags: ["dash-autumn"] },
  ]);
  const { page, context, errors } = await newPage();
  await page.goto(`${base}/dashboard`);
  assert.equal(await page.title(), "Dashboard");

  // A wrong key is refused in words, and not kept.
  await page.fill("#token", "sk_not_a_real_key");
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#token-error:not([hidden])");
  assert.match(await page.textContent("#token-error"), /refused: it is not a key of this service, or it was revoked or has expired/);
  assert.ok(await page.isHidden("#board"));
  assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);

  await signIn(page, ADMIN_TOKEN);
  assert.match(await page.textContent("#whoami"), /admin key/);
  await page.screenshot({ path: `${SHOTS}dashboard-desktop.png` });
  // The key is kept for this tab only: in sessionStorage, never in localStorage.
  assert.equal(await page.evaluate(() => Object.values(sessionStorage).includes("browser-test-admin-token")), true);
  assert.equal(await page.evaluate(() => JSON.stringify({ ...localStorage }).includes("browser-test-admin-token")), false);
  for (const key of ["dash-alpha", "dash-beta", "dash-gamma"]) assert.ok((await listed(page)).includes(key), key);

  // Search narrows to the title's words; the tag filter to the tagged links.
  await page.fill("#f-search", "alpha launch");
  await page.click("#filters button[type=submit]");
  await waitForListed(page, ["dash-alpha"]);
  await page.fill("#f-search", "");
  await page.fill("#f-tag", "dash-spring");
  await page.click("#filters button[type=submit]");
  await waitForListed(page, ["dash-alpha", "dash-beta"]);
  // The tags in use are offered as suggestions.
  assert.ok((await page.$$eval("#f-tags option", (o) => o.map((x) => x.value))).includes("dash-autumn"));

  // A reload keeps the session (same tab).
  await page.reload();
  await page.waitForSelector("#board:not([hidden])");
  await page.fill("#f-tag", "dash-spring");
  await page.click("#filters button[type=submit]");
  await waitForListed(page, ["dash-alpha", "dash-beta"]);

  // Bulk deactivate (asks first): both links answer 410 at once; the third still redirects.
  await page.check("#select-all");
  assert.equal(await page.textContent("#selected-count"), "(2 selected)");
  const asked = [];
  page.once("dialog", (d) => {
    asked.push(d.message());
    d.accept();
  });
  await page.click("#bulk-deactivate");
  await page.waitForFunction(() => document.getElementById("bulk-status").textContent === "Deactivated 2 links.");
  assert.match(asked[0], /Deactivate 2 links\?/);
  assert.equal((await w.visit("dash-alpha")).status, 410);
  assert.equal((await w.visit("dash-beta")).status, 410);
  assert.equal((await w.visit("dash-gamma")).status, 302);
  await page.waitForFunction(() => [...document.querySelectorAll("#links-table tbody .state")].every((s) => s.textContent === "Deactivated"));

  // Tags in bulk: added to the selected link, through PATCH.
  await page.fill("#f-tag", "dash-autumn");
  await page.click("#filters button[type=submit]");
  await waitForListed(page, ["dash-gamma"]);
  await page.check("#links-table tbody input[value=dash-gamma]");
  await page.fill("#bulk-tag", "Dash Extra");
  await page.click("#bulk-tag-add");
  await page.waitForFunction(() => /^Tagged “dash-extra” on 1 link\.$/.test(document.getElementById("bulk-status").textContent));
  const gamma = await (await w.operator("/api/links/dash-gamma")).json();
  assert.deepEqual(gamma.tags, ["dash-autumn", "dash-extra"]);

  // Sign out: the key is gone from the tab.
  await page.click("#signout");
  assert.ok(await page.isVisible("#signin"));
  assert.ok(await page.isHidden("#board"));
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(await page.evaluate(() => document.activeElement?.id), "token");
  assert.deepEqual(errors, []);
  await context.close();
});

test("with several domains, the dashboard filters by domain and changes the link on its own domain only", { skip }, async () => {
  const GO = "go.example.com";
  const multi = await startWorker({ host: "127.0.0.1", port: 0, vars: { ADMIN_TOKEN, DOMAINS: JSON.stringify({ [GO]: {} }) } });
  try {
    const origin = String(multi.url).replace(/\/$/, "");
    for (const domain of [GO, "default"]) {
      const res = await multi.operator("/api/links/bulk", { method: "POST", json: [{ target_url: `https://example.com/${domain}`, custom_key: "twin-key", domain }] });
      assert.equal((await res.json()).results[0].status, 201);
    }
    const { page, context, errors } = await newPage();
    await page.goto(`${origin}/dashboard`);
    await page.fill("#token", ADMIN_TOKEN);
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("#links-table tbody tr");
    // Both links are listed, each with its domain; the filter offers every domain.
    await page.waitForSelector("#f-domain-field:not([hidden])");
    assert.deepEqual(await page.$$eval("#f-domain option", (o) => o.map((x) => x.value)), ["", "default", GO]);
    assert.deepEqual((await page.$$eval("#links-table tbody a", (a) => a.map((x) => x.textContent))).sort(), ["default/twin-key", `${GO}/twin-key`]);

    await page.selectOption("#f-domain", GO);
    await page.click("#filters button[type=submit]");
    await page.waitForFunction(() => document.querySelectorAll("#links-table tbody tr").length === 1);
    assert.equal(await page.textContent("#links-table tbody a"), `${GO}/twin-key`);
    await page.check("#links-table tbody input[value=twin-key]");
    page.once("dialog", (d) => d.accept());
    await page.click("#bulk-deactivate");
    await page.waitForFunction(() => document.getElementById("bulk-status").textContent === "Deactivated 1 link.");
    // The same key on the primary domain is another link, and it still redirects.
    assert.equal((await multi.fetch(`http://${GO}/twin-key`)).status, 410);
    assert.equal((await multi.fetch("http://localhost/twin-key")).status, 302);

    // An import goes into the domain chosen for it.
    assert.deepEqual(await page.$$eval("#import-domain option", (o) => o.map((x) => x.value)), ["default", GO]);
    await page.selectOption("#import-domain", GO);
    await page.setInputFiles("#import-file", { name: "go.csv", mimeType: "text/csv", buffer: Buffer.from("key,target_url\nimported-go,https://example.com/imported\n") });
    await page.click("#import-form button[type=submit]");
    await page.waitForSelector("#import-results:not([hidden])");
    assert.equal((await multi.fetch(`http://${GO}/imported-go`)).headers.get("location"), "https://example.com/imported");
    assert.equal((await multi.fetch("http://localhost/imported-go")).status, 404);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await multi.dispose();
  }
});

test("the dashboard imports a file, exports every link, and creates and revokes an API key", { skip }, async () => {
  const { page, context, errors } = await newPage();
  await signIn(page, ADMIN_TOKEN);

  // Import a small CSV: two links made, one refused with its reason.
  const csv = [
    "key,target_url,title,tags,clicks",
    "dash-imp-one,https://example.com/imported/one,Imported one,dash-imported,5",
    'dash-imp-two,https://example.com/imported/two,,"dash-imported,dash-more",',
    "admin,https://example.com/imported/bad,,,",
  ].join("\n");
  await page.setInputFiles("#import-file", { name: "links.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.click("#import-form button[type=submit]");
  await page.waitForSelector("#import-results:not([hidden])");
  assert.match(await page.textContent("#import-summary"), /^2 created, 0 updated, 0 already existed \(left as they were\), 1 refused\./);
  const rows = await page.$$eval("#import-table tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => r.slice(0, 2)), [["dash-imp-one", "created"], ["dash-imp-two", "created"], ["admin", "rejected"]]);
  assert.match(rows[0][2], /\/admin\//);
  assert.match(rows[2][2], /reserved/);
  const one = await w.row("dash-imp-one");
  assert.equal(one.target_url, "https://example.com/imported/one");
  assert.equal(one.clicks, 5);
  assert.equal((await w.visit("dash-imp-two")).status, 302);

  // Export: the downloaded JSON Lines hold the imported links and end complete.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
  assert.match(download.suggestedFilename(), /^links-\d{4}-\d{2}-\d{2}\.jsonl$/);
  const exported = readFileSync(await download.path(), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const keys = exported.map((l) => l.key);
  assert.ok(keys.includes("dash-imp-one") && keys.includes("dash-imp-two"));
  assert.equal(exported.at(-1).export, "complete");
  assert.equal(exported.find((l) => l.key === "dash-imp-two").tags.join(), "dash-imported,dash-more");
  assert.match(await page.textContent("#export-status"), /^Downloaded \d+ links/);
  // The export is a file this page imports: every link in it exists already.
  await page.setInputFiles("#import-file", await download.path());
  await page.click("#import-form button[type=submit]");
  const total = exported.length - 1;
  await page.waitForFunction((n) => document.getElementById("import-summary").textContent.startsWith(`0 created, 0 updated, ${n} already existed`), total);

  // A key made on the page: its token shown once, with a copy button, and it works.
  await page.fill("#key-name", "Made in the browser");
  await page.selectOption("#key-role", "reader");
  await page.click("#key-form button[type=submit]");
  await page.waitForSelector("#new-key:not([hidden])");
  const token = await page.textContent("#new-key-token");
  assert.match(token, /^sk_/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), "new-key-copy");
  await page.click("#new-key-copy");
  await page.waitForFunction(() => document.getElementById("new-key-copied").textContent === "Copied the token.");
  assert.equal((await w.operator("/api/links?limit=1", { token })).status, 200);
  assert.match(await page.textContent("#keys-table"), /Made in the browser/);
  // Shown only once: after a reload the token is nowhere on the page.
  await page.reload();
  await page.waitForSelector("#keys-table tbody tr");
  assert.ok(!(await page.content()).includes(token));

  // Revoking it (asks first) makes it fail.
  page.once("dialog", (d) => d.accept());
  await page.click('button[aria-label="Revoke Made in the browser"]');
  await page.waitForFunction(() => /^Revoked “Made in the browser”/.test(document.getElementById("keys-status").textContent));
  assert.equal((await w.operator("/api/links?limit=1", { token })).status, 401);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a reader key sees the links but no write actions; a stats key and a revoked key are refused in words", { skip }, async () => {
  await operatorLinks([{ target_url: "https://example.com/dash/reader", custom_key: "dash-reader-sees" }]);
  const reader = await apiKey("reader for the page", "reader");
  const { page, context, errors } = await newPage();
  await signIn(page, reader);
  assert.match(await page.textContent("#whoami"), /reader key/);
  assert.ok((await listed(page)).includes("dash-reader-sees"));
  for (const hidden of ["#bulk", "#import-form", "#keys"]) assert.ok(await page.isHidden(hidden), `${hidden} is shown to a reader`);
  assert.ok(await page.isVisible("#export"));

  // Revoked while signed in: the next call sends the page back to sign in, saying why.
  const id = (await (await w.operator("/api/keys")).json()).keys.find((k) => k.name === "reader for the page").id;
  assert.equal((await w.operator(`/api/keys/${id}`, { method: "DELETE" })).status, 200);
  await page.click("#filters button[type=submit]");
  await page.waitForSelector("#signin:not([hidden])");
  assert.match(await page.textContent("#signin-status"), /no longer accepted/);

  // A stats key cannot list links, and is told so.
  const stats = await apiKey("stats for the page", "stats");
  await page.fill("#token", stats);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#token-error:not([hidden])");
  assert.match(await page.textContent("#token-error"), /role \(stats\).*cannot list links/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a creator key sees and changes only the links it created", { skip }, async () => {
  const creator = await apiKey("creator for the page", "creator");
  const made = await w.operator("/api/links/bulk", { method: "POST", token: creator, json: [{ target_url: "https://example.com/dash/own", custom_key: "dash-creator-own", tags: ["dash-own"] }] });
  assert.equal((await made.json()).results[0].status, 201);
  const { page, context, errors } = await newPage();
  await signIn(page, creator);
  assert.match(await page.textContent("#whoami"), /creator key/);
  await waitForListed(page, ["dash-creator-own"]);
  assert.ok(await page.isVisible("#bulk"));
  for (const hidden of ["#transfer", "#keys"]) assert.ok(await page.isHidden(hidden), `${hidden} is shown to a creator`);
  // Removing a tag keeps the others (the link's tags are read before the PATCH).
  await page.check("#links-table tbody input[value=dash-creator-own]");
  await page.fill("#bulk-tag", "dash-second");
  await page.click("#bulk-tag-add");
  await page.waitForFunction(() => document.getElementById("bulk-status").textContent === "Tagged “dash-second” on 1 link.");
  await page.click("#bulk-tag-remove");
  await page.waitForFunction(() => document.getElementById("bulk-status").textContent === "Removed “dash-second” from 1 link.");
  assert.deepEqual((await (await w.operator("/api/links/dash-creator-own")).json()).tags, ["dash-own"]);
  page.once("dialog", (d) => d.accept());
  await page.click("#bulk-deactivate");
  await page.waitForFunction(() => document.getElementById("bulk-status").textContent === "Deactivated 1 link.");
  assert.equal((await w.visit("dash-creator-own")).status, 410);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the dashboard works by keyboard alone", { skip }, async () => {
  await operatorLinks([{ target_url: "https://example.com/dash/keyboard", custom_key: "dash-keyboard", title: "Keyboard only" }]);
  const { page, context, errors } = await newPage();
  await page.goto(`${base}/dashboard`);
  const tabTo = async (matches, limit = 40) => {
    for (let i = 0; i < limit; i++) {
      if (await page.evaluate(matches)) return;
      await page.keyboard.press("Tab");
    }
    assert.fail(`Tab never reached ${matches}`);
  };
  await tabTo(() => document.activeElement?.id === "token");
  await page.keyboard.type(ADMIN_TOKEN);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#board:not([hidden])");
  // Focus moves to the list, so the next Tab goes on from there.
  await page.waitForFunction(() => document.activeElement?.id === "links-title");
  await tabTo(() => document.activeElement?.id === "f-search");
  await page.keyboard.type("keyboard only");
  await page.keyboard.press("Enter");
  await waitForListed(page, ["dash-keyboard"]);
  await tabTo(() => document.activeElement?.value === "dash-keyboard");
  await page.keyboard.press("Space");
  assert.equal(await page.textContent("#selected-count"), "(1 selected)");
  // Back to the bulk actions, above the table.
  for (let i = 0; i < 20 && (await page.evaluate(() => document.activeElement?.id)) !== "bulk-deactivate"; i++) {
    await page.keyboard.press("Shift+Tab");
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), "bulk-deactivate");
  page.once("dialog", (d) => d.accept());
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.getElementById("bulk-status").textContent === "Deactivated 1 link.");
  assert.equal((await w.visit("dash-keyboard")).status, 410);
  // The focus ring is drawn on what has focus.
  await tabTo(() => document.activeElement?.id === "signout");
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), "none");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "token");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the dashboard fits a 375 px phone and passes axe-core, light and dark, signed out and in", { skip }, async () => {
  await operatorLinks([{ target_url: "https://example.com/dash/axe", custom_key: "dash-axe-listed", tags: ["dash-axe"] }]);
  const token = await apiKey("shown in the axe run", "creator");
  const found = [];
  for (const scheme of ["light", "dark"]) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${base}/dashboard`);
    await page.fill("#token", "wrong");
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("#token-error:not([hidden])");
    for (const v of await axeViolations(page)) found.push(`${scheme} signed out: ${v}`);
    await signIn(page, ADMIN_TOKEN);
    // Every panel as people see it: a selection, an import's results, a new key's token.
    await page.check("#links-table tbody tr:first-child input[type=checkbox]");
    await page.setInputFiles("#import-file", { name: "one.csv", mimeType: "text/csv", buffer: Buffer.from(`key,target_url\ndash-axe-${scheme},https://example.com/axe/${scheme}\n`) });
    await page.click("#import-form button[type=submit]");
    await page.waitForSelector("#import-results:not([hidden])");
    await page.fill("#key-name", `axe ${scheme}`);
    await page.click("#key-form button[type=submit]");
    await page.waitForSelector("#new-key:not([hidden])");
    for (const v of await axeViolations(page)) found.push(`${scheme} signed in: ${v}`);
    await page.screenshot({ path: `${SHOTS}dashboard-${scheme}.png`, fullPage: true });
    await context.close();
  }
  assert.deepEqual(found, []);

  // At 375 px the dashboard does not scroll sideways, for an admin and for a creator.
  const { page, context, errors } = await newPage({ width: 375, height: 812 });
  await signIn(page, ADMIN_TOKEN);
  assert.ok(await noHorizontalScroll(page), "the dashboard scrolls sideways at 375 px");
  assert.ok(await page.isVisible("#keys-table"));
  // With an import's results and a new key's token shown too.
  await page.setInputFiles("#import-file", { name: "phone.csv", mimeType: "text/csv", buffer: Buffer.from("key,target_url\ndash-phone,https://example.com/phone/a-rather-long-path-to-wrap\n") });
  await page.click("#import-form button[type=submit]");
  await page.waitForSelector("#import-results:not([hidden])");
  await page.fill("#key-name", "phone");
  await page.click("#key-form button[type=submit]");
  await page.waitForSelector("#new-key:not([hidden])");
  assert.ok(await noHorizontalScroll(page), "the dashboard's results scroll sideways at 375 px");
  await page.screenshot({ path: `${SHOTS}dashboard-phone.png`, fullPage: true });
  await page.screenshot({ path: `${SHOTS}dashboard-phone-top.png` });
  await page.click("#signout");
  await page.fill("#token", token);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#board:not([hidden])");
  assert.match(await page.textContent("#whoami"), /creator key/);
  assert.ok(await page.isHidden("#transfer"));
  assert.ok(await noHorizontalScroll(page), "the creator's dashboard scrolls sideways at 375 px");
  await page.goto(`${base}/`);
  assert.ok(await noHorizontalScroll(page), "home scrolls sideways at 375 px");
  assert.deepEqual(errors, []);
  await context.close();
});

// The admin page's settings (issue 15): every control of the owner's PATCH has a form,
// and what a form saves is what the API shows and what the short link then does.

const adminOf = (link) => link.admin_url.replace("http://localhost", base);
const ownerView = async (link) => (await w.showAdmin(link)).json();
const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";

/** Submits one settings form (or presses `button`) and waits for the page to come back saying so. */
async function save(page, form, button = `#${form} button[type=submit]`) {
  await Promise.all([page.waitForEvent("load"), page.click(button)]);
  assert.equal(await page.textContent(`#${form}-saved`), "Saved.");
}

/** Presses Tab until the focused element matches `selector`. */
async function tabTo(page, selector, limit = 300) {
  for (let i = 0; i < limit; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${selector}`);
}

test("the owner sets and clears every control from the admin page, and the short link obeys", { skip }, async () => {
  const link = await w.create({ target_url: `${targets}/controls` });
  const { key } = link;
  const { page, errors } = await newPage();
  await page.goto(adminOf(link));

  // A refused value is explained in the form's words, at its field.
  await page.fill("#max_clicks", "0");
  await page.click("#limits button[type=submit]");
  await page.waitForSelector("#limits-error:not([hidden])");
  assert.match(await page.textContent("#limits-error"), /^The click limit must be an integer from 1 to/);
  assert.equal(await page.getAttribute("#max_clicks", "aria-invalid"), "true");
  // Nothing changed is said so, without a request.
  await page.goto(adminOf(link));
  await page.click("#limits button[type=submit]");
  assert.match(await page.textContent("#limits-saved"), /Nothing to save/);

  // Start, expiry and click limit, in the reader's local time. A start still to come
  // holds the link back (404, "scheduled").
  const asUtc = (local) => page.evaluate((v) => new Date(v).toISOString().replace(/\.000Z$/, "Z"), local);
  await page.fill("#valid_since", "2030-06-01T09:00");
  await page.fill("#expires_at", "2031-01-01T10:00");
  await page.fill("#max_clicks", "1");
  await save(page, "limits");
  let shown = await ownerView(link);
  assert.equal(shown.valid_since, await asUtc("2030-06-01T09:00"));
  assert.equal(shown.expires_at, await asUtc("2031-01-01T10:00"));
  assert.equal(shown.max_clicks, 1);
  assert.equal(shown.state, "scheduled");
  assert.equal((await w.visit(key)).status, 404);
  // The page shows the saved values back, in local time.
  assert.equal(await page.inputValue("#expires_at"), "2031-01-01T10:00");
  assert.equal(await page.inputValue("#max_clicks"), "1");
  // Clearing the start lets it work; the click limit then stops it after one click.
  await page.fill("#valid_since", "");
  await save(page, "limits");
  assert.equal((await ownerView(link)).valid_since, undefined);
  assert.equal((await w.visit(key)).status, 302);
  await w.settleClicks(key, 1);
  await waitFor(async () => (await w.visit(key)).status === 410, { message: "the link to stop after its one click" });
  // Cleared, both: no expiry, no limit, and it redirects again.
  await page.fill("#expires_at", "");
  await page.fill("#max_clicks", "");
  await save(page, "limits");
  shown = await ownerView(link);
  assert.equal(shown.expires_at, null);
  assert.equal(shown.max_clicks, null);
  assert.equal((await w.visit(key)).status, 302);

  // How it redirects: status, dead-target mode, fallback, query forwarding, crawling.
  await page.selectOption("#redirect_status", "307");
  await page.selectOption("#dead_link_mode", "gone");
  await page.fill("#fallback_url", `${targets}/fallback`);
  await page.uncheck("#forward_query");
  await page.check("#crawlable");
  await save(page, "behaviour");
  shown = await ownerView(link);
  assert.equal(shown.redirect_status, 307);
  assert.equal(shown.dead_link_mode, "gone");
  assert.equal(shown.fallback_url, `${targets}/fallback`);
  assert.equal(shown.forward_query, false);
  assert.equal(shown.crawlable, true);
  let res = await w.visit(key, { query: "?from=page" });
  assert.equal(res.status, 307);
  assert.equal(res.headers.get("location"), `${targets}/controls`);
  assert.equal(res.headers.get("x-robots-tag"), null);
  await page.selectOption("#redirect_status", "");
  await page.selectOption("#dead_link_mode", "");
  await page.fill("#fallback_url", "");
  await page.check("#forward_query");
  await page.uncheck("#crawlable");
  await save(page, "behaviour");
  shown = await ownerView(link);
  assert.notEqual(shown.redirect_status, 307);
  assert.equal(shown.dead_link_mode, null);
  assert.equal(shown.fallback_url, undefined);
  assert.equal(shown.forward_query, true);
  assert.equal(shown.crawlable, undefined);
  res = await w.visit(key, { query: "?from=page" });
  assert.equal(res.status, shown.redirect_status);
  assert.equal(res.headers.get("location"), `${targets}/controls?from=page`);
  assert.equal(res.headers.get("x-robots-tag"), "noindex");

  // Title, tags and note.
  await page.fill("#title", "Spring launch");
  await page.fill("#tags", "Spring Sale, email");
  await page.fill("#note", "for the newsletter\nsecond line");
  await save(page, "about");
  shown = await ownerView(link);
  assert.equal(shown.title, "Spring launch");
  assert.deepEqual(shown.tags, ["spring-sale", "email"]);
  assert.equal(shown.note, "for the newsletter\nsecond line");
  assert.equal(await page.inputValue("#tags"), "spring-sale, email");
  for (const id of ["#title", "#tags", "#note"]) await page.fill(id, "");
  await save(page, "about");
  shown = await ownerView(link);
  assert.equal(shown.title ?? shown.tags ?? shown.note, undefined);

  // A password: the short link asks for it, and the page never shows it back.
  await page.fill("#new_password", "open sesame");
  await save(page, "password-form");
  assert.equal((await ownerView(link)).protected, true);
  assert.equal(await page.inputValue("#new_password"), "");
  assert.doesNotMatch(await page.content(), /open sesame/);
  assert.match(await page.textContent("#password-status"), /asks visitors for a password/);
  assert.equal((await w.visit(key)).status, 401);
  const visitor = await page.context().newPage();
  await visitor.goto(`${base}/${key}`);
  assert.match(await visitor.textContent("h1"), /protected/);
  assert.equal(await visitor.getAttribute("#password", "type"), "password");
  // The right password, typed into the form, lands on the target: the page's policy
  // lets its form lead off this origin.
  await visitor.fill("#password", "open sesame");
  await Promise.all([visitor.waitForURL(`${targets}/controls`), visitor.click("form button[type=submit]")]);
  assert.match(await visitor.textContent("h1"), /target \/controls/);
  await visitor.close();
  const passed = await w.visit(key, { headers: { "x-link-password": "open sesame" } });
  assert.equal(passed.status, 302);
  assert.equal(passed.headers.get("location"), `${targets}/controls`);
  // Removing it asks first.
  page.once("dialog", (d) => d.accept());
  await save(page, "password-form", "#remove-password");
  assert.equal((await ownerView(link)).protected, undefined);
  assert.equal((await w.visit(key)).status, 302);

  // A targeting rule: a matching visitor (a phone in Germany) goes to its target. A
  // rule without a condition, or with a country that is none, is explained in words.
  await page.click("#add-rule");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "rule-new1-target");
  await page.fill("#rule-new1-target", `${targets}/for-german-phones`);
  await page.click("#rules-form button[type=submit]");
  await page.waitForSelector("#rules-form-error:not([hidden])");
  assert.match(await page.textContent("#rules-form-error"), /^Each rule needs a condition besides its target/);
  await page.fill("#rule-new1-country", "Germany");
  await page.click("#rules-form button[type=submit]");
  await page.waitForFunction(() => /^A rule's country 'GERMANY' is not a two-letter code/.test(document.getElementById("rules-form-error").textContent));
  await page.fill("#rule-new1-country", "de, at");
  await page.check("#rule-new1-device-mobile");
  await save(page, "rules-form");
  shown = await ownerView(link);
  assert.equal(shown.rules.length, 1);
  assert.equal(shown.rules[0].target_url, `${targets}/for-german-phones`);
  assert.deepEqual([shown.rules[0].when.country].flat(), ["DE", "AT"]);
  assert.deepEqual([shown.rules[0].when.device].flat(), ["mobile"]);
  assert.equal((await w.visit(key, { country: "DE", userAgent: IPHONE })).headers.get("location"), `${targets}/for-german-phones`);
  assert.equal((await w.visit(key, { country: "FR", userAgent: IPHONE })).headers.get("location"), `${targets}/controls`);
  // The saved rule is shown back, and removing it takes it off.
  assert.equal(await page.inputValue("#rule-1-country"), "DE, AT");
  assert.ok(await page.isChecked("#rule-1-device-mobile"));
  await page.click("#rules-list .remove-rule");
  assert.equal(await page.locator("#rules-list li").count(), 0);
  await save(page, "rules-form");
  assert.equal((await ownerView(link)).rules, undefined);
  assert.equal((await w.visit(key, { country: "DE", userAgent: IPHONE })).headers.get("location"), `${targets}/controls`);

  // An A/B split: visitors go to one of its targets.
  await page.fill("#variant-1-target", `${targets}/a`);
  await page.fill("#variant-1-weight", "1");
  await page.fill("#variant-2-target", `${targets}/b`);
  await page.fill("#variant-2-weight", "3");
  await page.fill("#sticky_days", "2");
  await save(page, "split-form");
  shown = await ownerView(link);
  assert.deepEqual(shown.split, { variants: [{ target_url: `${targets}/a`, weight: 1 }, { target_url: `${targets}/b`, weight: 3 }], sticky_seconds: 2 * 86400 });
  assert.ok([`${targets}/a`, `${targets}/b`].includes((await w.visit(key)).headers.get("location")));
  await save(page, "split-form", "#remove-split");
  assert.equal((await ownerView(link)).split, undefined);
  assert.equal((await w.visit(key)).headers.get("location"), `${targets}/controls`);

  // A social card: what a chat app's preview shows instead of the redirect.
  await page.fill("#card_title", "Spring <launch>");
  await page.fill("#card_description", "All the news");
  await save(page, "card-form");
  res = await w.visit(key, { userAgent: SLACK });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<meta property="og:title" content="Spring &lt;launch&gt;">/);
  await page.fill("#card_title", "");
  await page.fill("#card_description", "");
  await save(page, "card-form");
  assert.equal((await w.visit(key, { userAgent: SLACK })).status, 302);

  // A new key: the link answers under it, and the old one still works.
  await page.fill("#new_key", `renamed-${key}`);
  await save(page, "rename");
  assert.equal((await ownerView(link)).key, `renamed-${key}`);
  assert.equal((await w.visit(`renamed-${key}`)).status, 302);
  assert.equal((await w.visit(key)).status, 302);
  assert.deepEqual(errors, []);
});

test("check now shows the target's health in words, and a second check at once says when to try again", { skip }, async () => {
  const link = await w.create({ target_url: "https://health.example/page" });
  const { page, errors } = await newPage();
  await page.goto(adminOf(link));
  assert.equal(await page.textContent("#health-state"), "Not checked yet");
  await page.click("#check-now");
  await page.waitForFunction(() => document.getElementById("check-status").textContent.startsWith("Checked just now"));
  assert.equal(await page.textContent("#health-state"), "Healthy");
  assert.equal(await page.textContent("#health"), "Healthy");
  assert.equal(await page.textContent("#health-code"), "200");
  assert.match(await page.getAttribute("#health-checked time", "datetime"), /^\d{4}-\d{2}-\d{2}T/);
  assert.equal((await ownerView(link)).health.state, "healthy");
  // The owner's checks are rationed: the page says so, and when to try again.
  await page.click("#check-now");
  await page.waitForFunction(() => /Try again in \d+ seconds?\./.test(document.getElementById("check-status").textContent));
  assert.match(await page.textContent("#check-status"), /^This link was checked moments ago/);
  // After a reload, the page shows the state the check recorded; a gone target says so.
  await page.reload();
  assert.equal(await page.textContent("#health-state"), "Healthy");
  const gone = await w.create({ target_url: "https://gone.example/page" });
  await page.goto(adminOf(gone));
  await page.click("#check-now");
  await page.waitForFunction(() => document.getElementById("check-status").textContent.startsWith("Checked just now"));
  assert.equal(await page.textContent("#health-state"), "Dead");
  assert.equal(await page.textContent("#health-reason"), "HTTP 404");
  assert.deepEqual(errors, []);
});

test("the chart's days show their clicks on hover; keyboard only, they take the focus and say them, and settings are changed and saved", { skip }, async () => {
  const link = await w.create({ target_url: `${targets}/keyboard` });
  await w.visit(link.key);
  await w.settleClicks(link.key, 1);
  const { page, errors } = await newPage();
  await page.goto(adminOf(link));
  // A pointer over a day shows its count too.
  await page.hover("svg.chart g.day:last-of-type .bar");
  assert.equal(await page.$eval("svg.chart g.day:last-of-type .tip", (t) => getComputedStyle(t).visibility), "visible");
  assert.match(await page.textContent("svg.chart g.day:last-of-type .tip"), /: 1 click$/);
  await page.mouse.move(0, 0);
  // The chart is one Tab stop: Tab lands on the latest day, the arrow keys and Home
  // move between days (each names its date and count and shows it while focused), and
  // the next Tab leaves the chart instead of walking through its 30 days.
  await tabTo(page, "svg.chart g.day");
  assert.ok(await page.evaluate(() => document.activeElement.matches("svg.chart g.day:last-of-type")));
  assert.match(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), /: 1 click, \d{4}-\d{2}-\d{2}$/);
  assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement.querySelector(".tip")).visibility), "visible");
  await page.keyboard.press("Home");
  assert.match(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), /^[A-Z][a-z]{2} \d{1,2}: 0 clicks, \d{4}-\d{2}-\d{2}$/);
  await page.keyboard.press("ArrowRight");
  assert.equal(await page.evaluate(() => [...document.querySelectorAll("svg.chart g.day")].indexOf(document.activeElement)), 1);
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector("svg.chart g.day:last-of-type .tip")).visibility), "hidden");
  await page.keyboard.press("End");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => Boolean(document.activeElement.closest("svg.chart"))), false);
  // A checkbox with Space, the form saved with Enter.
  await tabTo(page, "#crawlable");
  await page.keyboard.press("Space");
  await tabTo(page, "#behaviour button[type=submit]");
  await Promise.all([page.waitForEvent("load"), page.keyboard.press("Enter")]);
  assert.equal(await page.textContent("#behaviour-saved"), "Saved.");
  // The focus is back on the form that was saved.
  assert.equal(await page.evaluate(() => document.activeElement?.closest("form")?.id), "behaviour");
  assert.equal((await ownerView(link)).crawlable, true);
  // A text field typed into, the form saved with Space.
  await tabTo(page, "#title");
  await page.keyboard.type("Typed at the keyboard");
  await tabTo(page, "#about button[type=submit]");
  await Promise.all([page.waitForEvent("load"), page.keyboard.press("Space")]);
  assert.equal((await ownerView(link)).title, "Typed at the keyboard");
  // A rule added from the keyboard lands in its first field.
  await tabTo(page, "#add-rule");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "rule-new1-target");
  assert.deepEqual(errors, []);
});

test("at phone width (375 px) the admin page with every setting shown does not scroll sideways, and the chart's labels are legible", { skip }, async () => {
  const link = await w.create({
    target_url: "https://example.com/a/rather/long/path/that/must/wrap/on/a/small/screen?with=query&and=more",
    title: "A title that is rather long for a phone screen, to see it wrap",
    tags: ["spring-sale", "email"],
    note: "A private note",
    rules: [{ when: { device: "mobile", country: ["DE", "AT"], query: { name: "ref", value: "tw" } }, target_url: "https://example.com/a/long/path/for/german/phones" }],
    split: { variants: [{ target_url: "https://example.com/variant/a", weight: 70 }, { target_url: "https://example.com/variant/b", weight: 30 }] },
    password: "phone pass",
    social_card: { title: "Card", description: "A card", image: "https://example.com/card.png" },
    fallback_url: "https://example.com/fallback",
    max_clicks: 100,
  });
  await w.visit(link.key, { headers: { "x-link-password": "phone pass" } });
  await w.settleClicks(link.key, 1);
  const { page, context, errors } = await newPage({ width: 375, height: 812 });
  await page.goto(adminOf(link));
  assert.ok(await noHorizontalScroll(page), "admin page scrolls sideways at 375 px");
  await page.click("#add-rule");
  await page.click("#add-variant");
  assert.ok(await noHorizontalScroll(page), "admin page scrolls sideways at 375 px with a rule and a variant added");
  // The chart: counts on its gridlines, days along the bottom, all drawn at 13 px
  // (a scaled drawing put 6.5 px labels here).
  const ticks = await page.$$eval("svg.chart text.tick", (els) => els.map((e) => e.textContent));
  assert.deepEqual([ticks[0], ticks.at(-1)], ["0", "1 click"]);
  const labels = await page.$$eval("svg.chart text.label", (els) => els.map((e) => ({ text: e.textContent, height: e.getBoundingClientRect().height })));
  assert.equal(labels.length, 5);
  for (const l of labels) assert.ok(l.height >= 13, `label ${l.text} is ${l.height} px high`);
  const chart = await page.$eval("svg.chart", (svg) => svg.getBoundingClientRect().width);
  assert.ok(chart < 375);
  await page.screenshot({ path: `${SHOTS}admin-settings-phone.png`, fullPage: true });
  await context.close();
  assert.deepEqual(errors, []);
});

test("without JavaScript the plain settings forms still save, in UTC, and say what happened", { skip }, async () => {
  const link = await w.create({ target_url: `${targets}/no-script`, expires_at: "2031-01-01T10:00:30Z" });
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(adminOf(link));
  // The times are shown in UTC, and the page says so.
  assert.equal(await page.inputValue("#expires_at"), "2031-01-01T10:00");
  assert.match(await page.textContent("#limits-hint"), /UTC/);
  // A refused value comes back in the form's words, with the page's status.
  await page.fill("#max_clicks", "0");
  const refused = await Promise.all([page.waitForNavigation(), page.click("#limits button[type=submit]")]).then(([r]) => r);
  assert.equal(refused.status(), 400);
  assert.match(await page.textContent("#limits-error"), /^The click limit must be an integer from 1 to/);
  // A click limit saved; the expiry, not touched, keeps its seconds.
  await page.fill("#max_clicks", "4");
  await Promise.all([page.waitForNavigation(), page.click("#limits button[type=submit]")]);
  assert.equal(await page.textContent("#limits-saved"), "Saved.");
  let shown = await ownerView(link);
  assert.equal(shown.max_clicks, 4);
  assert.equal(shown.expires_at, "2031-01-01T10:00:30Z");
  // A box unticked, a title typed, a password set and removed.
  await page.uncheck("#forward_query");
  await Promise.all([page.waitForNavigation(), page.click("#behaviour button[type=submit]")]);
  assert.equal((await ownerView(link)).forward_query, false);
  await page.fill("#title", "Saved without script");
  await Promise.all([page.waitForNavigation(), page.click("#about button[type=submit]")]);
  assert.equal((await ownerView(link)).title, "Saved without script");
  await page.fill("#new_password", "no script");
  await Promise.all([page.waitForNavigation(), page.click("#password-form button[type=submit]")]);
  assert.equal(await page.textContent("#password-form-saved"), "Saved.");
  assert.equal((await w.visit(link.key)).status, 401);
  await Promise.all([page.waitForNavigation(), page.click("#remove-password")]);
  assert.equal((await ownerView(link)).protected, undefined);
  // Saved with nothing changed: said so.
  await Promise.all([page.waitForNavigation(), page.click("#about button[type=submit]")]);
  assert.match(await page.textContent("#about-saved"), /Nothing to save/);
  // The expiry cleared, in UTC.
  await page.fill("#expires_at", "");
  await Promise.all([page.waitForNavigation(), page.click("#limits button[type=submit]")]);
  shown = await ownerView(link);
  assert.equal(shown.expires_at, null);
  assert.equal(shown.max_clicks, 4);
  await context.close();
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
  const types = { css: /^text\/css/, js: /^text\/javascript/, svg: /^image\/svg\+xml/, png: /^image\/png/, webmanifest: /^application\/manifest\+json/ };
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

  // App icons: every page names the home-screen icon and the manifest, whose icons are
  // real PNGs of the sizes it says.
  const home = (await get("/", { accept: "text/html" })).text;
  assert.match(home, /<link rel="apple-touch-icon" href="\/static\/apple-touch-icon.png">/);
  assert.match(home, /<link rel="manifest" href="\/static\/site.webmanifest">/);
  const manifest = JSON.parse((await get("/static/site.webmanifest")).text);
  assert.equal(manifest.start_url, "/");
  for (const icon of [...manifest.icons, { src: "/static/apple-touch-icon.png", sizes: "180x180" }]) {
    const png = Buffer.from(await (await w.get(icon.src)).arrayBuffer());
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], icon.src);
    assert.equal(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`, icon.sizes, icon.src);
  }

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
