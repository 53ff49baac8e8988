// Black-box tests of the link controls of issue 11 (title, tags and note, validity
// window and fallback, targeting rules, A/B split, renames, crawlability, statistics per
// rule or variant), through HTTP against the built wasm under Miniflare.
// One worker for the file (and one with low password limits): each test uses only the
// links it creates; the tag totals test uses tags no other test uses.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readJson, waitFor, workerForFile } from "./harness.mjs";

const w = await workerForFile({ vars: { ADMIN_TOKEN: "controls-token-0123456789abcdef" } });
// Its own worker: low password attempt limits, so the limits are reached in a test.
const locked = await workerForFile({
  vars: { COOKIE_SECRET: "test-cookie-secret", PASSWORD_ATTEMPTS_PER_LINK: "5", PASSWORD_ATTEMPTS_PER_CLIENT: "3" },
});

const inSeconds = (s) => new Date(Date.now() + s * 1000).toISOString();
const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
const ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36";
const DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";

describe("title, tags and note", () => {
  test("are set at creation, normalized, shown back, and changed by PATCH", async () => {
    const link = await w.create({
      target_url: "https://example.com/titled",
      title: "  Spring launch ",
      tags: ["Spring Sale", "spring-sale", "EMAIL"],
      note: "for the newsletter\nsecond line",
    });

    assert.equal(link.title, "Spring launch");
    assert.deepEqual(link.tags, ["spring-sale", "email"]);
    assert.equal(link.note, "for the newsletter\nsecond line");
    const patched = await readJson(w.patch(link, { title: null, tags: ["q4"] }));
    assert.equal(patched.title, undefined);
    assert.deepEqual(patched.tags, ["q4"]);
    assert.equal(patched.note, "for the newsletter\nsecond line");
  });

  test("bad values answer 400 naming the field, mistyped ones 422", async () => {
    const base = { target_url: "https://example.com/" };
    const eleven = Array.from({ length: 11 }, (_, i) => `t${i}`);
    for (const [extra, field] of [
      [{ tags: eleven }, "tags"],
      [{ tags: ["no/slash"] }, "tags"],
      [{ title: "x".repeat(201) }, "title"],
      [{ title: "two\nlines" }, "title"],
      [{ valid_since: "later" }, "valid_since"],
      [{ fallback_url: "javascript:alert(1)" }, "fallback_url"],
      [{ rules: [{ when: {}, target_url: "https://a.example/" }] }, "rules"],
      [{ rules: [{ when: { device: "mobile" }, target_url: "http://localhost/" }] }, "rules[].target_url"],
      [{ split: { variants: [{ target_url: "https://a.example/", weight: 1 }] } }, "split"],
    ]) {
      const res = await w.tryCreate({ ...base, ...extra });

      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.match((await res.json()).detail, new RegExp(field.replace(/[[\]]/g, "\\$&")));
    }
    for (const extra of [{ tags: "one" }, { title: 5 }, { crawlable: "yes" }]) {
      assert.equal((await w.tryCreate({ ...base, ...extra })).status, 422, JSON.stringify(extra));
    }
  });

  test("the operator lists by tag, searches title and target, and totals each tag", async () => {
    const a = await w.create({ target_url: "https://shop.example/boots", title: "Winter boots", tags: ["ctl-winter", "ctl-shoes"] });
    const b = await w.create({ target_url: "https://shop.example/sandals", tags: ["ctl-shoes"] });
    await w.create({ target_url: "https://other.example/", title: "Unrelated" });
    await w.visit(a.key);
    await w.visit(a.key);
    await w.visit(b.key);
    await w.settleClicks(a.key, 2);
    await w.settleClicks(b.key, 1);

    const byTag = await readJson(w.operator("/api/links?tag=CTL-Shoes"));
    const bySearch = await readJson(w.operator("/api/links?search=winter%20BOOTS"));
    const byTarget = await readJson(w.operator("/api/links?search=sandals"));
    const tags = await readJson(w.operator("/api/tags"));

    assert.deepEqual(byTag.links.map((l) => l.key).sort(), [a.key, b.key].sort());
    assert.deepEqual(bySearch.links.map((l) => l.key), [a.key]);
    assert.deepEqual(byTarget.links.map((l) => l.key), [b.key]);
    const ours = tags.tags.filter((t) => t.tag.startsWith("ctl-"));
    assert.deepEqual(ours, [
      { tag: "ctl-shoes", links: 2, clicks: 3 },
      { tag: "ctl-winter", links: 1, clicks: 2 },
    ]);
    assert.equal((await w.operator("/api/links?tag=no/slash")).status, 400);
  });
});

describe("the operator API", () => {
  test("bulk creation and the operator's PATCH take every control", async () => {
    const bulk = await readJson(
      w.operator("/api/links/bulk", {
        method: "POST",
        json: [
          { target_url: "https://example.com/bulk-a", title: "Bulk A", tags: ["Ops"], password: "pw", rules: [{ when: { device: "mobile" }, target_url: "https://example.com/bulk-m" }] },
          { target_url: "https://example.com/bulk-b", tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
        ],
      }),
    );
    const [ok, bad] = bulk.results;
    const key = ok.link.key;

    const patched = await readJson(
      w.operator(`/api/links/${key}`, {
        method: "PATCH",
        json: { password: null, split: { variants: [{ target_url: "https://example.com/x", weight: 1 }, { target_url: "https://example.com/y", weight: 1 }] } },
      }),
    );
    const row = await w.row(key);

    assert.equal(ok.status, 201);
    assert.equal(ok.link.protected, true);
    assert.deepEqual(ok.link.tags, ["ops"]);
    assert.equal(bad.status, 400);
    assert.match(bad.detail, /tags/);
    assert.equal(patched.protected, undefined);
    assert.equal(patched.split.variants.length, 2);
    assert.equal(patched.rules.length, 1, "a PATCH changes only the controls it names");
    assert.doesNotMatch(row.controls, /password_hash/);
  });
});

describe("validity window and fallback", () => {
  test("a link redirects only from valid_since on", async () => {
    const link = await w.create({ target_url: "https://example.com/later", valid_since: inSeconds(3600) });

    const early = await w.visit(link.key);
    assert.equal(early.status, 404);
    assert.match((await early.json()).detail, /not active yet/);
    assert.equal(link.state, "scheduled");
    await w.patch(link, { valid_since: null });
    assert.equal((await w.visit(link.key)).headers.get("location"), "https://example.com/later");
    assert.equal(await w.settleClicks(link.key, 1), 1);
  });

  test("an exhausted link with a fallback redirects there, counting nothing more", async () => {
    const link = await w.create({ target_url: "https://example.com/once", max_clicks: 1, fallback_url: "https://example.com/sold-out" });

    const first = await w.visit(link.key);
    const second = await w.visit(link.key);
    const plain = await w.create({ target_url: "https://example.com/once-plain", max_clicks: 1 });
    await w.visit(plain.key);

    assert.equal(first.headers.get("location"), "https://example.com/once");
    assert.equal(second.status, 302);
    assert.equal(second.headers.get("location"), "https://example.com/sold-out");
    assert.equal((await w.visit(plain.key)).status, 410);
    assert.equal(await w.clicks(link.key), 1);
  });

  test("an expired link with a fallback redirects there, from the cache too", async () => {
    // The rule must be cached by a visit before the expiry, and then expire in the
    // cache: real time has to pass. Expiries are whole seconds, so a lifetime can be
    // shorter than asked; a first visit that came too late (a busy machine) tries again
    // with a longer one instead of failing.
    for (const seconds of [2, 5, 15]) {
      const link = await w.create({ target_url: `https://example.com/soon-gone-${seconds}`, expires_at: inSeconds(seconds), fallback_url: "https://example.com/archive" });
      const expiresAt = Date.parse(link.expires_at);
      const first = await w.visit(link.key);
      // The first visit caches the rule in the isolate (KV keeps nothing that lives
      // under its 60 s minimum); a first visit after the expiry would prove nothing.
      if (first.headers.get("location") !== link.target_url) continue;

      // The link's lifetime must run out: wait for the clock, not a fixed time.
      await waitFor(() => Date.now() > expiresAt + 100, { timeout: seconds * 1000 + 1000, message: "the expiry" });
      const res = await w.visit(link.key);

      assert.equal(res.status, 302);
      assert.equal(res.headers.get("location"), "https://example.com/archive");
      return;
    }
    assert.fail("no first visit came before its link expired, even with 15 s");
  });
});

describe("targeting rules", () => {
  const rules = [
    { when: { os: "ios", country: "DE" }, target_url: "https://example.com/ios-de" },
    { when: { device: ["mobile", "tablet"] }, target_url: "https://example.com/mobile" },
    { when: { language: "fr" }, target_url: "https://example.com/fr" },
    { when: { query: { name: "ref", value: "tw" } }, target_url: "https://example.com/tw" },
    { when: { after: "2001-01-01T00:00:00Z", before: "2002-01-01T00:00:00Z" }, target_url: "https://example.com/past" },
  ];

  test("the first rule whose conditions all hold wins; none falls through to the target", async () => {
    const link = await w.create({ target_url: "https://example.com/default", rules, forward_query: false });
    const go = async (opts) => (await w.visit(link.key, opts)).headers.get("location");

    assert.equal(await go({ userAgent: IPHONE, country: "DE" }), "https://example.com/ios-de");
    assert.equal(await go({ userAgent: IPHONE, country: "US" }), "https://example.com/mobile");
    assert.equal(await go({ userAgent: ANDROID, country: "DE" }), "https://example.com/mobile");
    assert.equal(await go({ userAgent: DESKTOP, headers: { "accept-language": "fr-CA,fr;q=0.9,en;q=0.5" } }), "https://example.com/fr");
    assert.equal(await go({ userAgent: DESKTOP, headers: { "accept-language": "en, fr;q=0" } }), "https://example.com/default");
    assert.equal(await go({ userAgent: DESKTOP, query: "?x=1&ref=tw" }), "https://example.com/tw");
    assert.equal(await go({ userAgent: DESKTOP, query: "?ref=fb" }), "https://example.com/default");
    assert.equal(await go({ userAgent: "curl/8.5.0", country: "DE" }), "https://example.com/default");
  });

  test("rules travel in the cached rule, and a PATCH of them takes effect at once", async () => {
    const link = await w.create({ target_url: "https://example.com/d2", rules: [rules[1]] });
    await w.visit(link.key, { userAgent: IPHONE });
    const cached = await w.waitUntilCached(link.key);
    assert.match(cached, /example\.com\/mobile/);

    await w.patch(link, { rules: [{ when: { device: "mobile" }, target_url: "https://example.com/mobile-v2" }] });
    assert.equal((await w.visit(link.key, { userAgent: IPHONE })).headers.get("location"), "https://example.com/mobile-v2");
    await w.patch(link, { rules: null });
    assert.equal((await w.visit(link.key, { userAgent: IPHONE })).headers.get("location"), "https://example.com/d2");
  });

  test("statistics count the clicks each rule served", async () => {
    const link = await w.create({ target_url: "https://example.com/d3", rules: rules.slice(0, 2) });
    await w.visit(link.key, { userAgent: IPHONE, country: "DE" });
    await w.visit(link.key, { userAgent: ANDROID });
    await w.visit(link.key, { userAgent: ANDROID });
    await w.visit(link.key, { userAgent: DESKTOP });
    await w.settleClicks(link.key, 4);

    const stats = await waitFor(async () => {
      const s = await readJson(w.stats(link));
      return s.served_by?.reduce((n, v) => n + v.clicks, 0) === 4 ? s : null;
    });

    assert.deepEqual(stats.served_by, [
      { via: "rule-2", clicks: 2 },
      { via: "default", clicks: 1 },
      { via: "rule-1", clicks: 1 },
    ]);
  });

  test("more than 20 rules are refused", async () => {
    const many = Array.from({ length: 21 }, () => rules[1]);

    const res = await w.tryCreate({ target_url: "https://example.com/", rules: many });

    assert.equal(res.status, 400);
    assert.match((await res.json()).detail, /at most 20/);
  });
});

describe("A/B split", () => {
  test("10,000 visits split by the weights (a false failure below one run in a million), and a returning visitor keeps their variant", async () => {
    const link = await w.create({
      target_url: "https://example.com/ab-default",
      split: {
        variants: [
          { target_url: "https://example.com/a", weight: 50 },
          { target_url: "https://example.com/b", weight: 30 },
          { target_url: "https://example.com/c", weight: 20 },
        ],
        sticky_seconds: 3600,
      },
    });
    const counts = {};
    const N = 10_000;
    for (let done = 0; done < N; done += 200) {
      const answers = await Promise.all(Array.from({ length: 200 }, () => w.visit(link.key)));
      for (const res of answers) {
        const target = res.headers.get("location");
        counts[target] = (counts[target] ?? 0) + 1;
      }
    }

    // Each share within a tolerance that correct code misses less than once in a
    // million runs, by Hoeffding's bound (no approximation): P(|share - weight| >= t)
    // <= 2 exp(-2 N t^2) per variant, so with a third of 1e-6 each, t = 0.028 at N =
    // 10,000. A split that ignored the weights (a third each) or swapped two of them
    // would miss by 0.1 or more.
    const FALSE_FAILURE = 1e-6;
    const variants = [["https://example.com/a", 0.5], ["https://example.com/b", 0.3], ["https://example.com/c", 0.2]];
    const t = Math.sqrt(Math.log(2 / (FALSE_FAILURE / variants.length)) / (2 * N));
    assert.ok(t < 0.03, `the tolerance ${t} is too loose to catch a wrong split`);
    for (const [target, weight] of variants) {
      const share = (counts[target] ?? 0) / N;
      assert.ok(Math.abs(share - weight) < t, `${target}: ${share} vs ${weight} (tolerance ${t.toFixed(4)})`);
    }
    const first = await w.visit(link.key);
    const cookie = first.headers.get("set-cookie");
    assert.match(cookie, new RegExp(`^ab_${link.key.replaceAll("-", "_")}=\\d; Max-Age=3600; Path=/${link.key}; HttpOnly; Secure; SameSite=Lax$`));
    const name = cookie.split(";")[0];
    for (let i = 0; i < 20; i++) {
      const again = await w.visit(link.key, { headers: { cookie: `other=1; ${name}` } });
      assert.equal(again.headers.get("location"), first.headers.get("location"));
      assert.equal(again.headers.get("set-cookie"), null, "a kept variant is not set again");
    }
  });
});

describe("rename", () => {
  test("both keys redirect and count to one link; the old key stays reserved", async () => {
    const link = await w.create({ target_url: "https://example.com/renamed", custom_key: "ctl-before" });
    await w.visit("ctl-before");
    await w.waitUntilCached("ctl-before");

    const renamed = await readJson(w.patch(link, { key: "ctl-after" }));
    const viaNew = await w.visit("ctl-after");
    const viaOld = await w.visit("ctl-before");

    assert.equal(renamed.key, "ctl-after");
    assert.equal(renamed.stats_key, "ctl-before");
    assert.equal(viaNew.headers.get("location"), "https://example.com/renamed");
    assert.equal(viaOld.headers.get("location"), "https://example.com/renamed");
    assert.equal(await w.settleClicks("ctl-after", 3), 3);
    assert.equal(await w.row("ctl-before"), null);
    assert.equal((await readJson(w.stats(link))).clicks, 3);
    assert.equal((await w.tryCreate({ target_url: "https://example.com/x", custom_key: "ctl-before" })).status, 409);
    const api = await readJson(w.operator("/api/links/ctl-before"));
    assert.equal(api.key, "ctl-after");
  });

  test("a rename to a taken key answers 409 and changes nothing; a later edit reaches the old key too", async () => {
    const taken = await w.create({ target_url: "https://example.com/taken", custom_key: "ctl-taken" });
    const link = await w.create({ target_url: "https://example.com/r2", custom_key: "ctl-r2" });
    await readJson(w.patch(link, { key: "ctl-r2-new" }));
    await w.visit("ctl-r2");
    await w.waitUntilCached("ctl-r2");

    const refused = await w.patch(link, { key: "ctl-taken", title: "should not land" });
    const edited = await readJson(w.patch(link, { target_url: "https://example.com/r2-v2" }));

    assert.equal(refused.status, 409);
    assert.equal(edited.title, undefined);
    assert.equal(edited.key, "ctl-r2-new");
    assert.equal((await w.visit("ctl-r2")).headers.get("location"), "https://example.com/r2-v2");
    assert.equal((await w.visit(taken.key)).headers.get("location"), "https://example.com/taken");
  });
});

describe("crawlability", () => {
  test("redirects say noindex unless the link is crawlable, and robots.txt allows only those", async () => {
    const plain = await w.create({ target_url: "https://example.com/hidden" });
    const open = await w.create({ target_url: "https://example.com/open", crawlable: true });

    const hidden = await w.visit(plain.key);
    const shown = await w.visit(open.key);
    const robots = await w.get("/robots.txt");
    const text = await robots.text();

    assert.equal(hidden.headers.get("x-robots-tag"), "noindex");
    assert.equal(shown.headers.get("x-robots-tag"), null);
    assert.equal(robots.status, 200);
    assert.match(text, new RegExp(`^Allow: /${open.key}\\$$`, "m"));
    assert.doesNotMatch(text, new RegExp(`/${plain.key}\\b`));
    assert.match(text, /^Disallow: \/$/m);
  });
});

describe("passwords", () => {
  const HTML = { accept: "text/html" };
  // Only link previews and mail scanners are kept from passing a password; an API
  // client (curl, the test client's own undici) sends X-Link-Password like a browser.

  test("an API client passes with X-Link-Password; a link preview never does", async () => {
    const link = await locked.create({ target_url: "https://example.com/for-curl", password: "pw for curl" });

    const curl = await locked.visit(link.key, { userAgent: "curl/8.5.0", headers: { "x-link-password": "pw for curl", "cf-connecting-ip": "10.9.0.1" } });
    const slack = await locked.visit(link.key, {
      userAgent: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
      headers: { "x-link-password": "pw for curl", "cf-connecting-ip": "10.9.0.2" },
    });

    assert.equal(curl.status, 302);
    assert.equal(curl.headers.get("location"), "https://example.com/for-curl");
    assert.equal(slack.status, 401);
    assert.ok(!(await slack.text()).includes("for-curl"));
  });

  test("a protected link asks for its password and reveals its target to no one else", async () => {
    const link = await locked.create({ target_url: "https://example.com/secret-place", password: "open sesame" });

    const api = await locked.visit(link.key);
    const page = await locked.visit(link.key, { headers: HTML });
    const body = await page.text();
    const peek = await readJson(locked.peek(link.key));
    const peekPage = await (await locked.get(`/${link.key}+`, HTML)).text();
    const row = await locked.row(link.key);

    assert.equal(link.protected, true);
    assert.equal(api.status, 401);
    assert.match((await api.json()).detail, /X-Link-Password/);
    assert.equal(page.status, 401);
    assert.match(body, /<form method="post">/);
    for (const shown of [body, JSON.stringify(peek), peekPage]) {
      assert.doesNotMatch(shown, /secret-place|open sesame|pbkdf2/);
    }
    assert.doesNotMatch(JSON.stringify(link), /open sesame|pbkdf2/, "the owner sees the target, never the password");
    assert.equal(peek.protected, true);
    assert.match(JSON.parse(row.controls).password_hash, /^pbkdf2-sha256\$100000\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    assert.doesNotMatch(row.controls, /open sesame/);
  });

  test("the right password redirects and counts once, wrong ones count nothing, and a signed cookie remembers it", async () => {
    const link = await locked.create({ target_url: "https://example.com/pw-ok", password: "right" });

    const wrong = await locked.visit(link.key, { userAgent: DESKTOP, headers: { "x-link-password": "wrong", "cf-connecting-ip": "10.0.0.1" } });
    const right = await locked.visit(link.key, { userAgent: DESKTOP, headers: { "x-link-password": "right", "cf-connecting-ip": "10.0.0.1" } });
    const cookie = right.headers.get("set-cookie");
    const pair = cookie.split(";")[0];
    const remembered = await locked.visit(link.key, { userAgent: DESKTOP, headers: { cookie: pair } });
    const [name, value] = pair.split("=");
    const forged = await locked.visit(link.key, { userAgent: DESKTOP, headers: { cookie: `${name}=${String(Number(value.split(".")[0]) + 9999)}.${value.split(".")[1]}` } });

    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).detail, "Wrong password");
    assert.equal(right.status, 302);
    assert.equal(right.headers.get("location"), "https://example.com/pw-ok");
    assert.match(cookie, new RegExp(`^pw_[a-z0-9_]+=\\d+\\.[0-9a-f]{64}; Max-Age=86400; Path=/${link.key}; HttpOnly; Secure; SameSite=Lax$`));
    assert.equal(remembered.status, 302);
    assert.equal(remembered.headers.get("set-cookie"), null);
    assert.equal(forged.status, 401);
    assert.equal(await locked.settleClicks(link.key, 2), 2);
  });

  test("the browser form posts the password back and lands on the target", async () => {
    const link = await locked.create({ target_url: "https://example.com/pw-form", password: "form pass", redirect_status: 308 });
    const form = { "content-type": "application/x-www-form-urlencoded", accept: "text/html", "cf-connecting-ip": "10.0.0.2", "user-agent": DESKTOP };

    const wrong = await locked.fetch(`/${link.key}`, { method: "POST", headers: form, body: "password=nope" });
    const right = await locked.fetch(`/${link.key}`, { method: "POST", headers: form, body: "password=form+pass" });

    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /Wrong password/);
    assert.equal(right.status, 302, "a 308 would repeat the POST at the target");
    assert.equal(right.headers.get("location"), "https://example.com/pw-form");
    assert.ok(right.headers.get("set-cookie"));
  });

  test("concurrent wrong attempts on one link stop at the link's limit, whatever their addresses", async () => {
    const link = await locked.create({ target_url: "https://example.com/pw-burst", password: "right" });

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => locked.visit(link.key, { userAgent: DESKTOP, headers: { "x-link-password": `guess-${i}`, "cf-connecting-ip": `10.1.0.${i}` } })),
    );
    const afterwards = await locked.visit(link.key, { userAgent: DESKTOP, headers: { "x-link-password": "right", "cf-connecting-ip": "10.1.1.1" } });

    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...Array(5).fill(401), ...Array(15).fill(429)]);
    assert.equal(afterwards.status, 429);
    assert.ok(Number(afterwards.headers.get("retry-after")) > 0);
  });

  test("concurrent wrong attempts from one client stop at the client's limit", async () => {
    const link = await locked.create({ target_url: "https://example.com/pw-client", password: "right" });

    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => locked.visit(link.key, { userAgent: DESKTOP, headers: { "x-link-password": `guess-${i}`, "cf-connecting-ip": "10.2.0.1" } })),
    );
    const otherClient = await locked.visit(link.key, { userAgent: DESKTOP, headers: { "x-link-password": "right", "cf-connecting-ip": "10.2.0.2" } });

    assert.deepEqual(answers.map((r) => r.status).sort(), [...Array(3).fill(401), ...Array(7).fill(429)]);
    assert.equal(otherClient.status, 302);
  });

  test("a link-preview bot never passes, even with the password; removing the password opens the link", async () => {
    const link = await locked.create({ target_url: "https://example.com/pw-bot", password: "right" });

    const bot = await locked.visit(link.key, { userAgent: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", headers: { "x-link-password": "right" } });
    await locked.patch(link, { password: null });
    const open = await locked.visit(link.key);

    assert.equal(bot.status, 401);
    assert.equal(open.status, 302);
  });
});

describe("honest counting and social cards", () => {
  const SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";
  const TWITTER = "Twitterbot/1.0";
  const MIMECAST = "Mozilla/5.0 (compatible; Mimecast/1.0)";

  test("a preview bot and a mail scanner on a max_clicks=1 link leave the click for the person", async () => {
    const link = await w.create({ target_url: "https://example.com/one-shot", max_clicks: 1 });

    const preview = await w.visit(link.key, { userAgent: SLACK });
    const scanner = await w.visit(link.key, { userAgent: MIMECAST });
    const person = await w.visit(link.key, { userAgent: DESKTOP });
    const late = await w.visit(link.key, { userAgent: DESKTOP });

    assert.equal(preview.status, 302);
    assert.equal(scanner.status, 302);
    assert.equal(person.status, 302);
    assert.equal(person.headers.get("location"), "https://example.com/one-shot");
    assert.equal(late.status, 410);
    const stats = await waitFor(async () => {
      const s = await readJson(w.stats(link));
      return s.bots_by_reason.length === 2 ? s : null;
    });
    assert.equal(stats.clicks, 1);
    assert.equal(stats.bots, 0);
    assert.deepEqual(stats.bots_by_reason, [
      { reason: "email-scanner", visits: 1 },
      { reason: "link-preview", visits: 1 },
    ]);
  });

  test("statistics say why bots came; previews are not clicks", async () => {
    const link = await w.create({ target_url: "https://example.com/reasons" });
    await w.visit(link.key, { userAgent: "curl/8.5.0" });
    await w.visit(link.key, { userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" });
    await w.visit(link.key, { userAgent: TWITTER });
    await w.visit(link.key, { userAgent: "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)" });
    await w.visit(link.key, { userAgent: DESKTOP });

    const stats = await waitFor(async () => {
      const s = await readJson(w.stats(link));
      return s.bots_by_reason.length === 4 ? s : null;
    }, { timeout: 15000 });

    assert.deepEqual(
      stats.bots_by_reason.map((b) => b.reason).sort(),
      ["command-line", "crawler", "link-preview", "uptime-monitor"],
    );
    assert.equal(stats.clicks, 4, "the preview is not a click");
    assert.equal(stats.bots, 3);
    assert.equal(stats.humans, 1);
  });

  test("a link-preview bot gets the link's own card instead of the redirect; people are redirected", async () => {
    const link = await w.create({
      target_url: "https://example.com/carded",
      social_card: { title: "Our <launch>", description: "All the news", image: "https://cdn.example.com/card.png" },
    });

    const bot = await w.visit(link.key, { userAgent: TWITTER });
    const html = await bot.text();
    const person = await w.visit(link.key, { userAgent: DESKTOP });

    assert.equal(bot.status, 200);
    assert.match(html, /<meta property="og:title" content="Our &lt;launch&gt;">/);
    assert.match(html, /<meta property="og:description" content="All the news">/);
    assert.match(html, /<meta property="og:image" content="https:\/\/cdn\.example\.com\/card\.png">/);
    assert.doesNotMatch(html, /example\.com\/carded/);
    assert.equal(person.status, 302);
    const bad = await w.tryCreate({ target_url: "https://example.com/", social_card: { image: "javascript:alert(1)" } });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).detail, /social_card\.image/);
  });

  test("a protected link's card names no target, and its preview passes no password", async () => {
    const link = await w.create({ target_url: "https://example.com/hidden-carded", password: "pw", social_card: { title: "Members only" } });

    const card = await w.visit(link.key, { userAgent: SLACK, headers: { "x-link-password": "pw" } });
    const html = await card.text();

    assert.equal(card.status, 200);
    assert.match(html, /Members only/);
    assert.doesNotMatch(html, /hidden-carded/);
  });
});
