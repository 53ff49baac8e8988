// The script of the home and admin pages: submits the home form to the JSON API, keeps
// "your links" in this browser, and runs the admin page's actions. No framework, no
// build step; served from /static/app.js.
"use strict";

const $ = (id) => document.getElementById(id);

function showError(id, message) {
  const el = $(`${id}-error`) || $("form-error");
  el.textContent = message;
  el.hidden = false;
  const input = $(id);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

function clearErrors(form) {
  form.querySelectorAll(".error").forEach((el) => {
    el.hidden = true;
    el.textContent = "";
  });
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

/**
 * An API error in the form's words: the fields by their labels, not their JSON names.
 * `target` is what the form calls the target URL ("The long URL" on the home page).
 */
function inFormWords(detail, target = "The long URL") {
  return detail
    .replace(/^target_url must/, `${target} must`)
    .replace(/^target_url /, `${target} `)
    .replace(/^field 'target_url' /, `${target} `)
    .replace(/^custom_key '([^']*)'/, "The custom key '$1'")
    .replace(/^custom_key /, "The custom key ")
    .replace(/^expires_at /, "The expiry ")
    .replace(/\b(target_url|url)\b/g, "long URL")
    .replace(/\bcustom_key\b/g, "custom key")
    .replace(/\bexpires_at\b/g, "expiry");
}

/** The input an API error is about, judged from its detail. */
function fieldOf(detail) {
  for (const field of ["custom_key", "expires_at"]) if (detail.includes(field)) return field;
  return detail.includes("target_url") ? "target_url" : "form";
}

async function send(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  let data = {};
  try {
    data = await res.json();
  } catch {
    data = { detail: `The server answered ${res.status}.` };
  }
  return { ok: res.ok, status: res.status, data };
}

function setupShorten(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    // `example.com/path` is taken as https://example.com/path, as other shorteners do,
    // and the field shows what is sent.
    const typed = $("target_url").value.trim();
    const body = { target_url: typed && !/^[a-z][a-z0-9+.-]*:/i.test(typed) && /^[^\s/]+\.[^\s/]+/.test(typed) ? `https://${typed}` : typed };
    $("target_url").value = body.target_url;
    const key = $("custom_key").value.trim();
    if (key) body.custom_key = key;
    const expires = $("expires_at").value;
    if (expires) {
      const when = new Date(expires);
      if (Number.isNaN(when.getTime())) return showError("expires_at", "Enter a valid date and time.");
      body.expires_at = when.toISOString();
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { ok, data } = await send("POST", "/url", body);
      if (!ok) return showError(fieldOf(data.detail || ""), inFormWords(data.detail || "Something went wrong."));
      $("short-url").href = data.url;
      $("short-url").textContent = data.url;
      $("result-target").textContent = data.target_url;
      $("admin-url").href = data.admin_url;
      $("admin-url").textContent = data.admin_url;
      $("qr").src = `/${encodeURIComponent(data.key)}/qr?size=192`;
      $("qr-download").href = `/${encodeURIComponent(data.key)}/qr?size=512`;
      $("qr-download").download = `${data.key}.svg`;
      $("qr-png").dataset.key = data.key;
      $("qr-png-error").hidden = true;
      rememberLink(data);
      $("copied").hidden = true;
      $("result").hidden = false;
      // The long URL is done with: the form is ready for the next one.
      form.reset();
      $("short-url").focus();
    } catch {
      showError("form", "Could not reach the server. Check your connection and try again.");
    } finally {
      button.disabled = false;
    }
  });
  $("again").addEventListener("click", () => {
    $("result").hidden = true;
    $("target_url").focus();
  });
  // Each copy button copies the link it names (the short link, the admin link) and says
  // so in one live region.
  form.parentElement.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const link = $(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(link.textContent);
      } catch {
        const range = document.createRange();
        range.selectNodeContents(link);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        document.execCommand("copy");
      }
      $("copied").textContent = `Copied: ${button.getAttribute("aria-label").replace(/^Copy /, "")}.`;
      // Said beside the button that was used.
      button.after(" ", $("copied"));
      $("copied").hidden = false;
    });
  });
}

function setupAdmin() {
  // The page's own URL is the admin URL: PATCH it with JSON.
  const here = location.pathname;
  document.querySelectorAll("[data-patch]").forEach((button) => {
    button.addEventListener("click", async () => {
      // A destructive change asks first.
      if (button.dataset.confirm && !confirm(button.dataset.confirm)) return;
      button.disabled = true;
      const { ok, data } = await send("PATCH", here, JSON.parse(button.dataset.patch));
      if (ok) return location.reload();
      button.disabled = false;
      $("manage-error").textContent = data.detail || "Something went wrong.";
      $("manage-error").hidden = false;
    });
  });
  const form = $("retarget");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const { ok, data } = await send("PATCH", here, { target_url: $("new_target").value.trim() });
    if (ok) return location.reload();
    const error = $("retarget-error");
    error.textContent = inFormWords(data.detail || "Something went wrong.", "The new target URL");
    error.hidden = false;
    $("new_target").setAttribute("aria-invalid", "true");
  });
}

/** Dates for people, in the reader's locale and time zone; the exact UTC instant on hover. */
function humanDates() {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  document.querySelectorAll("time[datetime]").forEach((el) => {
    const when = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(when.getTime()) || !el.getAttribute("datetime").includes("T")) return;
    el.title = el.getAttribute("datetime");
    el.textContent = format.format(when);
  });
}

// "Your links" on the home page: each link made in this browser, kept in its
// localStorage only, so people find their admin links again. Without the script, or
// with the storage off or full, the page works as before and the list is not there.

const YOUR_LINKS = "shortener.your-links";

function readYourLinks() {
  try {
    const list = JSON.parse(window.localStorage.getItem(YOUR_LINKS) || "[]");
    return Array.isArray(list) ? list.filter((l) => l && typeof l.key === "string" && typeof l.admin_url === "string") : [];
  } catch {
    return [];
  }
}

/** Saves the list; false when the browser refuses (storage turned off or full). */
function writeYourLinks(list) {
  try {
    if (list.length) window.localStorage.setItem(YOUR_LINKS, JSON.stringify(list));
    else window.localStorage.removeItem(YOUR_LINKS);
    return true;
  } catch {
    return false;
  }
}

/** An http(s) URL as given, or null: stored text is never trusted as a link. */
function webUrl(raw) {
  try {
    const url = new URL(raw, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function rememberLink(data) {
  if (!data.admin_url) return;
  const entry = { key: data.key, url: data.url, target_url: data.target_url, admin_url: data.admin_url, created_at: data.created_at || new Date().toISOString() };
  const list = [entry, ...readYourLinks().filter((l) => l.key !== data.key)];
  const saved = writeYourLinks(list);
  $("your-links-note").textContent = saved ? "" : "This browser did not keep this link in the list below (its storage is full or turned off). Keep the admin link above yourself.";
  renderYourLinks();
}

function linkItem(link, format) {
  const li = document.createElement("li");
  const line = (cls, ...parts) => {
    const p = document.createElement("p");
    if (cls) p.className = cls;
    p.append(...parts);
    return p;
  };
  const anchor = (href, text) => {
    const a = document.createElement("a");
    const safe = webUrl(href);
    if (safe) a.href = safe;
    a.textContent = text;
    return a;
  };
  const when = document.createElement("time");
  const made = new Date(link.created_at);
  if (!Number.isNaN(made.getTime())) {
    when.dateTime = made.toISOString();
    when.title = made.toISOString();
    when.textContent = format.format(made);
  }
  const forget = document.createElement("button");
  forget.type = "button";
  forget.className = "secondary";
  forget.textContent = "Forget";
  forget.setAttribute("aria-label", `Forget ${link.url || link.key}`);
  forget.dataset.forget = link.key;
  li.append(
    line("short", anchor(link.url, link.url || link.key)),
    line("target", "Goes to ", anchor(link.target_url, link.target_url || "")),
    line("hint", "Made ", when),
    line("target", "Admin: ", anchor(link.admin_url, link.admin_url)),
    line("", forget),
  );
  return li;
}

function renderYourLinks() {
  const list = readYourLinks();
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  $("your-links-list").replaceChildren(...list.map((l) => linkItem(l, format)));
  $("forget-all").hidden = list.length === 0;
  $("your-links").hidden = list.length === 0 && !$("your-links-note").textContent;
}

function setupYourLinks() {
  $("your-links-list").addEventListener("click", (event) => {
    const key = event.target.closest("button[data-forget]")?.dataset.forget;
    if (!key) return;
    const list = readYourLinks();
    const gone = list.find((l) => l.key === key);
    const next = list.filter((l) => l.key !== key);
    const saved = writeYourLinks(next);
    $("your-links-note").textContent = saved
      ? `Forgot ${gone?.url || key} in this browser. The link itself still works, as does its admin link.`
      : "This browser would not change the list (its storage is turned off).";
    renderYourLinks();
    // Keep the keyboard where it was: on the next Forget button, or the heading.
    const buttons = $("your-links-list").querySelectorAll("button[data-forget]");
    const index = list.findIndex((l) => l.key === key);
    (buttons[Math.min(index, buttons.length - 1)] || $("forget-all")).focus();
  });
  $("forget-all").addEventListener("click", () => {
    if (!confirm("Forget every link in this list? The links and their admin links keep working; only this browser's list is erased.")) return;
    const saved = writeYourLinks([]);
    $("your-links-note").textContent = saved ? "Forgot every link in this browser." : "This browser would not change the list (its storage is turned off).";
    renderYourLinks();
    $("your-links-title").setAttribute("tabindex", "-1");
    $("your-links-title").focus();
  });
  renderYourLinks();
}

function setupQrPng() {
  $("qr-png").addEventListener("click", async () => {
    try {
      await downloadQrPng($("qr-png").dataset.key);
    } catch {
      $("qr-png-error").textContent = "The PNG could not be made in this browser; the SVG download works everywhere.";
      $("qr-png-error").hidden = false;
    }
  });
}

/**
 * The QR code as a PNG: the same-origin SVG drawn on a canvas (so the page's CSP,
 * `img-src 'self'`, needs no exception), saved through a blob link.
 */
async function downloadQrPng(key) {
  const size = 512;
  const img = new Image(size, size);
  img.src = `/${encodeURIComponent(key)}/qr?size=${size}`;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.getContext("2d").drawImage(img, 0, 0, size, size);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  if (!blob) throw new Error("no PNG");
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${key}.png`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

document.addEventListener("DOMContentLoaded", () => {
  humanDates();
  if ($("shorten")) setupShorten($("shorten"));
  if ($("your-links")) setupYourLinks();
  if ($("qr-png")) setupQrPng();
  if ($("retarget")) setupAdmin();
});
