// The weight and time to interactive of each page people open: the bytes of its HTML
// and of the scripts and stylesheets it names (same origin), as the built worker and
// its static assets serve them under Miniflare (tests/harness.mjs), raw and
// gzip-compressed; and, with --tti, the time until the page is interactive in
// Debian's Chromium (playwright-core), measured for this tree and, with --base <dir>,
// for another checkout's build (main's) in the same run, its loads interleaved with
// this tree's so that both meet the same machine load. Writes bench/weight.md (or
// prints with --print). Run after `make build` (and a build in <dir>):
//   node bench/weight.mjs [label] [--tti] [--base /work/main] [--runs 5]
//
// Time to interactive, as measured here (a lab figure in the spirit of Lighthouse's TTI,
// which looks for a 5-second window without long tasks and with at most two requests
// in flight): each load is a fresh browser context (nothing cached), on a 4x
// CPU-throttled main thread (Chromium's Emulation.setCPUThrottlingRate, roughly a
// mid-range phone), at 390 x 844. After DOMContentLoaded the page is watched until a
// quiet window of QUIET_MS passes with no long task (PerformanceObserver "longtask",
// over 50 ms) and no request in flight; TTI is then the latest of DOMContentLoaded's
// end, the end of the last long task and the end of the last response the page
// fetched (the dashboard's API calls that fill it count: it is not usable before
// them). The figure is the median of the runs. The dashboard is measured signed in
// (the key put in sessionStorage before the load), so its list and overview load.
import { execSync } from "node:child_process";
import { writeFileSync, readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { startWorker } from "../tests/harness.mjs";

const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};
const label = args.find((a, i) => !a.startsWith("--") && !["--base", "--runs"].includes(args[i - 1])) || "";
const withTti = args.includes("--tti");
const baseDir = option("--base");
const RUNS = Number(option("--runs") || 5);
const QUIET_MS = 1000;
const CPU_SLOWDOWN = 4;
const TOKEN = "weight-token";
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

const git = (dir, cmd) => execSync(`git -C ${dir} ${cmd}`).toString().trim();
const here = new URL("..", import.meta.url).pathname;
const commit = git(here, "rev-parse --short HEAD");
const dirty = git(here, "status --porcelain -- src site") ? "+uncommitted" : "";

/** A worker serving `root`'s build on 127.0.0.1, with one link to open the admin page of. */
async function serve(root) {
  const w = await startWorker({ root, host: "127.0.0.1", port: 0, vars: { ADMIN_TOKEN: TOKEN } });
  const made = await w.operator("/api/links/bulk", { method: "POST", json: [{ target_url: "https://example.com/weight", custom_key: "weight-page" }] });
  const created = (await made.json()).results?.[0];
  const secret = created?.secret_key ?? created?.link?.secret_key;
  const pages = [
    ["Home", "/"],
    ["Dashboard", "/dashboard"],
    ["Admin page", secret ? `/admin/${secret}` : null],
    ["API reference", "/docs"],
    ["API console", "/docs/try"],
  ].filter(([, path]) => path);
  return { w, origin: String(w.url).replace(/\/$/, ""), pages };
}

/** Each page's bytes: its HTML and the same-origin scripts and stylesheets it names. */
async function weigh({ w, pages }) {
  const rows = [];
  for (const [name, path] of pages) {
    const html = await (await w.fetch(path, { headers: { accept: "text/html" } })).text();
    const refs = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="stylesheet"[^>]*\shref)="(\/[^"]+)"/g)].map((m) => m[1]);
    let raw = Buffer.byteLength(html);
    let gz = gzipSync(html).length;
    const parts = [`HTML ${raw}`];
    for (const ref of refs) {
      const body = Buffer.from(await (await w.fetch(ref)).arrayBuffer());
      raw += body.length;
      gz += gzipSync(body).length;
      parts.push(`${ref.split("/").pop()} ${body.length}`);
    }
    rows.push({ name, path: path.startsWith("/admin/") ? "/admin/{secret_key}" : path, raw, gz, parts: parts.join(", ") });
  }
  return rows;
}

/** One load of `url` in a fresh context: its time to interactive in ms (see the top). */
async function ttiOnce(browser, url) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await context.addInitScript(({ token }) => {
    try {
      sessionStorage.setItem("shortener.dashboard-key", token);
    } catch {}
    window.__longTasks = [];
    new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((e) => e.startTime + e.duration)))
      .observe({ type: "longtask", buffered: true });
  }, { token: TOKEN });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
  let inFlight = 0;
  let lastNetwork = Date.now();
  page.on("request", () => {
    inFlight += 1;
    lastNetwork = Date.now();
  });
  const done = () => {
    inFlight -= 1;
    lastNetwork = Date.now();
  };
  page.on("requestfinished", done);
  page.on("requestfailed", done);
  await page.goto(url, { waitUntil: "domcontentloaded" });
  let seenLong = 0;
  let lastLong = Date.now();
  for (const started = Date.now(); Date.now() - started < 60000; ) {
    await new Promise((r) => setTimeout(r, 50));
    const n = await page.evaluate(() => window.__longTasks.length);
    if (n !== seenLong) {
      seenLong = n;
      lastLong = Date.now();
    }
    if (inFlight === 0 && Date.now() - Math.max(lastLong, lastNetwork) >= QUIET_MS) break;
  }
  const tti = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const responses = performance.getEntriesByType("resource").map((r) => r.responseEnd);
    return Math.max(nav.domContentLoadedEventEnd, ...window.__longTasks, ...responses);
  });
  await context.close();
  return tti;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const builds = [{ name: `${commit}${dirty}`, root: here }];
if (baseDir) builds.push({ name: `main ${git(baseDir, "rev-parse --short HEAD")}`, root: baseDir });
for (const b of builds) b.served = await serve(b.root);
try {
  for (const b of builds) b.rows = await weigh(b.served);
  if (withTti) {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    try {
      for (const row of builds[0].rows) {
        const times = builds.map(() => []);
        // Interleaved: this tree, then main, run after run.
        for (let run = 0; run < RUNS; run++) {
          for (const [i, b] of builds.entries()) {
            const path = b.served.pages.find(([name]) => name === row.name)?.[1];
            if (path) times[i].push(await ttiOnce(browser, b.served.origin + path));
          }
        }
        builds.forEach((b, i) => {
          const r = b.rows.find((x) => x.name === row.name);
          if (r && times[i].length) r.tti = { median: median(times[i]), runs: times[i] };
        });
      }
    } finally {
      await browser.close();
    }
  }
} finally {
  for (const b of builds) await b.served.w.dispose();
}

const ms = (x) => `${Math.round(x).toLocaleString("en")} ms`;
const tables = builds.map((b) => {
  const tti = withTti ? ` TTI (median of ${RUNS}; runs) |` : "";
  return [
    `### ${b.name}${label ? ` (${label})` : ""}${b.root === here ? "" : ", measured in the same run"}`,
    "",
    `| Page | Bytes (HTML+JS+CSS) | gzip |${tti} Parts (bytes) |`,
    `|---|---:|---:|${withTti ? "---:|" : ""}---|`,
    ...b.rows.map((r) => `| ${r.name} \`${r.path}\` | ${r.raw.toLocaleString("en")} | ${r.gz.toLocaleString("en")} |${withTti ? ` ${r.tti ? `${ms(r.tti.median)} (${r.tti.runs.map((t) => Math.round(t)).join(", ")})` : "n/a"} |` : ""} ${r.parts} |`),
    "",
  ].join("\n");
});
if (builds.length > 1) {
  const [mine, base] = builds;
  const lines = mine.rows.map((r) => {
    const o = base.rows.find((x) => x.name === r.name);
    if (!o) return `| ${r.name} | new | | |`;
    const pct = (a, b) => `${a >= b ? "+" : ""}${(((a - b) / b) * 100).toFixed(1)} %`;
    return `| ${r.name} | ${pct(r.raw, o.raw)} | ${pct(r.gz, o.gz)} | ${r.tti && o.tti ? `${pct(r.tti.median, o.tti.median)} (${ms(r.tti.median)} vs ${ms(o.tti.median)})` : "n/a"} |`;
  });
  tables.push([`#### ${mine.name} against ${base.name}`, "", "| Page | Bytes | gzip | TTI |", "|---|---:|---:|---:|", ...lines, ""].join("\n"));
}
const table = tables.join("\n");
if (args.includes("--print")) console.log(table);
else {
  const file = new URL("./weight.md", import.meta.url).pathname;
  const head = "# Page weight\n\nWritten by `node bench/weight.mjs [label]` after `make build`: each page's HTML and the same-origin scripts and stylesheets it names, as Miniflare serves the built worker and assets (raw bytes, and gzip level 6 as a proxy for the wire). Newest run last.\n\n";
  const old = existsSync(file) ? readFileSync(file, "utf8").replace(head, "") : "";
  writeFileSync(file, head + old + table + "\n");
  console.log(table);
}
