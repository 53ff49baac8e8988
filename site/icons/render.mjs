// Renders the app icons (PNG) from the favicon's drawing, in Debian's Chromium: the
// home-screen icon iOS asks for (apple-touch-icon, 180 px) and the web app manifest's
// 192 and 512 px icons. The PNGs are committed in src/assets/ (a few KB each) so a
// build needs no browser; run this again after changing src/assets/favicon.svg:
//   node site/icons/render.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const ASSETS = new URL("../../src/assets/", import.meta.url).pathname;
// Full-bleed square: home screens cut their own rounded shape (and a maskable icon
// must fill its square), so the favicon's rounded corners are taken out.
const svg = readFileSync(`${ASSETS}favicon.svg`, "utf8").replace(/ rx="[^"]*"/, "");
const SIZES = { "apple-touch-icon.png": 180, "icon-192.png": 192, "icon-512.png": 512 };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  for (const [name, size] of Object.entries(SIZES)) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const sized = svg.replace("<svg ", `<svg width="${size}" height="${size}" `);
    await page.setContent(`<html><body style="margin:0">${sized}</body></html>`);
    writeFileSync(`${ASSETS}${name}`, await page.screenshot({ clip: { x: 0, y: 0, width: size, height: size } }));
    await page.close();
    console.log(`${name}: ${size} px`);
  }
} finally {
  await browser.close();
}
