// In a real browser (tests/browser.mjs), a link's admin page: every control set and
// cleared from its forms (what a form saves is what the API shows and what the short
// link then does), the target's check, the chart by mouse and keyboard, phone width,
// and the plain forms without script.
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "./harness.mjs";
import { browserSuite, openPage, noHorizontalScroll, tabTo, skip, SHOTS, axeViolations } from "./browser.mjs";

let w;
let browser;
let base;
let targets;
browserSuite((suite) => ({ w, browser, base, targets } = suite));
const newPage = (viewport, options) => openPage(browser, viewport, options);

// The admin page's settings (issue 15): every control of the owner's PATCH has a form,
// and what a form saves is what the API shows and what the short link then does.

const adminOf = (link) => link.admin_url.replace("http://localhost", base);
const ownerView = async (link) => (await w.showAdmin(link)).json();
const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";

/**
 * Presses the settings' one Save (or `button`) and waits for the form to say what it
 * saved; the page is not loaded again.
 */
async function save(page, button = "#settings-save") {
  await page.evaluate(() => (window.notReloaded = true));
  await page.click(button);
  await page.waitForFunction(() => /^Saved /.test(document.getElementById("settings-saved").textContent));
  assert.equal(await page.evaluate(() => window.notReloaded), true, "the page was loaded again");
}


test("the owner sets and clears every control from the admin page, and the short link obeys", { skip }, async () => {
  const link = await w.create({ target_url: `${targets}/controls` });
  const { key } = link;
  const { page, errors } = await newPage();
  await page.goto(adminOf(link));

  // A refused value is explained in the form's words, at its field.
  await page.fill("#max_clicks", "0");
  await page.click("#settings-save");
  await page.waitForSelector("#settings-error:not([hidden])");
  assert.match(await page.textContent("#settings-error"), /^The click limit must be an integer from 1 to/);
  assert.equal(await page.getAttribute("#max_clicks", "aria-invalid"), "true");
  // Nothing changed is said so, without a request.
  await page.goto(adminOf(link));
  await page.click("#settings-save");
  assert.match(await page.textContent("#settings-saved"), /Nothing to save/);

  // Start, expiry and click limit, in the reader's local time. A start still to come
  // holds the link back (404, "scheduled").
  const asUtc = (local) => page.evaluate((v) => new Date(v).toISOString().replace(/\.000Z$/, "Z"), local);
  await page.fill("#valid_since", "2030-06-01T09:00");
  await page.fill("#expires_at", "2031-01-01T10:00");
  await page.fill("#max_clicks", "1");
  await save(page);
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
  await save(page);
  assert.equal((await ownerView(link)).valid_since, undefined);
  assert.equal((await w.visit(key)).status, 302);
  await w.settleClicks(key, 1);
  await waitFor(async () => (await w.visit(key)).status === 410, { message: "the link to stop after its one click" });
  // Cleared, both: no expiry, no limit, and it redirects again.
  await page.fill("#expires_at", "");
  await page.fill("#max_clicks", "");
  await save(page);
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
  await save(page);
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
  await save(page);
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
  await save(page);
  shown = await ownerView(link);
  assert.equal(shown.title, "Spring launch");
  assert.deepEqual(shown.tags, ["spring-sale", "email"]);
  assert.equal(shown.note, "for the newsletter\nsecond line");
  assert.equal(await page.inputValue("#tags"), "spring-sale, email");
  for (const id of ["#title", "#tags", "#note"]) await page.fill(id, "");
  await save(page);
  shown = await ownerView(link);
  assert.equal(shown.title ?? shown.tags ?? shown.note, undefined);

  // A password: the short link asks for it, and the page never shows it back.
  await page.fill("#new_password", "open sesame");
  await save(page);
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
  await save(page, "#remove-password");
  assert.equal((await ownerView(link)).protected, undefined);
  assert.equal((await w.visit(key)).status, 302);

  // A targeting rule: a matching visitor (a phone in Germany) goes to its target. A
  // rule without a condition, or with a country that is none, is explained in words.
  await page.click("#add-rule");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "rule-new1-target");
  await page.fill("#rule-new1-target", `${targets}/for-german-phones`);
  await page.click("#settings-save");
  await page.waitForSelector("#settings-error:not([hidden])");
  assert.match(await page.textContent("#settings-error"), /^Each rule needs a condition besides its target/);
  await page.fill("#rule-new1-country", "Germany");
  await page.click("#settings-save");
  await page.waitForFunction(() => /^A rule's country 'GERMANY' is not a two-letter code/.test(document.getElementById("settings-error").textContent));
  await page.fill("#rule-new1-country", "de, at");
  await page.check("#rule-new1-device-mobile");
  await save(page);
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
  await save(page);
  assert.equal((await ownerView(link)).rules, undefined);
  assert.equal((await w.visit(key, { country: "DE", userAgent: IPHONE })).headers.get("location"), `${targets}/controls`);

  // An A/B split: visitors go to one of its targets.
  await page.fill("#variant-1-target", `${targets}/a`);
  await page.fill("#variant-1-weight", "1");
  await page.fill("#variant-2-target", `${targets}/b`);
  await page.fill("#variant-2-weight", "3");
  await page.fill("#sticky_days", "2");
  await save(page);
  shown = await ownerView(link);
  assert.deepEqual(shown.split, { variants: [{ target_url: `${targets}/a`, weight: 1 }, { target_url: `${targets}/b`, weight: 3 }], sticky_seconds: 2 * 86400 });
  assert.ok([`${targets}/a`, `${targets}/b`].includes((await w.visit(key)).headers.get("location")));
  await page.click("#remove-split");
  await save(page);
  assert.equal((await ownerView(link)).split, undefined);
  assert.equal((await w.visit(key)).headers.get("location"), `${targets}/controls`);

  // A social card: what a chat app's preview shows instead of the redirect.
  await page.fill("#card_title", "Spring <launch>");
  await page.fill("#card_description", "All the news");
  await save(page);
  res = await w.visit(key, { userAgent: SLACK });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<meta property="og:title" content="Spring &lt;launch&gt;">/);
  await page.fill("#card_title", "");
  await page.fill("#card_description", "");
  await save(page);
  assert.equal((await w.visit(key, { userAgent: SLACK })).status, 302);

  // A new key: the link answers under it, and the old one still works.
  await page.fill("#new_key", `renamed-${key}`);
  await save(page);
  assert.equal((await ownerView(link)).key, `renamed-${key}`);
  assert.equal((await w.visit(`renamed-${key}`)).status, 302);
  assert.equal((await w.visit(key)).status, 302);
  assert.deepEqual(errors, []);
});

test("keyboard only, at 320 and 390 px, light and dark: two sections edited with one Save send one PATCH and need no reload; deactivated and reactivated; axe finds nothing in any state", { skip }, async () => {
  for (const colorScheme of ["light", "dark"]) {
    for (const width of [320, 390]) {
      const at = `${colorScheme}, ${width} px`;
      const link = await w.create({ target_url: `${targets}/one-save` });
      const { page, context, errors } = await newPage({ width, height: 800 }, { colorScheme });
      const patches = [];
      page.on("request", (r) => r.method() === "PATCH" && patches.push(r.postDataJSON()));
      await page.goto(adminOf(link));
      assert.deepEqual(await axeViolations(page), [], `${at}: as loaded`);
      assert.ok(await noHorizontalScroll(page), `${at}: scrolls sideways`);
      // The summary at the top names what is set (here only the redirect status).
      assert.deepEqual(await page.$$eval("#settings-summary-list li", (l) => l.map((x) => x.textContent)), [`Redirect status: ${link.redirect_status}`]);
      await page.evaluate(() => (window.notReloaded = true));
      // The Link section's title and the Access section's click limit, typed, then one Save.
      await tabTo(page, "#title");
      await page.keyboard.type("Two sections");
      await tabTo(page, "#max_clicks");
      await page.keyboard.type("50");
      await tabTo(page, "#settings-save");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => /^Saved /.test(document.getElementById("settings-saved").textContent));
      assert.equal(await page.textContent("#settings-saved"), "Saved the title, the click limit.");
      assert.deepEqual(patches, [{ title: "Two sections", max_clicks: 50 }], `${at}: one PATCH of what changed`);
      assert.equal(await page.evaluate(() => window.notReloaded), true, `${at}: the page was loaded again`);
      const shown = await ownerView(link);
      assert.equal(shown.title, "Two sections");
      assert.equal(shown.max_clicks, 50);
      // The summary and the facts at the top follow without a reload.
      const summary = await page.$$eval("#settings-summary-list li", (l) => l.map((x) => x.textContent));
      assert.ok(summary.includes("Title: Two sections") && summary.includes("Click limit: 50"), summary.join(" | "));
      await page.waitForFunction(() => /Two sections/.test(document.querySelector("dl.facts").textContent));
      assert.match(await page.textContent("dl.facts"), /Click limit\s*50/);
      // Saving again at once: nothing changed, nothing sent.
      await page.keyboard.press("Enter");
      assert.match(await page.textContent("#settings-saved"), /^Nothing to save/);
      assert.equal(patches.length, 1);
      assert.deepEqual(await axeViolations(page), [], `${at}: after the save`);
      assert.ok(await noHorizontalScroll(page), `${at}: scrolls sideways after the save`);
      // Deactivated from the keyboard (after a confirmation): the link answers 410.
      page.once("dialog", (d) => d.accept());
      await tabTo(page, "button.danger[data-patch]");
      await Promise.all([page.waitForEvent("load"), page.keyboard.press("Enter")]);
      assert.equal(await page.textContent("#state"), "Deactivated");
      assert.equal((await w.visit(link.key)).status, 410);
      assert.deepEqual(await axeViolations(page), [], `${at}: deactivated`);
      // Reactivated: it redirects again, its settings kept.
      await tabTo(page, "button[data-patch]");
      await Promise.all([page.waitForEvent("load"), page.keyboard.press("Enter")]);
      assert.equal(await page.textContent("#state"), "Active");
      assert.equal((await w.visit(link.key)).status, 302);
      assert.equal((await ownerView(link)).title, "Two sections");
      assert.deepEqual(await axeViolations(page), [], `${at}: reactivated`);
      if (width === 390 && colorScheme === "dark") await page.screenshot({ path: `${SHOTS}admin-one-save-dark-390.png`, fullPage: false });
      await context.close();
      assert.deepEqual(errors, [], at);
    }
  }
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
  await tabTo(page, "#settings-save");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /^Saved /.test(document.getElementById("settings-saved").textContent));
  assert.equal(await page.textContent("#settings-saved"), "Saved search engine indexing.");
  // The focus stays in the form that was saved (no reload took it away).
  assert.equal(await page.evaluate(() => document.activeElement?.closest("form")?.id), "settings");
  assert.equal((await ownerView(link)).crawlable, true);
  // A text field typed into, the form saved with Space.
  await tabTo(page, "#title");
  await page.keyboard.type("Typed at the keyboard");
  await tabTo(page, "#settings-save");
  await page.keyboard.press("Space");
  await page.waitForFunction(() => document.getElementById("settings-saved").textContent === "Saved the title.");
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
  const refused = await Promise.all([page.waitForNavigation(), page.click("#settings-save")]).then(([r]) => r);
  assert.equal(refused.status(), 400);
  assert.match(await page.textContent("#settings-error"), /^The click limit must be an integer from 1 to/);
  // A click limit saved; the expiry, not touched, keeps its seconds.
  await page.fill("#max_clicks", "4");
  await Promise.all([page.waitForNavigation(), page.click("#settings-save")]);
  assert.equal(await page.textContent("#settings-saved"), "Saved.");
  let shown = await ownerView(link);
  assert.equal(shown.max_clicks, 4);
  assert.equal(shown.expires_at, "2031-01-01T10:00:30Z");
  // A box unticked, a title typed, a password set and removed.
  await page.uncheck("#forward_query");
  await Promise.all([page.waitForNavigation(), page.click("#settings-save")]);
  assert.equal((await ownerView(link)).forward_query, false);
  await page.fill("#title", "Saved without script");
  await Promise.all([page.waitForNavigation(), page.click("#settings-save")]);
  assert.equal((await ownerView(link)).title, "Saved without script");
  await page.fill("#new_password", "no script");
  await Promise.all([page.waitForNavigation(), page.click("#settings-save")]);
  assert.equal(await page.textContent("#settings-saved"), "Saved.");
  assert.equal((await w.visit(link.key)).status, 401);
  await Promise.all([page.waitForNavigation(), page.click("#remove-password")]);
  assert.equal((await ownerView(link)).protected, undefined);
  // Saved with nothing changed: said so.
  await Promise.all([page.waitForNavigation(), page.click("#settings-save")]);
  assert.match(await page.textContent("#settings-saved"), /Nothing to save/);
  // The expiry cleared, in UTC.
  await page.fill("#expires_at", "");
  await Promise.all([page.waitForNavigation(), page.click("#settings-save")]);
  shown = await ownerView(link);
  assert.equal(shown.expires_at, null);
  assert.equal(shown.max_clicks, 4);
  await context.close();
});
