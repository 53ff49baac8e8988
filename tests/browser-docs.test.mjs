// In a real browser (tests/browser.mjs), the API reference at /docs (its Markdown,
// contents, phone width without script) and the console at /docs/try, which loads the
// OpenAPI document and makes an authorized call.
import { test } from "node:test";
import assert from "node:assert/strict";
import { browserSuite, openPage, noHorizontalScroll, axeViolations, skip, SHOTS, ADMIN_TOKEN } from "./browser.mjs";

let w;
let browser;
let base;
let targets;
browserSuite((suite) => ({ w, browser, base, targets } = suite));
const newPage = (viewport) => openPage(browser, viewport);

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
  // Each section folds under its heading, without script: the page gets shorter.
  const tall = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.click("details.section > summary:has(#schemas)");
  assert.equal(await page.evaluate(() => document.querySelector("details.section:has(#schemas)").open), false);
  for (const summary of await page.$$("details.section[open] > summary")) await summary.click();
  const short = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(short < tall / 4, `folding every section left ${short} of ${tall} px`);
  await noScript.close();
});

test("the API console loads the OpenAPI document and makes an authorized call", { skip }, async () => {
  const link = await w.create({ target_url: "https://example.com/console/listed", custom_key: "console-listed" });
  const { page, errors, context } = await newPage();
  const calls = [];
  page.on("request", (r) => calls.push(r));
  await page.goto(`${base}/docs/try`);
  await page.waitForSelector("#swagger-ui .opblock");
  assert.ok(await page.locator("#operations-Operator_links-listLinks").count());
  // Operations are grouped by the document's tags; none is left under "default".
  assert.equal(await page.locator("[id^='operations-default-']").count(), 0);
  assert.deepEqual(await page.$$eval(".opblock-tag-section h3 .nostyle span", (s) => s.map((x) => x.textContent)), ["Links", "Owner", "Operator links", "Keys and audit", "Domains", "Service"]);

  // Authorize with the operator's token.
  await page.click("button.authorize");
  await page.fill(".auth-container input", ADMIN_TOKEN);
  await page.click(".auth-btn-wrapper button.authorize");
  // The dialog, and below the page after the call, pass axe-core too.
  assert.deepEqual(await axeViolations(page), [], "the authorization dialog");
  await page.click(".auth-btn-wrapper button.btn-done");

  // GET /api/links, executed from the page against this worker.
  await page.click("#operations-Operator_links-listLinks .opblock-summary-control");
  await page.click("#operations-Operator_links-listLinks button.execute");
  const status = page.locator("#operations-Operator_links-listLinks .live-responses-table tr.response .response-col_status").first();
  await status.waitFor();
  assert.equal((await status.textContent()).trim(), "200");
  const sent = calls.find((r) => new URL(r.url()).pathname === "/api/links");
  assert.ok(sent, "the console called /api/links");
  assert.equal(new URL(sent.url()).origin, base);
  assert.equal(sent.headers().authorization, `Bearer ${ADMIN_TOKEN}`);
  assert.match(await page.textContent("#operations-Operator_links-listLinks .live-responses-table"), new RegExp(link.key));
  assert.deepEqual(await axeViolations(page), [], "the console after a call");
  // Nothing left the origin, and the CSP refused nothing.
  assert.deepEqual(calls.map((r) => new URL(r.url()).origin).filter((o) => o !== base), []);
  assert.deepEqual(errors, []);
  await page.screenshot({ path: `${SHOTS}api-console.png`, fullPage: true });
  await context.close();
});
