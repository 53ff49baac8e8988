// The pages' only script: submits the home form to the JSON API and runs the admin
// page's actions. No framework, no build step; served from /static/app.js.
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

/** An API error in the form's words: the fields by their labels, not their JSON names. */
function inFormWords(detail) {
  return detail
    .replace(/^target_url must/, "The long URL must")
    .replace(/^target_url /, "The long URL ")
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
    const body = { target_url: $("target_url").value.trim() };
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
      $("admin-url").href = data.admin_url;
      $("admin-url").textContent = data.admin_url;
      $("qr").src = `/${encodeURIComponent(data.key)}/qr?size=192`;
      $("qr-download").href = `/${encodeURIComponent(data.key)}/qr?size=512`;
      $("qr-download").download = `${data.key}.svg`;
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
    error.textContent = data.detail || "Something went wrong.";
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

document.addEventListener("DOMContentLoaded", () => {
  humanDates();
  if ($("shorten")) setupShorten($("shorten"));
  if ($("retarget")) setupAdmin();
});
