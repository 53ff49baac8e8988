// In a real browser (tests/browser.mjs), the dashboard's overview: the instance's
// clicks and visitors per day, top links, referrers, countries, devices, sources and
// campaigns for a chosen window, from GET /api/stats (the contract in docs/api.md),
// drawn with the link view's accessible chart; by keyboard, at 320 and 390 px, with
// axe-core light and dark.
//
// An instance whose worker has no GET /api/stats (it answers 404) shows a clear "not
// available" state instead; the test of the real overview is skipped only then, and
// the test of that state runs only then, so exactly one of the two runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "./harness.mjs";
import { browserSuite, openPage, noHorizontalScroll, axeViolations, tabTo, skip, ADMIN_TOKEN } from "./browser.mjs";

let w;
let browser;
let base;
browserSuite((suite) => ({ w, browser, base } = suite));

/** Whether this build's worker answers GET /api/stats with anything but 404. */
const statsServed = async () => (await w.operator("/api/stats?days=7")).status !== 404;

async function signIn(page) {
  await page.goto(`${base}/dashboard`);
  await page.fill("#token", ADMIN_TOKEN);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#board:not([hidden])");
}

/** The overview as the API answers it, for `params`. */
const overview = async (params) => (await w.operator(`/api/stats?${params}`)).json();

test("without GET /api/stats the overview says it is not available, and the rest of the dashboard works", { skip }, async (t) => {
  if (await statsServed()) return t.skip("this worker serves GET /api/stats; the next test reads the real overview");
  await w.create({ target_url: "https://example.com/ov/missing", custom_key: "ov-missing" });
  const { page, context, errors } = await openPage(browser);
  await signIn(page);
  await page.waitForFunction(() => /^The overview is not available/.test(document.getElementById("ov-status").textContent));
  assert.ok(await page.isHidden("#ov-body"));
  await page.waitForSelector("#links-table tbody tr");
  assert.deepEqual(await axeViolations(page), []);
  await context.close();
  assert.deepEqual(errors, []);
});

test("the overview shows the instance's clicks and visitors per day and its tops for a chosen window, by keyboard, at 320 and 390 px, light and dark", { skip }, async (t) => {
  if (!(await statsServed())) return t.skip("GET /api/stats answers 404 on this build (the overview's endpoint is not merged yet)");
  await w.create({ target_url: "https://example.com/ov/a", custom_key: "ov-top" });
  await w.create({ target_url: "https://example.com/ov/b", custom_key: "ov-second" });
  for (let i = 0; i < 3; i++) await w.visit("ov-top", { referer: "https://news.example/item", country: "DE" });
  await w.visit("ov-second", { country: "FR" });
  await w.settleClicks("ov-top", 3);
  await w.settleClicks("ov-second", 1);
  // The overview reads the service's rollups; upkeep folds what it has to.
  await waitFor(async () => {
    await w.upkeep();
    return (await overview("days=30")).clicks >= 4;
  }, { timeout: 20000, message: "the overview to count the four clicks" });
  const month = await overview("days=30");
  const week = await overview("days=7");

  for (const colorScheme of ["light", "dark"]) {
    for (const width of [320, 390]) {
      const at = `${colorScheme}, ${width} px`;
      const { page, context, errors } = await openPage(browser, { width, height: 800 }, { colorScheme });
      await signIn(page);
      await page.waitForSelector("#ov-body:not([hidden])");
      // The figures are the API's, the chart has a day per day of the window, and each
      // day is named with its clicks and visitors.
      assert.equal(await page.textContent("#ov-clicks"), String(month.clicks), at);
      assert.equal(await page.textContent("#ov-visitors"), String(month.visitors), at);
      assert.equal(await page.locator("#ov-chart svg.chart g.day").count(), month.by_day.length);
      const last = month.by_day.at(-1);
      assert.match(await page.getAttribute("#ov-chart svg.chart g.day:last-of-type", "aria-label"), new RegExp(`: ${last.clicks} clicks?, ${last.visitors} visitors?, ${last.date}$`));
      // The top link leads to its view in the dashboard, which counts no click.
      const tops = await page.$$eval("#ov-tops table", (tables) => tables.map((x) => x.innerText));
      assert.match(tops.join("\n"), /ov-top\s+3/);
      assert.match(tops.join("\n"), /news\.example\s+3/);
      assert.match(tops.join("\n"), /DE\s+3/);
      assert.ok(await noHorizontalScroll(page), `${at}: scrolls sideways`);
      assert.deepEqual(await axeViolations(page), [], at);
      // Keyboard only: the window chosen and shown, then the chart's days by arrows.
      await tabTo(page, "#ov-days");
      await page.keyboard.press("Home");
      await tabTo(page, "#overview-form button[type=submit]");
      await page.keyboard.press("Enter");
      await page.waitForFunction((n) => document.querySelectorAll("#ov-chart svg.chart g.day").length === n, week.by_day.length);
      assert.equal(await page.textContent("#ov-clicks"), String(week.clicks));
      await tabTo(page, "#ov-chart svg.chart g.day");
      await page.keyboard.press("ArrowLeft");
      assert.equal(await page.evaluate(() => [...document.querySelectorAll("#ov-chart g.day")].indexOf(document.activeElement)), week.by_day.length - 2);
      assert.deepEqual(await axeViolations(page), [], `${at}, 7 days`);
      const visits = (await w.row("ov-top")).clicks;
      await page.click("#ov-tops a[href$='/ov-top']");
      await page.waitForFunction(() => document.getElementById("view-title").textContent === "Link ov-top");
      assert.equal((await w.row("ov-top")).clicks, visits, "opening the top link counted a click");
      await context.close();
      assert.deepEqual(errors, [], at);
    }
  }
});
