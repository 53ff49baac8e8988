// End to end in a real browser: Debian's Chromium, driven by playwright-core, against
// the built worker served by Miniflare on 127.0.0.1. Shortens a link through the form,
// follows it, reads the admin page, changes the target, deactivates, and sees the 410
// page. Saves screenshots to tests/screenshots/ (git-ignored).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { chromium } from "playwright-core";
import { startWorker, refuseOutbound, waitFor } from "./harness.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SHOTS = new URL("./screenshots/", import.meta.url).pathname;
const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM}: install Debian's chromium package (make test does so when run as root)`;

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
  w = await startWorker({ host: "127.0.0.1", port: 0, outbound });
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
  const icon = await w.get("/favicon.svg");
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get("content-type"), "image/svg+xml");
  const adminPage = await w.get(new URL(admin).pathname, { accept: "text/html" });
  assert.match(await adminPage.text(), /<link rel="icon" href="\/favicon.svg"/);
  assert.equal(adminPage.headers.get("x-robots-tag"), "noindex, nofollow");
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
  // The first day of the chart, then on to the last: each names its date and count,
  // and shows its count while focused.
  await tabTo(page, "svg.chart g.day");
  assert.match(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), /^[A-Z][a-z]{2} \d{1,2}: 0 clicks, \d{4}-\d{2}-\d{2}$/);
  await tabTo(page, "svg.chart g.day:last-of-type");
  assert.match(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), /: 1 click, \d{4}-\d{2}-\d{2}$/);
  assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement.querySelector(".tip")).visibility), "visible");
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector("svg.chart g.day .tip")).visibility), "hidden");
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
