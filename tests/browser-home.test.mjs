// In a real browser (tests/browser.mjs), the home page and what follows from it: a
// person shortens a link through the form, follows it, reads its admin page, changes
// the target, deactivates it and sees the 410 page; the pages at phone width and
// without script; the links kept in this browser and the QR code saved as PNG.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { browserSuite, openPage, noHorizontalScroll, skip, SHOTS } from "./browser.mjs";

let w;
let browser;
let base;
let targets;
browserSuite((suite) => ({ w, browser, base, targets } = suite));
const newPage = (viewport) => openPage(browser, viewport);

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
  // Beside the button that was used; both copy buttons the same size.
  assert.equal(await page.evaluate(() => document.getElementById("copied").previousElementSibling?.id), "copy");
  const sizes = await page.$$eval("button[data-copy]", (bs) => bs.map((b) => `${Math.round(b.getBoundingClientRect().width)}x${Math.round(b.getBoundingClientRect().height)}`));
  assert.equal(new Set(sizes).size, 1, `copy buttons of different sizes: ${sizes}`);
  await page.click("button[data-copy=admin-url]");
  // The message follows the clipboard write, which the page awaits.
  await page.waitForFunction(() => document.getElementById("copied").textContent === "Copied: the admin link.");
  assert.equal(await page.evaluate(() => document.getElementById("copied").previousElementSibling?.dataset.copy), "admin-url");
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

  // A URL typed without its scheme gets https://, and the result card shows it.
  await page.fill("#target_url", "example.com/no-scheme/path");
  await page.click("button[type=submit]");
  await page.waitForSelector("#result:not([hidden])");
  assert.equal(await page.textContent("#result-target"), "https://example.com/no-scheme/path");
  const schemeless = (await page.textContent("#short-url")).split("/").pop();
  assert.equal((await (await w.peek(schemeless)).json()).target_url, "https://example.com/no-scheme/path");
  await page.click("#again");

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
