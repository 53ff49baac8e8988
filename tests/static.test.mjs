// Black-box tests of what the service serves without running a browser: the static
// files (types, caching, security headers), the pages' Content-Security-Policy, the
// icon every page names, and the admin page asking search engines to stay away. They
// need no Chromium, so they run wherever `make test` runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { workerForFile } from "./harness.mjs";

const w = await workerForFile();

// The static files: Workers Static Assets serves them in front of the worker (the
// harness gives Miniflare wrangler.toml's [assets] directory, which `make build` fills
// from site/), with the headers of the generated _headers file.
test("static files are served with their types, caching and security headers", async () => {
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

test("every page names its icon, which is served, and the admin page asks search engines to stay away", async () => {
  const link = await w.create({ target_url: "https://example.com/static/admin" });
  const icon = await w.get("/static/favicon.svg");
  await icon.arrayBuffer();
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get("content-type"), "image/svg+xml");
  // The admin page's URL is the secret.
  const adminPage = await w.get(`/admin/${link.secret_key}`, { accept: "text/html" });
  assert.match(await adminPage.text(), /<link rel="icon" href="\/static\/favicon.svg"/);
  assert.equal(adminPage.headers.get("x-robots-tag"), "noindex, nofollow");
});
