// In a real browser (tests/browser.mjs), every kind of page the service serves, in
// the light and the dark colour scheme, through axe-core: no serious or critical
// violation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { browserSuite, openPage, axeViolations, skip, SHOTS } from "./browser.mjs";

let w;
let browser;
let base;
let targets;
browserSuite((suite) => ({ w, browser, base, targets } = suite));
const newPage = (viewport) => openPage(browser, viewport);

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
        for (const id of ["Operator_links-listLinks", "Links-createLink"]) {
          await page.click(`#operations-${id} .opblock-summary-control`);
          await page.waitForSelector(`#operations-${id} button.execute`);
        }
        await page.waitForSelector("#operations-Links-createLink textarea[aria-label]");
      }
      const result = await axeViolations(page);
      for (const v of result) found.push(`${scheme} ${name}: ${v}`);
      await page.screenshot({ path: `${SHOTS}${name.replace(" ", "-")}-${scheme}.png`, fullPage: true });
    }
    await context.close();
  }
  assert.deepEqual(found, []);
});
