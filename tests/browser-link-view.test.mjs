// In a real browser (tests/browser.mjs), the dashboard as the operator's home: creating a
// link with every control, opening a link from the list without spending a click, its
// figures, health and history, editing two sections in one save, deactivating and
// reactivating; by keyboard alone, at 320 and 390 px, and through axe-core light and dark.
import { test } from "node:test";
import assert from "node:assert/strict";
import { browserSuite, openPage, noHorizontalScroll, axeViolations, skip, SHOTS, ADMIN_TOKEN } from "./browser.mjs";

let w;
let browser;
let base;
browserSuite((suite) => ({ w, browser, base } = suite));

async function signIn(page, token = ADMIN_TOKEN) {
  await page.goto(`${base}/dashboard`);
  await page.fill("#token", token);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#board:not([hidden])");
  await page.waitForSelector("#links-table tbody tr");
}

/** The link as the operator API answers it. */
const stored = async (key) => (await w.operator(`/api/links/${key}`)).json();

test("an operator creates a link with rules and a password from the dashboard, and the new link opens", { skip }, async () => {
  await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/lv/seed", custom_key: "lv-seed" }] });
  const { page, context, errors } = await openPage(browser);
  await signIn(page);
  await page.click("#create-open");
  await page.waitForSelector("#link-view:not([hidden])");
  assert.equal(await page.textContent("#view-title"), "Create link");
  assert.ok(await page.isHidden("#home-view"));
  assert.ok(await page.isHidden("#lf-nopassword"));
  // Every section of the grouped form is there.
  assert.deepEqual(await page.$$eval("#link-form fieldset.group > legend", (l) => l.map((x) => x.textContent)), ["Link", "Access", "Routing", "Appearance", "Health"]);
  for (const v of await axeViolations(page)) assert.fail(`create form: ${v}`);

  // No scheme typed: https:// is added, and shown.
  await page.fill("#lf-target_url", "example.com/lv/made");
  await page.fill("#lf-key", "lv-made");
  await page.fill("#lf-title", "Made in the dashboard");
  await page.fill("#lf-tags", "Spring Sale, lv");
  await page.fill("#lf-password", "open sesame");
  await page.fill("#lf-max_clicks", "50");
  await page.selectOption("#lf-redirect_status", "307");
  await page.click("#add-rule");
  await page.fill("#rules-list li:first-child [data-cond=target_url]", "https://example.com/lv/phone");
  await page.check("#rules-list li:first-child [data-cond=device][value=mobile]");
  await page.fill("#lf-card_title", "A card");
  await page.click("#lf-submit");

  // The new link opens in its own view, with its settings filled and summarized.
  await page.waitForFunction(() => document.getElementById("view-title").textContent === "Link lv-made" && !document.getElementById("view-facts").hidden);
  assert.match(page.url(), /#link\/[^/]+\/lv-made$/);
  assert.equal(await page.inputValue("#lf-target_url"), "https://example.com/lv/made");
  assert.equal(await page.inputValue("#lf-key"), "lv-made");
  assert.match(await page.textContent("#view-status"), /^Created .*\/lv-made\.$/);
  const summary = await page.$$eval("#lf-summary-list li", (l) => l.map((x) => x.textContent));
  for (const want of ["Title: Made in the dashboard", "Tags: spring-sale, lv", "Password protected", "Click limit: 50", "Redirect status: 307", "1 targeting rule", "Social card: A card"]) {
    assert.ok(summary.includes(want), `${want} in ${JSON.stringify(summary)}`);
  }
  const link = await stored("lv-made");
  assert.equal(link.target_url, "https://example.com/lv/made");
  assert.equal(link.protected, true);
  assert.equal(link.max_clicks, 50);
  assert.equal(link.redirect_status, 307);
  assert.deepEqual(link.tags, ["spring-sale", "lv"]);
  assert.deepEqual(link.rules, [{ when: { device: ["mobile"] }, target_url: "https://example.com/lv/phone" }]);
  assert.deepEqual(link.social_card, { title: "A card" });
  // A link with a password offers to remove it; a creation form never does.
  assert.ok(await page.isVisible("#lf-nopassword"));
  // Its figures, health and history are shown; creating and opening counted no click.
  await page.waitForSelector("#view-stats:not([hidden]) svg.chart");
  assert.equal(link.clicks, 0);
  assert.equal(await page.textContent("#view-health"), "Not checked yet");
  await page.waitForSelector("#history-list li");
  assert.match(await page.textContent("#history-list"), /Created/);
  for (const v of await axeViolations(page)) assert.fail(`link view: ${v}`);
  await page.screenshot({ path: `${SHOTS}dashboard-link.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test("a link opened from the list spends no click; two sections are saved in one PATCH; it is deactivated and reactivated there", { skip }, async () => {
  await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/lv/edit", custom_key: "lv-edit", title: "Before" }] });
  const { page, context, errors } = await openPage(browser);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signIn(page);
  // The list's copy button copies the short link and says so beside itself.
  const row = page.locator("#links-table tbody tr", { has: page.locator("input[value=lv-edit]") });
  await row.locator("button.copy").click();
  await page.waitForFunction(() => [...document.querySelectorAll("#links-table .copied")].some((c) => c.textContent === "Copied"));
  assert.equal(await row.locator(".copied").textContent(), "Copied");
  assert.match(await page.evaluate(() => navigator.clipboard.readText()), /\/lv-edit$/);
  // The key opens the link's view: no redirect followed, no click counted.
  await row.locator("a.open-link").click();
  await page.waitForFunction(() => document.getElementById("view-title").textContent === "Link lv-edit" && !document.getElementById("view-facts").hidden);
  assert.equal((await stored("lv-edit")).clicks, 0);

  // Two sections in one save: one PATCH carrying only what changed.
  const patches = [];
  page.on("request", (r) => r.method() === "PATCH" && patches.push(JSON.parse(r.postData())));
  await page.fill("#lf-title", "After");
  await page.fill("#lf-expires_at", "2031-05-01T10:00");
  await page.click("#lf-submit");
  await page.waitForFunction(() => /^Saved /.test(document.getElementById("lf-saved").textContent));
  assert.equal(patches.length, 1);
  assert.deepEqual(Object.keys(patches[0]).sort(), ["expires_at", "title"]);
  assert.equal(await page.textContent("#lf-saved"), "Saved the title, the expiry.");
  const after = await stored("lv-edit");
  assert.equal(after.title, "After");
  assert.equal(new Date(after.expires_at).getTime(), new Date(2031, 4, 1, 10, 0).getTime());
  // Saving again with nothing changed sends nothing.
  await page.click("#lf-submit");
  await page.waitForFunction(() => /^Nothing to save/.test(document.getElementById("lf-saved").textContent));
  assert.equal(patches.length, 1);
  // A refusal is reported at its field.
  await page.fill("#lf-key", "x");
  await page.click("#lf-submit");
  await page.waitForSelector("#lf-key-error:not([hidden])");
  assert.equal(await page.getAttribute("#lf-key", "aria-invalid"), "true");
  assert.match(await page.textContent("#lf-key-error"), /^The key must be 3 to 64 characters long/);
  await page.fill("#lf-key", "lv-edit");

  // Deactivate (asks first), then reactivate, from the view.
  page.once("dialog", (d) => d.accept());
  await page.click("#view-toggle");
  await page.waitForFunction(() => document.getElementById("view-state").textContent === "Deactivated");
  assert.equal((await w.visit("lv-edit")).status, 410);
  assert.equal(await page.textContent("#view-toggle"), "Reactivate");
  await page.click("#view-toggle");
  await page.waitForFunction(() => document.getElementById("view-state").textContent === "Active");
  assert.equal((await w.visit("lv-edit")).status, 302);
  await page.waitForFunction(() => /Reactivated/.test(document.getElementById("history-list").textContent));
  // The audit log's detail names the fields in its own order.
  assert.match(await page.textContent("#history-list"), /Changed (the title, the expiry|the expiry, the title)/);
  assert.match(await page.textContent("#history-list"), /Deactivated/);

  // Check now: the health pill follows, in the view and in the facts.
  await page.fill("#lf-target_url", "https://gone.example/x");
  await page.click("#lf-submit");
  await page.waitForFunction(() => /^Saved the target URL/.test(document.getElementById("lf-saved").textContent));
  await page.click("#vh-check");
  await page.waitForFunction(() => /^Checked just now/.test(document.getElementById("vh-status").textContent));
  const pill = await page.$eval("#view-health", (e) => [e.textContent, e.className]);
  assert.notEqual(pill[1], "pill health-healthy");
  assert.notEqual(pill[0], "Healthy");

  // Back to the list: the row shows the same pill.
  await page.click("#back");
  await page.waitForSelector("#home-view:not([hidden])");
  await page.waitForFunction(() => [...document.querySelectorAll("#links-table tbody tr")].some((r) => r.querySelector("input[value=lv-edit]") && r.querySelector(".pill[class*=health-]")));
  assert.deepEqual(errors, []);
  await context.close();
});

test("the link view and the creation form by keyboard alone, at 320 and 390 px, and through axe-core light and dark", { skip }, async () => {
  await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/lv/a-rather-long-path-that-has-to-wrap-on-a-phone", custom_key: "lv-phone", title: "On a phone" }] });
  // Keyboard only: Tab to "Create link", fill the target, Enter submits.
  {
    const { page, context, errors } = await openPage(browser);
    await signIn(page);
    for (let i = 0; i < 60 && !(await page.evaluate(() => document.activeElement?.id === "create-open")); i++) await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "create-open");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.activeElement?.id === "view-title");
    for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.id === "lf-target_url")); i++) await page.keyboard.press("Tab");
    await page.keyboard.type("example.com/lv/keyboard");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => /^Link /.test(document.getElementById("view-title").textContent) && document.activeElement?.id === "view-title");
    assert.equal(await page.inputValue("#lf-target_url"), "https://example.com/lv/keyboard");
    assert.deepEqual(errors, []);
    await context.close();
  }
  const found = [];
  for (const scheme of ["light", "dark"]) {
    for (const width of [320, 390]) {
      const { page, context, errors } = await openPage(browser, { width, height: 800 }, { colorScheme: scheme });
      await signIn(page);
      assert.ok(await noHorizontalScroll(page), `the list scrolls sideways at ${width} px`);
      // The list stays compact: a row no taller than a few lines.
      const tallest = await page.$$eval("#links-table tbody tr", (rows) => Math.max(...rows.map((r) => r.getBoundingClientRect().height)));
      assert.ok(tallest < 260, `a row is ${tallest} px tall at ${width} px`);
      for (const v of await axeViolations(page)) found.push(`${scheme} ${width} list: ${v}`);
      await page.click("#links-table a.open-link >> text=lv-phone");
      await page.waitForSelector("#view-stats:not([hidden])");
      await page.click("#add-rule");
      await page.click("#add-variant");
      assert.ok(await noHorizontalScroll(page), `the link view scrolls sideways at ${width} px`);
      for (const v of await axeViolations(page)) found.push(`${scheme} ${width} view: ${v}`);
      if (width === 390) await page.screenshot({ path: `${SHOTS}dashboard-link-${scheme}-phone.png`, fullPage: true });
      assert.deepEqual(errors, []);
      await context.close();
    }
  }
  assert.deepEqual(found, []);
});

test("a reader key opens a link's view read-only: figures and health, no form, no toggle, and the history says who may read it", { skip }, async () => {
  await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/lv/read", custom_key: "lv-read", title: "Read only" }] });
  const made = await w.operator("/api/keys", { method: "POST", json: { name: "link view reader", role: "reader" } });
  const { token } = await made.json();
  const { page, context, errors } = await openPage(browser);
  await signIn(page, token);
  assert.ok(await page.isHidden("#create-bar"));
  await page.click("#links-table a.open-link >> text=lv-read");
  await page.waitForSelector("#view-facts:not([hidden])");
  assert.ok(await page.isHidden("#link-form"));
  assert.ok(await page.isHidden("#view-toggle"));
  assert.ok(await page.isHidden("#vh-check"));
  await page.waitForSelector("#view-history:not([hidden])");
  assert.match(await page.textContent("#history-note"), /only an admin key reads/);
  // Typing #new by hand does not open the creation form for a reader.
  await page.evaluate(() => (location.hash = "#new"));
  await page.waitForFunction(() => !document.getElementById("home-view").hidden);
  assert.ok(await page.isHidden("#link-view"));
  assert.equal((await stored("lv-read")).clicks, 0);
  assert.deepEqual(errors, []);
  await context.close();
});
