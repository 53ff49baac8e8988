// The admin page's settings: sends each form of the settings section to the owner's
// JSON API (PATCH this page's URL), shows the API's errors in the form's words, and
// runs the "check now" button. Served from /static/admin.js, after app.js; wrapped in
// a function so its names do not meet app.js's.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  /**
   * The chart's days as one stop of the Tab order (a roving tabindex, as the ARIA
   * practices describe for a group of items): Tab reaches the latest day, the arrow
   * keys, Home and End move between days, and the next Tab leaves the chart. Without
   * script every day stays a Tab stop of its own.
   */
  function setupChartKeys(chart) {
    const days = [...chart.querySelectorAll("g.day")];
    if (days.length < 2) return;
    const focusDay = (i) => {
      days.forEach((d, j) => d.setAttribute("tabindex", j === i ? "0" : "-1"));
      days[i].focus();
    };
    days.forEach((d, j) => d.setAttribute("tabindex", j === days.length - 1 ? "0" : "-1"));
    chart.setAttribute("aria-description", "Arrow keys move between the days.");
    chart.addEventListener("keydown", (event) => {
      const at = days.indexOf(document.activeElement);
      if (at < 0) return;
      const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: days.length - 1 }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      focusDay(Math.max(0, Math.min(days.length - 1, to)));
    });
  }
  // The page's own URL is the admin URL.
  const here = location.pathname;
  const SAVED = "admin-saved";

  /** The API's field names as the forms call them. */
  const LABELS = {
    "rules[].target_url": "a rule's target URL",
    "rules[].when.query": "a rule's query parameter",
    "rules[].when.after": "a rule's start time",
    "rules[].when.before": "a rule's end time",
    "rules[].when.country": "a rule's countries",
    "rules[].when.language": "a rule's languages",
    "rules[].when.device": "a rule's devices",
    "rules[].when.os": "a rule's systems",
    "rules[].when": "a rule's conditions",
    "split.variants[].target_url": "a variant's target URL",
    "social_card.description": "the card description",
    "social_card.title": "the card title",
    "social_card.image": "the card image URL",
    social_card: "the social card",
    expires_at: "the expiry",
    max_clicks: "the click limit",
    valid_since: "the start",
    fallback_url: "the fallback URL",
    redirect_status: "the redirect status",
    dead_link_mode: "the dead-target choice",
    forward_query: "passing the query string on",
    sticky_seconds: "how long a visitor keeps their variant",
    target_url: "the target URL",
    crawlable: "search engine indexing",
    password: "the password",
    rules: "the rules",
    split: "the split",
    title: "the title",
    tags: "the tags",
    note: "the note",
    key: "the key",
  };

  /** Details whose field name would not start a sentence well, said whole. */
  const PHRASES = [
    [/^field 'rules' each rule needs at least one condition in 'when'/, "Each rule needs a condition besides its target: a device, system, country, language, query parameter or time"],
    [/^field 'rules' (device|os|country|language) /, (whole, what) => `A rule's ${{ os: "system" }[what] || what} `],
    [/^field 'rules' query /, "A rule's query parameter "],
    [/^field 'split' each variant /, "Each variant "],
    [/^field 'tags' tag /, "The tag "],
  ];

  /** An API error in the form's words: the fields by their labels, not their JSON names. */
  function inAdminWords(detail) {
    let text = detail;
    for (const [pattern, words] of PHRASES) text = text.replace(pattern, words);
    text = text.replace(/field '([^']+)'/g, (whole, field) => LABELS[field] || field);
    // Names the detail mentions in passing ("sticky_seconds must be ..."); only the
    // ones no English word could be.
    for (const [field, words] of Object.entries(LABELS)) {
      if (/[_.[]/.test(field)) text = text.split(field).join(words);
    }
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /** The field an API error is about, if it names one. */
  const fieldOf = (detail) => (detail.match(/field '([^']+)'/) || [])[1];

  async function send(method, url, body) {
    const res = await fetch(url, {
      method,
      headers: { "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    try {
      data = await res.json();
    } catch {
      data = { detail: `The server answered ${res.status}.` };
    }
    return { ok: res.ok, status: res.status, data, retryAfter: res.headers.get("retry-after") };
  }

  const pad = (n) => String(n).padStart(2, "0");
  /** An instant as a `datetime-local` value in the reader's time zone. */
  const localInput = (d) =>
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  /** A `datetime-local` value as RFC 3339 in UTC, to the second; `undefined` if garbled. */
  function instantOf(raw) {
    const when = new Date(raw);
    if (Number.isNaN(when.getTime())) return undefined;
    return when.toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  /** What an input of a simple form sends: `null` clears the control. */
  function valueOf(el) {
    if (el.dataset.kind === "bool") return el.checked;
    const raw = el.value.trim();
    if (raw === "") return null;
    switch (el.dataset.kind) {
      case "instant":
        return instantOf(raw);
      case "int":
        return Number(raw);
      case "tags": {
        const tags = raw.split(",").map((t) => t.trim()).filter(Boolean);
        return tags.length ? tags : null;
      }
      default:
        return raw;
    }
  }

  function clear(form) {
    const error = $(`${form.id}-error`);
    error.hidden = true;
    error.textContent = "";
    $(`${form.id}-saved`).textContent = "";
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  }

  function fail(form, message, input) {
    const error = $(`${form.id}-error`);
    error.textContent = message;
    error.hidden = false;
    if (input) {
      input.setAttribute("aria-invalid", "true");
      const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (!described.includes(error.id)) input.setAttribute("aria-describedby", [...described, error.id].join(" "));
      input.focus();
    }
  }

  /**
   * Sends `body` for `form`. Saved: the page is loaded again, so every fact on it is
   * the link's new state, and the form says so once it is back. Refused: the API's
   * reason, next to the field it names.
   */
  async function save(form, body, method = "PATCH") {
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      const { ok, data } = await send(method, here, body);
      if (ok) {
        sessionStorage.setItem(SAVED, form.id);
        location.reload();
        return;
      }
      const detail = data.detail || "Something went wrong.";
      const field = fieldOf(detail);
      fail(form, inAdminWords(detail), field && form.querySelector(`[data-field="${field}"]`));
    } catch {
      fail(form, "Could not reach the server. Check your connection and try again.");
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  /** The forms of plain fields: send the fields that changed since the page loaded. */
  function setupSimple(form) {
    const inputs = [...form.querySelectorAll("[data-field]")];
    inputs.forEach((el) => (el.dataset.initial = JSON.stringify(valueOf(el))));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clear(form);
      const body = {};
      for (const el of inputs) {
        const value = valueOf(el);
        if (value === undefined) return fail(form, "Enter a whole date and time, or leave it empty.", el);
        if (JSON.stringify(value) !== el.dataset.initial) body[el.dataset.field] = value;
      }
      if (Object.keys(body).length === 0) {
        $(`${form.id}-saved`).textContent = "Nothing to save: no field was changed.";
        return;
      }
      save(form, body);
    });
  }

  function setupPassword(form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clear(form);
      // "Remove password" is a submit button too, so the form works without the script.
      const remove = $("remove-password");
      if (remove && event.submitter === remove) {
        if (confirm(remove.dataset.confirm)) save(form, { password: null });
        return;
      }
      const input = $("new_password");
      if (input.value === "") return fail(form, "Enter the new password.", input);
      save(form, { password: input.value });
    });
  }

  /**
   * A list of fieldsets made from a template (rules, variants): adding and removing
   * items, numbering them, and keeping ids unique.
   */
  function setupList({ list, template, add, remove, number, max, none }) {
    let made = 0;
    const renumber = () => {
      const items = [...list.children];
      items.forEach((li, i) => li.querySelectorAll(`.${number}`).forEach((n) => (n.textContent = i + 1)));
      if (none) none.hidden = items.length > 0;
      if (max) add.disabled = items.length >= max;
    };
    add.addEventListener("click", () => {
      made += 1;
      const html = template.innerHTML.replaceAll("__N__", `new${made}`);
      list.insertAdjacentHTML("beforeend", html);
      renumber();
      list.lastElementChild.querySelector("input")?.focus();
    });
    list.addEventListener("click", (event) => {
      const button = event.target.closest(`.${remove}`);
      if (!button) return;
      button.closest("li").remove();
      renumber();
      add.focus();
    });
    renumber();
  }

  /** "DE, at fr" as ["DE", "AT", "FR"]. */
  const words = (raw, upper) =>
    raw.split(/[\s,]+/).filter(Boolean).map((w) => (upper ? w.toUpperCase() : w.toLowerCase()));

  /** One rule's inputs as the API's rule; `null` for a rule left empty. */
  function readRule(li) {
    const one = (name) => li.querySelector(`[data-cond="${name}"]`);
    const when = {};
    for (const name of ["device", "os"]) {
      const picked = [...li.querySelectorAll(`[data-cond="${name}"]:checked`)].map((el) => el.value);
      if (picked.length) when[name] = picked;
    }
    const country = words(one("country").value, true);
    if (country.length) when.country = country;
    const language = words(one("language").value, false);
    if (language.length) when.language = language;
    const name = one("query-name").value.trim();
    const value = one("query-value").value;
    if (name) when.query = value === "" ? { name } : { name, value };
    for (const edge of ["after", "before"]) {
      const raw = one(edge).value;
      if (raw) when[edge] = instantOf(raw);
    }
    const target = one("target_url").value.trim();
    if (!target && Object.keys(when).length === 0) return null;
    return { when, target_url: target };
  }

  function setupRules(form) {
    setupList({
      list: $("rules-list"),
      template: $("rule-template"),
      add: $("add-rule"),
      remove: "remove-rule",
      number: "rule-n",
      max: 20,
      none: $("rules-none"),
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clear(form);
      const rules = [...$("rules-list").children].map(readRule).filter(Boolean);
      if (rules.some((r) => Object.values(r.when).includes(undefined))) {
        return fail(form, "Enter a whole date and time for each rule's start and end, or leave them empty.");
      }
      save(form, { rules: rules.length ? rules : null });
    });
  }

  function setupSplit(form) {
    setupList({
      list: $("variants-list"),
      template: $("variant-template"),
      add: $("add-variant"),
      remove: "remove-variant",
      number: "variant-n",
      max: 4,
    });
    const days = $("sticky_days");
    const shownDays = days.value;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clear(form);
      const variants = [...$("variants-list").children]
        .map((li) => ({
          target_url: li.querySelector('[data-var="target_url"]').value.trim(),
          weight: li.querySelector('[data-var="weight"]').value.trim(),
        }))
        .filter((v) => v.target_url || v.weight)
        .map((v) => ({ target_url: v.target_url, weight: v.weight === "" ? 1 : Number(v.weight) }));
      if (variants.length === 0) return save(form, { split: null });
      const n = Number(days.value);
      if (!Number.isInteger(n) || n < 1 || n > 365) return fail(form, "Enter from 1 to 365 days.", days);
      // Untouched, the stored seconds go back as they were.
      const sticky = days.value === shownDays ? Number(days.dataset.seconds) : n * 86400;
      save(form, { split: { variants, sticky_seconds: sticky } });
    });
    $("remove-split")?.addEventListener("click", () => {
      clear(form);
      save(form, { split: null });
    });
  }

  function setupCard(form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clear(form);
      const card = {};
      form.querySelectorAll("[data-card]").forEach((el) => {
        const value = el.value.trim();
        if (value) card[el.dataset.card] = value;
      });
      save(form, { social_card: Object.keys(card).length ? card : null });
    });
  }

  function setupUtm(form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clear(form);
      const utm = {};
      form.querySelectorAll("[data-utm]").forEach((el) => {
        const value = el.value.trim();
        if (value) utm[el.dataset.utm] = value;
      });
      save(form, { utm: Object.keys(utm).length ? utm : null });
    });
  }

  const HEALTH = {
    healthy: "Healthy",
    unhealthy: "Failing",
    dead: "Dead",
    unverifiable: "Cannot tell",
    unknown: "Not checked yet",
  };
  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  /** An instant in the reader's words, with the exact one on hover. */
  function timeOf(iso) {
    const time = document.createElement("time");
    time.dateTime = iso;
    time.title = iso;
    time.textContent = dateFormat.format(new Date(iso));
    return time;
  }
  function showTime(dd, iso) {
    dd.textContent = "";
    if (!iso) {
      dd.textContent = "Never";
      return;
    }
    dd.append(timeOf(iso));
  }

  function setupCheck(button) {
    const status = $("check-status");
    button.addEventListener("click", async () => {
      button.disabled = true;
      status.textContent = "Checking the target…";
      try {
        const { ok, status: code, data, retryAfter } = await send("POST", `${here}/check`);
        if (code === 429) {
          const seconds = Number(retryAfter);
          status.textContent = Number.isFinite(seconds) && seconds > 0
            ? `This link was checked moments ago, and checks are rationed. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`
            : inAdminWords(data.detail || "This link was checked moments ago. Try again later.");
          return;
        }
        if (!ok) {
          status.textContent = inAdminWords(data.detail || "The check failed.");
          return;
        }
        const h = data.health;
        const label = HEALTH[h.state] || h.state;
        $("health-state").textContent = label;
        $("health-state").className = `state health-${h.state}`;
        if ($("health")) {
          $("health").textContent = label;
          $("health").className = `state health-${h.state}`;
          // The facts list's line under it says the same as the health card.
          const hint = $("health").nextElementSibling;
          if (hint && h.checked_at) {
            hint.textContent = "(last checked ";
            hint.append(timeOf(h.checked_at), `: ${h.reason || "no reason given"}; since `, timeOf(h.since || h.checked_at), ")");
          }
        }
        showTime($("health-checked"), h.checked_at);
        showTime($("health-since"), h.since);
        $("health-reason").textContent = h.reason || "None given";
        $("health-code").textContent = h.status_code ?? "None";
        status.textContent = `Checked just now: ${label}${h.reason ? ` (${h.reason})` : ""}.`;
      } catch {
        status.textContent = "Could not reach the server. Check your connection and try again.";
      } finally {
        button.disabled = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    // Instants in the reader's time zone (the markup has them in UTC), before any form
    // takes its first snapshot.
    document.querySelectorAll("input[data-utc]").forEach((el) => {
      const when = new Date(el.dataset.utc);
      if (el.dataset.utc && !Number.isNaN(when.getTime())) el.value = localInput(when);
    });
    if ($("limits-hint")) $("limits-hint").textContent = "Your local time. Leave a field empty for none.";
    document.querySelectorAll("form.control").forEach((form) => {
      if (form.id === "password-form") setupPassword(form);
      else if (form.id === "rules-form") setupRules(form);
      else if (form.id === "split-form") setupSplit(form);
      else if (form.id === "card-form") setupCard(form);
      else if (form.id === "utm-form") setupUtm(form);
      else setupSimple(form);
    });
    if ($("check-now")) setupCheck($("check-now"));
    document.querySelectorAll("svg.chart").forEach(setupChartKeys);
    // A form saved before this load says so, and has the focus back.
    const saved = sessionStorage.getItem(SAVED);
    if (saved && $(saved)) {
      sessionStorage.removeItem(SAVED);
      $(`${saved}-saved`).textContent = "Saved.";
      $(saved).querySelector("button[type=submit]")?.focus();
    }
  });
})();
