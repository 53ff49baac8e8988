// The link settings component that the owner's admin page (admin.js) and the
// dashboard's link view (dashboard.js) share: reading the grouped form (Link, Access,
// Routing, Appearance, Health) into the API's fields, filling it from a link as the
// API shows it, the rule and variant lists, the one PATCH of what changed, the API's
// errors in the form's words, and the summary of every control that is set. The
// markup it reads is rendered by src/web/settings (admin) and src/web/dashboard.rs,
// with the same data-field, data-cond, data-var, data-card and data-utm names. Served from
// /static/settings.js before each page's own script; only `LinkSettings` is global.
"use strict";

const LinkSettings = (() => {
  const pad = (n) => String(n).padStart(2, "0");
  /** An instant as a `datetime-local` value in the reader's time zone. */
  const localInput = (d) =>
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  /** A `datetime-local` value as RFC 3339 in UTC, to the second; `undefined` if garbled. */
  function instantOf(raw) {
    const when = new Date(raw);
    return Number.isNaN(when.getTime()) ? undefined : when.toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  /** A URL typed without its scheme (`example.com/path`) gets `https://`, as other shorteners do. */
  function withScheme(raw) {
    const text = raw.trim();
    if (!text || /^[a-z][a-z0-9+.-]*:/i.test(text)) return text;
    return /^[^\s/]+\.[^\s/]+/.test(text) ? `https://${text.replace(/^\/\//, "")}` : text;
  }
  /** A tag as the service stores it ("Spring Sale" is "spring-sale"). */
  const normalizeTag = (raw) => raw.trim().toLowerCase().replace(/\s+/g, "-");
  /** "DE, at fr" as ["DE", "AT", "FR"]. */
  const words = (raw, upper) =>
    raw.split(/[\s,]+/).filter(Boolean).map((w) => (upper ? w.toUpperCase() : w.toLowerCase()));

  /** The API's field names as the forms call them, for saves and errors. */
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
    utm: "the UTM fields",
    utm_template: "the UTM template",
    expires_at: "the expiry",
    max_clicks: "the click limit",
    valid_since: "the start",
    fallback_url: "the fallback URL",
    redirect_status: "the redirect status",
    dead_link_mode: "the dead-target choice",
    forward_query: "passing the query string on",
    sticky_seconds: "how long a visitor keeps their variant",
    target_url: "the target URL",
    custom_key: "the key",
    crawlable: "search engine indexing",
    password: "the password",
    is_active: "the state",
    rules: "the targeting rules",
    split: "the A/B split",
    domain: "the domain",
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
  function inFieldWords(detail) {
    let text = String(detail || "Something went wrong.");
    for (const [pattern, said] of PHRASES) text = text.replace(pattern, said);
    text = text.replace(/field '([^']+)'/g, (whole, field) => LABELS[field] || LABELS[field.replace(/[.[].*$/, "")] || field);
    // "custom_key must ...": a field named at the start, bare.
    text = text.replace(/^([a-z_]+) /, (whole, f) => (LABELS[f] ? `${LABELS[f]} ` : whole));
    // Names the detail mentions in passing ("sticky_seconds must be ..."); only the
    // ones no English word could be.
    for (const [field, said] of Object.entries(LABELS)) {
      if (/[_.[]/.test(field)) text = text.split(field).join(said);
    }
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /** The top-level field an API error is about, if it names one. */
  function fieldOf(detail) {
    const named = String(detail || "").match(/^field '([^'.[]+)|^([a-z_]+) /) || [];
    return named[1] || (LABELS[named[2]] ? named[2] : undefined);
  }

  /** What one plain input holds, as the API takes it; `null` when empty. */
  function valueOf(el) {
    if (el.dataset.kind === "bool") return el.checked;
    if (el.dataset.kind === "password") return el.value === "" ? null : el.value;
    const raw = el.value.trim();
    if (raw === "") return null;
    switch (el.dataset.kind) {
      case "instant":
        return instantOf(raw);
      case "int":
        return Number(raw);
      case "url":
        return withScheme(raw);
      case "tags": {
        const tags = raw.split(",").map(normalizeTag).filter(Boolean);
        return tags.length ? tags : null;
      }
      default:
        return raw;
    }
  }

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
    for (const edge of ["after", "before"]) if (one(edge).value) when[edge] = instantOf(one(edge).value);
    const target = withScheme(one("target_url").value);
    if (!target && Object.keys(when).length === 0) return null;
    return { when, target_url: target };
  }

  const part = (form, id) => form.querySelector(`#${id}`);

  /**
   * Every control of `form` as the API's fields (what a creation sends, what a save
   * compares); the password is not among them (see `prepare`).
   */
  function read(form) {
    const body = {};
    for (const el of form.querySelectorAll("[data-field]")) {
      if (el.dataset.kind !== "password") body[el.dataset.field] = valueOf(el);
    }
    const rules = [...part(form, "rules-list").children].map(readRule).filter(Boolean);
    body.rules = rules.length ? rules : null;
    const variants = [...part(form, "variants-list").children]
      .map((li) => ({
        target_url: withScheme(li.querySelector('[data-var="target_url"]').value),
        weight: li.querySelector('[data-var="weight"]').value.trim(),
      }))
      .filter((v) => v.target_url || v.weight)
      .map((v) => ({ target_url: v.target_url, weight: v.weight === "" ? 1 : Number(v.weight) }));
    // Untouched, the stored seconds go back as they were.
    const days = part(form, "sticky_days");
    const sticky = days.value === days.dataset.shown && days.dataset.seconds
      ? Number(days.dataset.seconds)
      : Number(days.value) * 86400;
    body.split = variants.length ? { variants, sticky_seconds: sticky } : null;
    const card = {};
    form.querySelectorAll("[data-card]").forEach((el) => {
      if (el.value.trim()) card[el.dataset.card] = el.value.trim();
    });
    body.social_card = Object.keys(card).length ? card : null;
    const utm = {};
    form.querySelectorAll("[data-utm]").forEach((el) => {
      if (el.value.trim()) utm[el.dataset.utm] = el.value.trim();
    });
    body.utm = Object.keys(utm).length ? utm : null;
    return body;
  }

  /**
   * The one PATCH a save sends: what differs from `snapshot` (what `read` gave when
   * the form was filled), and the password typed or removed. `{ patch }`, or
   * `{ error, input }` for a value the form can tell is wrong before sending.
   */
  function prepare(form, snapshot, { removePassword = false } = {}) {
    const now = read(form);
    const patch = {};
    for (const [field, value] of Object.entries(now)) {
      if (JSON.stringify(value) !== JSON.stringify(snapshot[field])) patch[field] = value;
    }
    const typed = form.querySelector('[data-kind="password"]');
    if (typed && typed.value !== "") patch.password = typed.value;
    else if (removePassword) patch.password = null;
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) {
        return { error: "Enter a whole date and time, or leave it empty.", input: form.querySelector(`[data-field="${field}"]`) };
      }
    }
    if ((patch.rules || []).some((r) => Object.values(r.when).includes(undefined))) {
      return { error: "Enter a whole date and time for each rule's start and end, or leave them empty." };
    }
    if (patch.split) {
      const n = patch.split.sticky_seconds / 86400;
      if (!(n > 0 && n <= 365)) {
        return { error: "Enter from 1 to 365 days for how long a visitor keeps their variant.", input: part(form, "sticky_days") };
      }
    }
    return { patch };
  }

  /** "Saved the title, the click limit.": what a save changed, field by field. */
  const savedWords = (fields) => `Saved ${fields.map((f) => LABELS[f] || f).join(", ")}.`;

  /**
   * The rule and variant lists: adding and removing items from their templates,
   * numbering them, and keeping ids unique. Answers `add(kind)`, which adds one item
   * (`"rule"` or `"variant"`) and returns it.
   */
  function setupLists(form) {
    let made = 0;
    const lists = {
      rule: { list: part(form, "rules-list"), template: part(form, "rule-template"), add: part(form, "add-rule"), remove: "remove-rule", number: "rule-n", max: 20, none: part(form, "rules-none") },
      variant: { list: part(form, "variants-list"), template: part(form, "variant-template"), add: part(form, "add-variant"), remove: "remove-variant", number: "variant-n", max: 4 },
    };
    const renumber = () => {
      for (const l of Object.values(lists)) {
        const items = [...l.list.children];
        items.forEach((li, i) => li.querySelectorAll(`.${l.number}`).forEach((n) => (n.textContent = i + 1)));
        if (l.none) l.none.hidden = items.length > 0;
        l.add.disabled = items.length >= l.max;
      }
    };
    const add = (kind, name) => {
      const l = lists[kind];
      if (!name) made += 1;
      l.list.insertAdjacentHTML("beforeend", l.template.innerHTML.replaceAll("__N__", name || `new${made}`));
      renumber();
      return l.list.lastElementChild;
    };
    for (const [kind, l] of Object.entries(lists)) {
      l.add.addEventListener("click", () => add(kind).querySelector("input")?.focus());
      l.list.addEventListener("click", (event) => {
        const button = event.target.closest(`.${l.remove}`);
        if (!button) return;
        button.closest("li").remove();
        renumber();
        l.add.focus();
      });
    }
    renumber();
    return { add, renumber, lists };
  }

  /**
   * Fills `form` with `link` as the API shows it (or empties it, for none). `lists` is
   * what `setupLists` answered; the rules and variants are numbered by position.
   */
  function fill(form, link, lists) {
    for (const el of form.querySelectorAll("[data-field]")) {
      const v = link ? link[el.dataset.field] : null;
      if (el.dataset.kind === "bool") el.checked = Boolean(v);
      else if (el.dataset.kind === "instant") el.value = v ? localInput(new Date(v)) : "";
      else if (el.dataset.kind === "tags") el.value = (v || []).join(", ");
      else if (el.dataset.kind === "password") el.value = "";
      // The API shows the status a link redirects with; the service's own stays "default".
      else if (el.dataset.default !== undefined && String(v) === el.dataset.default && el.value === "") el.value = "";
      else el.value = v ?? "";
    }
    lists.lists.rule.list.replaceChildren();
    lists.lists.variant.list.replaceChildren();
    (link?.rules || []).forEach((rule, i) => {
      const li = lists.add("rule", String(i + 1));
      const one = (name) => li.querySelector(`[data-cond="${name}"]`);
      const w = rule.when || {};
      one("target_url").value = rule.target_url || "";
      for (const name of ["device", "os"]) {
        const chosen = [].concat(w[name] || []);
        li.querySelectorAll(`[data-cond="${name}"]`).forEach((box) => (box.checked = chosen.includes(box.value)));
      }
      one("country").value = [].concat(w.country || []).join(", ");
      one("language").value = [].concat(w.language || []).join(", ");
      one("query-name").value = w.query?.name || "";
      one("query-value").value = w.query?.value || "";
      for (const edge of ["after", "before"]) one(edge).value = w[edge] ? localInput(new Date(w[edge])) : "";
    });
    const variants = link?.split?.variants || [];
    variants.forEach((v, i) => {
      const li = lists.add("variant", String(i + 1));
      li.querySelector('[data-var="target_url"]').value = v.target_url;
      li.querySelector('[data-var="weight"]').value = v.weight;
    });
    const seconds = link?.split?.sticky_seconds;
    const days = part(form, "sticky_days");
    days.value = seconds ? Math.max(1, Math.ceil(seconds / 86400)) : 30;
    days.dataset.shown = days.value;
    days.dataset.seconds = seconds || "";
    const card = link?.social_card || {};
    form.querySelectorAll("[data-card]").forEach((el) => (el.value = card[el.dataset.card] || ""));
    const utm = link?.utm || {};
    form.querySelectorAll("[data-utm]").forEach((el) => (el.value = utm[el.dataset.utm] || ""));
    lists.renumber();
  }

  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const DEAD = { redirect: "redirect anyway", interstitial: "warn first", gone: "say it is gone" };

  /** The summary at the top of the form: every control of `link` that is set, in words. */
  function summary(link) {
    const items = [];
    const when = (iso) => dateFormat.format(new Date(iso));
    if (link.title) items.push(`Title: ${link.title}`);
    if (link.tags?.length) items.push(`Tags: ${link.tags.join(", ")}`);
    if (link.note) items.push("A private note");
    if (link.protected) items.push("Password protected");
    if (link.valid_since) items.push(`Starts ${when(link.valid_since)}`);
    if (link.expires_at) items.push(`Expires ${when(link.expires_at)}`);
    if (link.max_clicks) items.push(`Click limit: ${link.max_clicks}`);
    items.push(`Redirect status: ${link.redirect_status}`);
    // Passing the query string on is the default; only turning it off is news.
    if (!link.forward_query) items.push("Does not pass the query string on");
    if (link.crawlable) items.push("Search engines may index it");
    if (link.fallback_url) items.push(`Fallback: ${link.fallback_url}`);
    if (link.dead_link_mode) items.push(`When the target is dead: ${DEAD[link.dead_link_mode] || link.dead_link_mode}`);
    if (link.rules?.length) items.push(`${link.rules.length} targeting rule${link.rules.length === 1 ? "" : "s"}`);
    if (link.split?.variants?.length) items.push(`A/B split: ${link.split.variants.map((v) => `${v.weight}× ${v.target_url}`).join(", ")}`);
    if (link.social_card) items.push(`Social card${link.social_card.title ? `: ${link.social_card.title}` : ""}`);
    if (link.utm) items.push(`UTM${link.utm.campaign ? `: campaign ${link.utm.campaign}` : ""}`);
    return items;
  }

  /** Writes `summary(link)` into the list `ul`. */
  function showSummary(ul, link) {
    ul.replaceChildren(...summary(link).map((t) => Object.assign(document.createElement("li"), { textContent: t })));
  }

  return {
    LABELS, localInput, instantOf, withScheme, normalizeTag, inFieldWords, fieldOf, valueOf,
    read, prepare, savedWords, setupLists, fill, summary, showSummary,
  };
})();
