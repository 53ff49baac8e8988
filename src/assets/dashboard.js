// The operator dashboard (/dashboard): asks for an API key, keeps it in this tab's
// sessionStorage (never localStorage: it would outlive the tab), and does everything
// through the operator API, which checks the key's role on every call. Behind
// Cloudflare Access no key is needed: Access adds the person's token to every request,
// and the first call without a key finds out whether the person may come in. The page hides
// what the role would be refused, and shows any refusal the API answers in words.
// No framework, no build step; served from /static/dashboard.js.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN = "shortener.dashboard-key";
const PAGE_SIZE = 25;
/**
 * The fields an import item may carry (the service refuses any other): written into the
 * served file by site/ from the domain's list, so this script keeps no copy of it.
 */
const IMPORT_FIELDS = []; // filled by site/
/** Items per import call: the service takes up to 1,000 and writes each call in one batch. */
const IMPORT_BATCH = 1000;

const session = {
  token: null,
  /** Signed in as a person through Cloudflare Access (no key in this tab). */
  access: false,
  /** "admin", "creator" or "reader", found by what the API lets the key do. */
  role: null,
};
const view = {
  /** The cursor of each page seen so far; the last is the current page's. */
  cursors: [""],
  next: null,
  links: new Map(),
  /** `domain/key` of each selected link (see linkId). */
  selected: new Set(),
  /** Whether the service serves several domains: links are then shown with theirs. */
  domains: false,
  /** The number of the latest list request. */
  seq: 0,
  /** What the link view says once it is open (after a creation or a rename). */
  created: "",
};

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

// --- The key, kept for this tab only -------------------------------------------------

function storedToken() {
  try {
    return window.sessionStorage.getItem(TOKEN);
  } catch {
    return null;
  }
}

function storeToken(token) {
  try {
    if (token) window.sessionStorage.setItem(TOKEN, token);
    else window.sessionStorage.removeItem(TOKEN);
  } catch {
    // Storage off: the key lives in this page only, and a reload asks again.
  }
}

// --- The operator API ----------------------------------------------------------------

/** The API's refusal in words, by its status; the service's own sentence where it has one. */
function inWords(status, detail) {
  switch (status) {
    case 0:
      return "Could not reach the server. Check your connection and try again.";
    case 401:
      return "This key was refused: it is not a key of this service, or it was revoked or has expired.";
    case 403:
      return detail ? `Refused: ${detail}.` : "Refused: this key's role does not allow this operation.";
    default:
      return detail || `The server answered ${status}.`;
  }
}

/** A call with the signed-in key. Answers `{ok, status, data, detail, res}`. */
async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, data: {}, detail: inWords(0) };
  }
  if (res.ok && path.startsWith("/api/links/export")) return { ok: true, status: res.status, res };
  let data = {};
  try {
    data = await res.json();
  } catch {
    data = {};
  }
  // A key revoked or expired while the page is open: back to the sign-in form.
  // Access's own refusals (an expired sign-in, a person without a role) are worded by the service.
  const fromAccess = typeof data.detail === "string" && /Cloudflare Access/.test(data.detail);
  if (res.status === 401 && session.role) {
    signOut(session.access
      ? "Your Cloudflare Access sign-in is no longer accepted (it has expired). Reload the page to sign in again."
      : "Your key is no longer accepted (it was revoked or has expired). Sign in again.");
  }
  return { ok: res.ok, status: res.status, data, detail: fromAccess ? data.detail : inWords(res.status, data.detail) };
}

function show(id, message) {
  const el = $(id);
  el.textContent = message;
  el.hidden = !message;
}

// --- Signing in and out --------------------------------------------------------------


/**
 * Signs in with `token`; `resumed` when it is the key this tab kept (focus stays put).
 * Without a token, as the person Cloudflare Access signed in, if it did: `quiet` then
 * shows the key form without an error when the service finds no Access sign-in.
 */
async function signIn(token, { resumed = false, quiet = false } = {}) {
  session.token = token;
  session.access = !token;
  const probe = await api("GET", "/api/links?limit=1");
  if (!probe.ok) {
    session.token = null;
    session.access = false;
    // Without a key, only Access can have let the call in: a 403 is a signed-in person.
    const accessSaid = /Cloudflare Access/.test(probe.data.detail || "") || (!token && probe.status === 403);
    if (!token && quiet && !accessSaid) {
      showSignIn("");
      return;
    }
    // A kept key is dropped only when the service refuses it, not when it is unreachable.
    if (token && probe.status !== 0) storeToken(null);
    let message = probe.detail;
    if (probe.status === 404) message = "The operator API is off on this instance: it needs ADMIN_TOKEN to be set.";
    if (probe.status === 403 && !/Cloudflare Access/.test(probe.detail)) {
      message = token
        ? "This key's role (stats) reads one link's statistics by its key and cannot list links. Use a reader, creator or admin key here."
        : "You are signed in through Cloudflare Access with the stats role, which reads one link's statistics by its key and cannot list links. Sign in with a reader, creator or admin key here.";
    }
    showSignIn(message);
    return;
  }
  // Who signed in: the role, and a person's email (`GET /api/me`).
  const me = await api("GET", "/api/me");
  if (!me.ok) {
    session.token = null;
    session.access = false;
    showSignIn(me.detail);
    return;
  }
  session.role = me.data.role;
  if (token) storeToken(token);
  $("token").value = "";
  $("signin-status").textContent = "";
  show("token-error", "");
  $("token").removeAttribute("aria-invalid");
  $("signin").hidden = true;
  $("board").hidden = false;
  const can = {
    admin: "every link, changes, import and export, and API keys",
    creator: "the links this key created, and changes to them",
    reader: "every link and the export; changes, import and keys need another role",
  }[session.role];
  const article = session.role === "admin" ? "an" : "a";
  $("whoami").textContent = session.access
    ? `Signed in through Cloudflare Access as ${me.data.email || me.data.id}, ${article} ${session.role}: ${can.replace("this key", "you")}.`
    : `Signed in with ${article} ${session.role} key: ${can}.`;
  $("bulk").hidden = !(session.role === "admin" || session.role === "creator");
  $("transfer").hidden = session.role === "creator";
  $("export-part").hidden = session.role === "creator";
  $("import-form").hidden = session.role !== "admin";
  $("keys").hidden = session.role !== "admin";
  const domains = await api("GET", "/api/domains");
  fillDomains(domains.ok ? domains.data.domains : null);
  if (session.role === "admin" || session.role === "reader") {
    const tags = await api("GET", "/api/tags");
    if (tags.ok) fillTags(tags.data.tags);
  }
  if (session.role === "admin") await reloadKeys();
  $("create-bar").hidden = !(session.role === "admin" || session.role === "creator");
  resetPaging();
  await Promise.all([loadLinks(), loadOverview()]);
  if (location.hash) {
    await route();
    return;
  }
  if (!resumed) {
    $("links-title").setAttribute("tabindex", "-1");
    $("links-title").focus();
  }
}

/** The sign-in form, with why it is shown again (`note`) or why a key was refused (`message`). */
function showSignIn(message, note = "") {
  $("board").hidden = true;
  $("signin").hidden = false;
  $("signin-status").textContent = note;
  show("token-error", message);
  if (message) $("token").setAttribute("aria-invalid", "true");
  else $("token").removeAttribute("aria-invalid");
}

/** Forgets the key and everything shown with it. */
function signOut(message = "") {
  // A person signed in through Access signs out of Access itself (its logout page).
  if (session.access && !message) {
    window.location.assign("/cdn-cgi/access/logout");
    return;
  }
  session.access = false;
  session.token = null;
  session.role = null;
  storeToken(null);
  view.links.clear();
  view.selected.clear();
  document.querySelectorAll("#links-table tbody, #keys-table tbody, #import-table tbody").forEach((el) => el.replaceChildren());
  $("new-key-token").textContent = "";
  $("new-key").hidden = true;
  $("import-results").hidden = true;
  $("f-tags").replaceChildren();
  fillDomains(null);
  ["bulk-status", "export-status", "keys-status", "import-summary", "new-key-copied"].forEach((id) => ($(id).textContent = ""));
  here.link = null;
  $("link-view").hidden = true;
  $("home-view").hidden = false;
  showSignIn("", message);
  $("token").focus();
}

// --- Links: the list, its filters and paging ------------------------------------------

function fillTags(tags) {
  if (!tags) return;
  $("f-tags").replaceChildren(
    ...tags.map((t) => {
      const option = document.createElement("option");
      option.value = t.tag;
      return option;
    }),
  );
}

/**
 * The domain filter, shown only when the service serves several domains (docs/teams.md):
 * one option per domain the key may see, from GET /api/domains.
 */
function fillDomains(domains) {
  const several = Array.isArray(domains) && domains.length > 1;
  view.domains = several;
  $("f-domain-field").hidden = !several;
  $("ov-domain-field").hidden = !several;
  $("import-domain-field").hidden = !several;
  if (!several) {
    $("import-domain").replaceChildren();
    return;
  }
  $("import-domain").replaceChildren(
    ...domains.map((d) => new Option(d.primary ? `${d.name} (primary)` : d.name, d.name)),
  );
  for (const select of [$("f-domain"), $("ov-domain")]) {
    select.replaceChildren(
      new Option("Every domain", ""),
      ...domains.map((d) => new Option(d.primary ? `${d.name} (primary)` : d.name, d.name)),
    );
  }
}

/**
 * A link's identity on the page: a key is unique only within its domain, so the
 * selection holds `domain/key` and every call names the domain (`?domain=`).
 */
const linkId = (link) => `${link.domain}/${link.key}`;
function linkPath(id) {
  const cut = id.lastIndexOf("/");
  return `/api/links/${encodeURIComponent(id.slice(cut + 1))}?domain=${encodeURIComponent(id.slice(0, cut))}`;
}

function linkQuery() {
  const params = new URLSearchParams();
  for (const el of $("filters").elements) {
    if (el.name && el.value.trim()) params.set(el.name, el.value.trim());
  }
  params.set("limit", String(PAGE_SIZE));
  const cursor = view.cursors[view.cursors.length - 1];
  if (cursor) params.set("cursor", cursor);
  return `/api/links?${params}`;
}

function resetPaging() {
  view.cursors = [""];
  view.next = null;
}

function cell(label, ...content) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.append(...content);
  return td;
}

function stateLabel(state) {
  return { active: "Active", deactivated: "Deactivated", expired: "Expired", exhausted: "Click limit reached", scheduled: "Not active yet" }[state] || state;
}

function linkRow(link) {
  const tr = document.createElement("tr");
  const pick = document.createElement("input");
  pick.type = "checkbox";
  pick.value = link.key;
  pick.dataset.id = linkId(link);
  pick.checked = view.selected.has(linkId(link));
  pick.setAttribute("aria-label", `Select ${link.key}`);
  // The link's own view on this page: opening it reads the link, never follows it.
  const short = document.createElement("a");
  short.href = `#link/${encodeURIComponent(link.domain)}/${encodeURIComponent(link.key)}`;
  short.textContent = view.domains ? `${link.domain}/${link.key}` : link.key;
  short.className = "open-link";
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "copy";
  copy.dataset.copy = link.url;
  copy.textContent = "Copy";
  copy.setAttribute("aria-label", `Copy ${link.url}`);
  const copied = document.createElement("span");
  copied.setAttribute("role", "status");
  copied.className = "copied";
  const state = document.createElement("span");
  state.className = `state state-${link.state}`;
  state.textContent = stateLabel(link.state);
  const created = timeOf(link.created_at);
  const title = link.title ? [document.createElement("strong"), document.createElement("br")] : [];
  if (title.length) title[0].textContent = link.title;
  const target = document.createElement("span");
  target.textContent = link.target_url;
  const pickCell = cell("Select", pick);
  pickCell.className = "pick";
  const clicks = cell("Clicks", String(link.clicks));
  clicks.className = "num";
  const tags = cell("Tags", (link.tags || []).join(", "));
  tags.className = "tags";
  tr.append(
    pickCell,
    cell("Short link", short, " ", copy, " ", copied),
    cell("Target", ...title, target),
    cell("State", state),
    cell("Health", healthPill(document.createElement("span"), link.health?.state)),
    tags,
    clicks,
    cell("Created", created),
  );
  return tr;
}

async function loadLinks() {
  show("links-error", "");
  // Only the answer to the latest request is drawn: filters submitted in quick
  // succession must not be overwritten by an older, slower answer.
  const seq = ++view.seq;
  const { ok, data, detail } = await api("GET", linkQuery());
  if (seq !== view.seq) return;
  if (!ok) {
    if (session.role) show("links-error", detail);
    return;
  }
  view.links = new Map(data.links.map((l) => [linkId(l), l]));
  view.next = data.next_cursor || null;
  $("links-table").querySelector("tbody").replaceChildren(...data.links.map(linkRow));
  const page = view.cursors.length;
  $("links-caption").textContent = data.links.length
    ? `Page ${page}: ${data.links.length} link${data.links.length === 1 ? "" : "s"}, newest first.`
    : page > 1 ? `Page ${page}: no more links.` : "No links match.";
  $("prev").disabled = page === 1;
  $("next").disabled = !view.next;
  $("select-all").checked = data.links.length > 0 && data.links.every((l) => view.selected.has(linkId(l)));
  updateSelection();
}

function updateSelection() {
  const n = view.selected.size;
  $("selected-count").textContent = n ? `(${n} selected)` : "(none selected)";
  ["bulk-deactivate", "bulk-tag-add", "bulk-tag-remove"].forEach((id) => ($(id).disabled = n === 0));
}

function setupLinks() {
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    resetPaging();
    view.selected.clear();
    loadLinks();
  });
  $("prev").addEventListener("click", () => {
    if (view.cursors.length > 1) view.cursors.pop();
    loadLinks().then(() => ($("prev").disabled ? $("next") : $("prev")).focus());
  });
  $("next").addEventListener("click", () => {
    if (!view.next) return;
    view.cursors.push(view.next);
    loadLinks().then(() => ($("next").disabled ? $("prev") : $("next")).focus());
  });
  $("links-table").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    $("links-table").querySelectorAll(".copied").forEach((c) => (c.textContent = ""));
    copyText(button.dataset.copy, button.parentElement.querySelector(".copied"));
  });
  $("links-table").addEventListener("change", (event) => {
    const box = event.target;
    if (box.id === "select-all") {
      $("links-table").querySelectorAll("tbody input[type=checkbox]").forEach((b) => {
        b.checked = box.checked;
        if (box.checked) view.selected.add(b.dataset.id);
        else view.selected.delete(b.dataset.id);
      });
    } else if (box.type === "checkbox") {
      if (box.checked) view.selected.add(box.dataset.id);
      else view.selected.delete(box.dataset.id);
    }
    updateSelection();
  });
}

// --- Bulk actions: one call per link, through PATCH and DELETE /api/links/{key} -------

/** Runs `each` on every selected link (its `domain/key`), a few at a time; answers the refusals. */
async function onSelected(each) {
  const keys = [...view.selected];
  const refused = [];
  let done = 0;
  const queue = [...keys];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      const r = await each(key);
      if (r.ok) done += 1;
      else refused.push(`${key}: ${r.detail}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return { done, refused };
}

function report(verb, { done, refused }) {
  let text = `${verb} ${done} link${done === 1 ? "" : "s"}.`;
  if (refused.length) text += ` Refused ${refused.length}: ${refused.join("; ")}`;
  $("bulk-status").textContent = text;
}

/** A tag as the service stores it (docs/controls.md): trimmed, lower case, spaces as '-'. */
const { normalizeTag } = LinkSettings;

function setupBulk() {
  $("bulk-deactivate").addEventListener("click", async () => {
    const n = view.selected.size;
    if (!n || !confirm(`Deactivate ${n} link${n === 1 ? "" : "s"}? They stop redirecting at once.`)) return;
    const result = await onSelected((id) => api("DELETE", linkPath(id)));
    if (session.role) {
      report("Deactivated", result);
      view.selected.clear();
      await loadLinks();
    }
  });
  const editTags = (adding) => async () => {
    const tag = normalizeTag($("bulk-tag").value);
    if (!tag) {
      $("bulk-status").textContent = "Type a tag first.";
      $("bulk-tag").focus();
      return;
    }
    // PATCH replaces the whole list, so each link's tags are read fresh first: a
    // selection may span pages, and another operator may have changed them meanwhile.
    const result = await onSelected(async (id) => {
      const path = linkPath(id);
      const current = await api("GET", path);
      if (!current.ok) return current;
      const tags = current.data.tags || [];
      const next = adding ? [...new Set([...tags, tag])] : tags.filter((t) => t !== tag);
      return api("PATCH", path, { tags: next });
    });
    if (session.role) {
      report(adding ? `Tagged “${tag}” on` : `Removed “${tag}” from`, result);
      await loadLinks();
    }
  };
  $("bulk-tag-add").addEventListener("click", editTags(true));
  $("bulk-tag-remove").addEventListener("click", editTags(false));
}

// --- Import and export -----------------------------------------------------------------

/** The cells of a CSV text (RFC 4180: quotes, doubled quotes, CRLF), row by row. */
function csvRows(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((cell) => cell.trim()));
}

const NUMBERS = new Set(["clicks", "max_clicks", "redirect_status"]);
const FLAGS = new Set(["is_active", "forward_query"]);

/** One CSV row as an import item: typed cells, empty ones left out. */
function csvItem(header, cells, line) {
  const item = {};
  header.forEach((name, i) => {
    const raw = (cells[i] ?? "").trim();
    if (!raw || !IMPORT_FIELDS.includes(name)) return;
    if (NUMBERS.has(name)) {
      item[name] = /^\d+$/.test(raw) ? Number(raw) : raw;
    } else if (FLAGS.has(name)) {
      const flag = { true: true, yes: true, 1: true, false: false, no: false, 0: false }[raw.toLowerCase()];
      if (flag === undefined) throw new Error(`line ${line}: ${name} must be true or false, not “${raw}”`);
      item[name] = flag;
    } else if (name === "tags") {
      item.tags = raw.split(/[,|]/).map((t) => t.trim()).filter(Boolean);
    } else item[name] = raw;
  });
  return item;
}

/** This service's own export line (or any link object) as an import item. */
function exportItem(link) {
  const item = {};
  for (const name of IMPORT_FIELDS) if (link[name] !== undefined && link[name] !== null) item[name] = link[name];
  return item;
}

/** The links of a file: CSV with a header, a JSON array, or JSON Lines (the export). */
function importItems(name, text) {
  const start = text.trimStart()[0];
  if (/\.csv$/i.test(name) || (start !== "{" && start !== "[")) {
    const [head, ...rows] = csvRows(text.replace(/^\uFEFF/, ""));
    if (!head) return [];
    const header = head.map((h) => h.trim().toLowerCase().replace(/[\s-]+/g, "_")).map((h) => (h === "url" ? "target_url" : h));
    if (!header.includes("key") || !header.includes("target_url")) {
      throw new Error("the CSV header must name the columns key and target_url");
    }
    return rows.map((cells, i) => csvItem(header, cells, i + 2));
  }
  let values;
  if (start === "[") {
    try {
      values = JSON.parse(text);
    } catch (e) {
      throw new Error(`it is not valid JSON (${e.message})`);
    }
  } else {
    values = text.split(/\r?\n/).flatMap((line, i) => {
      if (!line.trim()) return [];
      try {
        return [JSON.parse(line)];
      } catch {
        throw new Error(`line ${i + 1} is not JSON`);
      }
    });
  }
  // The export's last line says it is complete; a skipped row says why: neither is a link.
  return values.filter((v) => v && typeof v === "object" && !("export" in v) && !("error" in v)).map(exportItem);
}

function resultRow(r) {
  const tr = document.createElement("tr");
  const detail = document.createElement("td");
  if (r.secret_key) {
    const a = document.createElement("a");
    a.href = `/admin/${encodeURIComponent(r.secret_key)}`;
    a.textContent = `${location.origin}/admin/${r.secret_key}`;
    detail.append(a);
  } else detail.textContent = r.detail || "";
  const key = document.createElement("td");
  key.textContent = r.key ?? "(none)";
  const outcome = document.createElement("td");
  outcome.textContent = r.outcome;
  tr.append(key, outcome, detail);
  return tr;
}

/** At most this many result rows are drawn; the counts cover every item. */
const RESULT_ROWS = 200;

async function importFile(event) {
  event.preventDefault();
  show("import-error", "");
  const file = $("import-file").files[0];
  if (!file) {
    show("import-error", "Choose a file to import.");
    $("import-file").focus();
    return;
  }
  let items;
  try {
    items = importItems(file.name, await file.text());
  } catch (e) {
    show("import-error", `This file cannot be imported: ${e.message}.`);
    return;
  }
  if (!items.length) {
    show("import-error", "This file holds no links.");
    return;
  }
  const button = $("import-form").querySelector("button[type=submit]");
  button.disabled = true;
  const onConflict = $("import-update").checked ? "update" : "skip";
  // One domain per import (the service's rule): the one chosen, else the page's own.
  const into = $("import-domain").value ? `&domain=${encodeURIComponent($("import-domain").value)}` : "";
  const totals = { created: 0, updated: 0, exists: 0, rejected: 0 };
  const results = [];
  try {
    for (let i = 0; i < items.length; i += IMPORT_BATCH) {
      const r = await api("POST", `/api/links/import?on_conflict=${onConflict}${into}`, items.slice(i, i + IMPORT_BATCH));
      if (!r.ok) {
        show("import-error", `${i ? `The first ${i} links were imported; the rest was refused. ` : ""}${r.detail}`);
        break;
      }
      for (const k of Object.keys(totals)) totals[k] += r.data[k];
      results.push(...r.data.results);
    }
  } finally {
    button.disabled = false;
  }
  if (!results.length) return;
  $("import-summary").textContent =
    `${totals.created} created, ${totals.updated} updated, ${totals.exists} already existed (left as they were), ${totals.rejected} refused.` +
    (totals.created ? " Each created link's admin link is below, shown only this once." : "") +
    (results.length > RESULT_ROWS ? ` The first ${RESULT_ROWS} results are listed.` : "");
  $("import-table").querySelector("tbody").replaceChildren(...results.slice(0, RESULT_ROWS).map(resultRow));
  $("import-results").hidden = false;
  resetPaging();
  await loadLinks();
}

/** Saves `blob` as a file named `name`. */
function save(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

async function exportLinks() {
  $("export-status").textContent = "Exporting…";
  const r = await api("GET", "/api/links/export");
  if (!r.ok) {
    $("export-status").textContent = r.detail;
    return;
  }
  const text = await r.res.text();
  // An export that broke off lacks the completion line: never saved as if it were whole.
  let last = {};
  try {
    last = JSON.parse(text.trimEnd().split("\n").pop() || "{}");
  } catch {
    last = {};
  }
  if (last.export !== "complete") {
    $("export-status").textContent = "The export broke off before its end, so nothing was saved. Try again.";
    return;
  }
  save(new Blob([text], { type: "application/x-ndjson" }), `links-${new Date().toISOString().slice(0, 10)}.jsonl`);
  $("export-status").textContent = `Downloaded ${last.links} link${last.links === 1 ? "" : "s"} as JSON Lines (this file imports back here).`;
}

// --- API keys (admin only) -------------------------------------------------------------

function keyRow(key) {
  const tr = document.createElement("tr");
  const td = (label, text) => {
    const c = document.createElement("td");
    c.dataset.label = label;
    c.textContent = text;
    return c;
  };
  const when = (t) => (t ? dateFormat.format(new Date(t)) : "never");
  const action = document.createElement("td");
  if (key.state === "active") {
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "danger";
    revoke.textContent = "Revoke";
    revoke.setAttribute("aria-label", `Revoke ${key.name}`);
    revoke.dataset.revoke = key.id;
    revoke.dataset.name = key.name;
    action.append(revoke);
  }
  tr.append(td("Name", key.name), td("Role", key.role), td("State", key.state), td("Last used", when(key.last_used_at)), td("Expires", key.expires_at ? when(key.expires_at) : "never"), action);
  return tr;
}

function renderKeys(keys) {
  $("keys-table").querySelector("tbody").replaceChildren(...(keys || []).map(keyRow));
}

async function reloadKeys() {
  const r = await api("GET", "/api/keys");
  if (r.ok) renderKeys(r.data.keys);
  else if (session.role) $("keys-status").textContent = r.detail;
}

function setupKeys() {
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("key-error", "");
    $("key-name").removeAttribute("aria-invalid");
    const body = { name: $("key-name").value.trim(), role: $("key-role").value };
    if (!body.name) {
      show("key-error", "Give the key a name, such as the person or integration that uses it.");
      $("key-name").setAttribute("aria-invalid", "true");
      $("key-name").focus();
      return;
    }
    if ($("key-expires").value) {
      const when = new Date($("key-expires").value);
      if (Number.isNaN(when.getTime())) return show("key-error", "Enter a valid expiry date and time.");
      body.expires_at = when.toISOString();
    }
    const r = await api("POST", "/api/keys", body);
    if (!r.ok) {
      if (session.role) show("key-error", r.detail);
      return;
    }
    $("key-form").reset();
    $("new-key-token").textContent = r.data.token;
    $("new-key-copied").textContent = "";
    $("new-key").hidden = false;
    $("keys-status").textContent = `Created the ${r.data.role} key “${r.data.name}”.`;
    $("new-key-copy").focus();
    await reloadKeys();
  });
  $("new-key-copy").addEventListener("click", async () => {
    const token = $("new-key-token");
    try {
      await navigator.clipboard.writeText(token.textContent);
    } catch {
      const range = document.createRange();
      range.selectNodeContents(token);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      document.execCommand("copy");
    }
    $("new-key-copied").textContent = "Copied the token.";
  });
  $("keys-table").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-revoke]");
    if (!button) return;
    const { revoke: id, name } = button.dataset;
    if (!confirm(`Revoke the key “${name}”? Its next request is refused; this cannot be undone.`)) return;
    button.disabled = true;
    const r = await api("DELETE", `/api/keys/${encodeURIComponent(id)}`);
    if (!session.role) return;
    $("keys-status").textContent = r.ok ? `Revoked “${name}”: its next request is refused.` : r.detail;
    await reloadKeys();
    $("keys-title").setAttribute("tabindex", "-1");
    $("keys-title").focus();
  });
}

// --- One link: its own view, and the grouped form that creates and edits ------------
// `#new` opens the empty form; `#link/<domain>/<key>` a link's view. The view reads the
// link through the API and never follows its redirect, so opening it counts no click.

const here = {
  /** The link shown, as the API answered it; null on the creation form. */
  link: null,
  /** What the form read right after it was filled: a save sends what differs. */
  snapshot: null,
};

// The form's reading, filling, lists and words are the settings component the owner's
// admin page uses too (settings.js, loaded before this script).
const { withScheme } = LinkSettings;
const FIELD_WORDS = LinkSettings.LABELS;
const FIELD_INPUT = { custom_key: "lf-key", key: "lf-key", social_card: "lf-card_title", split: "add-variant", rules: "add-rule" };
/** The rule and variant lists of the link form (set up once the page has loaded). */
let lists = null;

/** Fills the form with `link` (or empties it for a creation) and takes its snapshot. */
function fillForm(link) {
  const form = $("link-form");
  form.reset();
  clearFormErrors();
  const creating = !link;
  $("lf-key").dataset.field = creating ? "custom_key" : "key";
  LinkSettings.fill(form, link, lists);
  $("lf-key-label").firstChild.textContent = creating ? "Custom key " : "Key ";
  $("lf-key-label").lastElementChild.textContent = creating ? "(optional, 3–64 of a–z 0–9 _ -)" : "(renaming keeps the old key working)";
  $("lf-password-hint").textContent = link?.protected
    ? "(this link has one; type a new one to change it, never shown again)"
    : "(optional, 1–128 characters; never shown again)";
  $("lf-nopassword-field").hidden = !link?.protected;
  $("lf-domain-field").hidden = !creating || !view.domains;
  $("lf-health-group").hidden = !creating;
  $("lf-submit").textContent = creating ? "Create link" : "Save changes";
  $("lf-summary").hidden = creating;
  if (link) LinkSettings.showSummary($("lf-summary-list"), link);
  here.snapshot = LinkSettings.read(form);
}

function clearFormErrors() {
  show("lf-error", "");
  show("lf-target_url-error", "");
  show("lf-key-error", "");
  $("lf-saved").textContent = "";
  $("link-form").querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

/** The API's refusal by the field it names: next to that field when it has its own line. */
function refuse(detail) {
  // "field 'max_clicks' must ..." or "custom_key must ...": the field it is about.
  const field = LinkSettings.fieldOf(detail);
  const words = LinkSettings.inFieldWords(detail);
  const id = FIELD_INPUT[field] || `lf-${field}`;
  const input = field && $(id);
  if (input && $(`${id}-error`)) show(`${id}-error`, words);
  else show("lf-error", words);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  } else $("lf-error").focus?.();
}

/** Creating: every control that is set, in one call; then the new link is opened. */
async function createLink() {
  const read = LinkSettings.read($("link-form"));
  const body = {};
  for (const [field, value] of Object.entries(read)) {
    if (value !== null && value !== false) body[field] = value;
  }
  if ($("lf-password").value) body.password = $("lf-password").value;
  if (!$("lf-domain-field").hidden && $("lf-domain").value) body.domain = $("lf-domain").value;
  if ($("lf-check").checked) body.check = true;
  if (!body.target_url) {
    show("lf-target_url-error", "Enter the URL the short link goes to.");
    $("lf-target_url").setAttribute("aria-invalid", "true");
    $("lf-target_url").focus();
    return;
  }
  $("lf-target_url").value = body.target_url;
  const r = await api("POST", "/api/links/bulk", [body]);
  if (!session.role) return;
  if (!r.ok) return refuse(r.detail);
  const result = r.data.results?.[0] || {};
  if (result.status !== 201) return refuse(result.detail || `The server answered ${result.status}.`);
  view.created = `Created ${result.link.url}.`;
  location.hash = `#link/${encodeURIComponent(result.link.domain)}/${encodeURIComponent(result.link.key)}`;
}

/** Saving: one PATCH of what changed since the form was filled, reported per field. */
async function saveLink() {
  const { patch, error, input } = LinkSettings.prepare($("link-form"), here.snapshot, { removePassword: $("lf-nopassword").checked });
  if (error) {
    show("lf-error", error);
    return (input || $("lf-error")).focus?.();
  }
  const fields = Object.keys(patch);
  if (!fields.length) {
    $("lf-saved").textContent = "Nothing to save: no field was changed.";
    return;
  }
  const r = await api("PATCH", linkPath(linkId(here.link)), patch);
  if (!session.role) return;
  if (!r.ok) return refuse(r.detail);
  const saved = LinkSettings.savedWords(fields);
  if (r.data.key !== here.link.key) {
    view.created = saved;
    location.hash = `#link/${encodeURIComponent(r.data.domain)}/${encodeURIComponent(r.data.key)}`;
    return;
  }
  showLink(r.data);
  $("lf-saved").textContent = saved;
  loadHistory(r.data);
}

const HEALTH_WORDS = { healthy: "Healthy", unhealthy: "Failing", dead: "Dead", unverifiable: "Cannot tell", unknown: "Not checked yet" };
/** A health state as the coloured pill every page shows. */
function healthPill(el, state) {
  const s = HEALTH_WORDS[state] ? state : "unknown";
  // "pill", not "state": the same look, while ".state" stays the link's state alone.
  el.className = `pill health-${s}`;
  el.textContent = HEALTH_WORDS[s];
  return el;
}

function timeOf(iso) {
  const time = document.createElement("time");
  time.dateTime = iso;
  time.title = iso;
  time.className = "when";
  time.textContent = dateFormat.format(new Date(iso));
  return time;
}

/** Copies `text`, and says so in `status`, beside the button that was used. */
async function copyText(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = "Copied";
  } catch {
    status.textContent = "Copying is blocked here: select the link and copy it.";
  }
}

/** Shows `link` in the view: its facts, its form filled, its health. */
function showLink(link) {
  here.link = link;
  view.links.set(linkId(link), link);
  $("view-title").textContent = `Link ${view.domains ? `${link.domain}/` : ""}${link.key}`;
  $("view-short").href = `${link.url}+`;
  $("view-short").textContent = link.url;
  $("view-copied").textContent = "";
  $("view-target").textContent = link.target_url;
  $("view-state").className = `state state-${link.state}`;
  $("view-state").textContent = stateLabel(link.state);
  healthPill($("view-health"), link.health?.state);
  const imported = link.imported_clicks ? ` (${link.imported_clicks} counted before an import)` : "";
  $("view-clicks").textContent = `${link.clicks}${imported}`;
  $("view-created").replaceChildren(timeOf(link.created_at));
  const writer = session.role === "admin" || session.role === "creator";
  $("view-toggle").hidden = !writer;
  $("view-toggle").textContent = link.is_active ? "Deactivate" : "Reactivate";
  $("view-toggle").className = link.is_active ? "danger" : "";
  healthPill($("vh-state"), link.health?.state);
  $("vh-checked").replaceChildren(link.health?.checked_at ? timeOf(link.health.checked_at) : "Never");
  $("vh-reason").textContent = link.health?.reason || "None";
  $("vh-check").hidden = !writer;
  $("link-form").hidden = !writer;
  fillForm(link);
}

/** The clicks-per-day chart, drawn as the admin page draws it (src/web/chart.rs). */
function chart(days) {
  const NS = "http://www.w3.org/2000/svg";
  const el = (name, attrs, text) => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const TOP = 28, PLOT = 136;
  const max = Math.max(0, ...days.map((d) => d.clicks));
  const total = days.reduce((s, d) => s + d.clicks, 0);
  let top = 1, step = 1;
  for (let power = 1; ; power *= 10) {
    const found = [power, power * 2, power * 5].find((s) => Math.ceil(Math.max(max, 1) / s) <= 4);
    if (found) {
      step = found;
      top = Math.max(1, Math.ceil(Math.max(max, 1) / found)) * found;
      break;
    }
  }
  const y = (c) => TOP + PLOT - Math.round((c * PLOT) / top);
  const svg = el("svg", { class: "chart", width: "100%", height: "200", role: "group",
    "aria-label": total ? `Clicks per day: ${total} in ${days.length} days, at most ${max} a day` : `Clicks per day: none in ${days.length} days` });
  for (let at = 0; at <= top; at += step) {
    svg.append(el("line", { class: at ? "grid" : "grid axis", x1: 0, y1: y(at), x2: "100%", y2: y(at), stroke: "#c8c8c8" }),
      el("text", { class: "tick", x: 2, y: y(at) - 4, "font-size": 13 }, `${at}${at === top ? (top === 1 ? " click" : " clicks") : ""}`));
  }
  const slot = 100 / Math.max(days.length, 1);
  const short = (date) => new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  days.forEach((d, i) => {
    const x = i * slot;
    const visitors = d.visitors === undefined ? "" : `, ${d.visitors} ${d.visitors === 1 ? "visitor" : "visitors"}`;
    const name = `${short(d.date)}: ${d.clicks} ${d.clicks === 1 ? "click" : "clicks"}${visitors}`;
    const [tx, anchor] = i < 3 ? [x, "start"] : i + 3 > days.length - 1 ? [x + slot, "end"] : [x + slot / 2, "middle"];
    const g = el("g", { class: "day", tabindex: i === days.length - 1 ? "0" : "-1", role: "img", "aria-label": `${name}, ${d.date}` });
    g.append(el("title", {}, name), el("rect", { class: "hit", x: `${x}%`, y: TOP, width: `${slot}%`, height: PLOT, fill: "transparent" }),
      el("rect", { class: "bar", x: `${x + slot * 0.15}%`, y: y(d.clicks), width: `${slot * 0.7}%`, height: TOP + PLOT - y(d.clicks) }),
      el("text", { class: "tip", x: `${tx}%`, y: Math.max(y(d.clicks) - 6, 14), "text-anchor": anchor, "font-size": 13 }, name));
    svg.append(g);
    if ((days.length - 1 - i) % 7 === 0) svg.append(el("text", { class: "label", x: `${tx}%`, y: TOP + PLOT + 20, "text-anchor": anchor, "font-size": 13 }, short(d.date)));
  });
  // The days as one Tab stop; the arrow keys move between them (as on the admin page).
  const groups = [...svg.querySelectorAll("g.day")];
  svg.addEventListener("keydown", (event) => {
    const at = groups.indexOf(document.activeElement);
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: groups.length - 1 }[event.key];
    if (at < 0 || to === undefined) return;
    event.preventDefault();
    const next = Math.max(0, Math.min(groups.length - 1, to));
    groups.forEach((g, j) => g.setAttribute("tabindex", j === next ? "0" : "-1"));
    groups[next].focus();
  });
  return svg;
}

function topTable(caption, head, rows) {
  const div = document.createElement("div");
  div.append(Object.assign(document.createElement("h4"), { textContent: caption }));
  if (!rows?.length) {
    div.append(Object.assign(document.createElement("p"), { className: "hint", textContent: "No clicks in this period." }));
    return div;
  }
  const table = document.createElement("table");
  table.innerHTML = `<thead><tr><th scope="col"></th><th scope="col" class="num">Clicks</th></tr></thead><tbody></tbody>`;
  table.querySelector("th").textContent = head;
  table.tBodies[0].append(...rows.map((r) => {
    const tr = document.createElement("tr");
    const first = document.createElement("td");
    if (r.href) first.append(Object.assign(document.createElement("a"), { href: r.href, textContent: r.value }));
    else first.textContent = r.value;
    tr.append(first, Object.assign(document.createElement("td"), { className: "num", textContent: r.clicks }));
    return tr;
  }));
  div.append(table);
  return div;
}

async function loadStats(link) {
  const r = await api("GET", `${linkPath(linkId(link)).replace("?", "/stats?")}`);
  if (!r.ok || here.link !== link) return;
  const s = r.data;
  $("stats-title").textContent = `Clicks per day, last ${s.days} days: ${s.clicks} (${s.humans} by people, ${s.bots} by bots)`;
  $("view-chart").replaceChildren(chart(s.by_day || []));
  // The stats name each value by its dimension (host, country, …); topTable shows `value`.
  const named = (rows, field) => (rows || []).map((r) => ({ value: r[field], clicks: r.clicks }));
  $("view-tops").replaceChildren(
    topTable("Top referrers", "Referrer", named(s.referrers, "host")),
    topTable("Countries", "Country", named(s.countries, "country")),
    topTable("Devices", "Device", named(s.devices, "device")),
    topTable("Sources", "Source (qr: a QR code scan)", named(s.sources, "source")),
  );
  if (s.campaigns?.length) $("view-tops").append(topTable("Campaigns", "Campaign", named(s.campaigns, "campaign")));
  $("view-stats").hidden = false;
}

const DEVICE_WORDS = { desktop: "Desktop", mobile: "Phone", tablet: "Tablet", bot: "Bot", other: "Other" };
const SOURCE_WORDS = { link: "The short link", qr: "The QR code" };
/** The latest overview request: an older, slower answer is not drawn over a newer one. */
let overviewAsked = 0;

/**
 * The overview: the instance's (or the key's domains') clicks and visitors per day, top
 * links, referrers, countries, devices, sources and campaigns for the chosen window,
 * from GET /api/stats (docs/api.md). An instance without that endpoint answers 404,
 * and the section says the overview is not available there.
 */
async function loadOverview() {
  const asked = ++overviewAsked;
  const days = $("ov-days").value;
  const params = new URLSearchParams({ days });
  if (!$("ov-domain-field").hidden && $("ov-domain").value) params.set("domain", $("ov-domain").value);
  const tag = normalizeTag($("ov-tag").value);
  if (tag) params.set("tag", tag);
  $("overview").hidden = false;
  $("ov-status").textContent = "Loading the overview…";
  const r = await api("GET", `/api/stats?${params}`);
  if (asked !== overviewAsked || !session.role) return;
  if (!r.ok) {
    $("ov-body").hidden = true;
    $("ov-status").textContent = r.status === 404
      ? "The overview is not available yet: the statistics across links (GET /api/stats) are not built. Each link's own figures are in its view."
      : r.detail;
    return;
  }
  const s = r.data;
  const scope = [s.scope?.domain, s.scope?.tag && `tag ${s.scope.tag}`].filter(Boolean).join(", ");
  $("ov-status").textContent = `Last ${s.days} days${scope ? ` (${scope})` : ""}: ${s.clicks} ${s.clicks === 1 ? "click" : "clicks"} by ${s.visitors} ${s.visitors === 1 ? "visitor" : "visitors"}.`;
  $("ov-clicks").textContent = s.clicks;
  $("ov-visitors").textContent = s.visitors;
  $("ov-bots").textContent = s.bots;
  $("ov-chart-title").textContent = `Clicks and visitors per day, last ${s.days} days`;
  $("ov-chart").replaceChildren(chart(s.by_day || []));
  const rows = (list, value) => (list || []).map((x) => ({ value: value(x), clicks: x.clicks }));
  const links = (s.top_links || []).map((l) => ({
    value: view.domains ? `${l.domain}/${l.key}` : l.key,
    clicks: l.clicks,
    // The link's own view, which reads the link and never follows it.
    href: `#link/${encodeURIComponent(l.domain)}/${encodeURIComponent(l.key)}`,
  }));
  $("ov-tops").replaceChildren(
    topTable("Top links", "Link", links),
    topTable("Top referrers", "Referrer", rows(s.referrers, (x) => (x.host === "direct" ? "Direct (no referrer)" : x.host))),
    topTable("Countries", "Country", rows(s.countries, (x) => x.country)),
    topTable("Devices", "Device", rows(s.devices, (x) => DEVICE_WORDS[x.device] || x.device)),
    topTable("Sources", "Source", rows(s.sources, (x) => SOURCE_WORDS[x.source] || x.source)),
    topTable("Campaigns", "Campaign", rows(s.campaigns, (x) => x.campaign)),
  );
  $("ov-body").hidden = false;
}

const ACTION_WORDS = { "links.create": "Created", "links.import": "Imported", "link.update": "Changed", "link.deactivate": "Deactivated" };

/** The link's history from the audit log (admin keys only): the latest 500 records, filtered to it. */
async function loadHistory(link) {
  if (session.role !== "admin") {
    $("history-note").textContent = "The history comes from the audit log, which only an admin key reads.";
    $("history-list").replaceChildren();
    $("view-history").hidden = false;
    return;
  }
  const r = await api("GET", "/api/audit?limit=500");
  if (!r.ok || here.link !== link) return;
  const names = new Set([link.key, `${link.domain}/${link.key}`]);
  const mine = r.data.entries.filter((e) => names.has(e.target) || (e.detail?.created || []).some((n) => names.has(n)));
  $("history-note").textContent = mine.length ? "" : "Nothing in the latest 500 records of the audit log.";
  $("history-list").replaceChildren(...mine.map((e) => {
    const li = document.createElement("li");
    let what = ACTION_WORDS[e.action] || e.action;
    if (e.action === "link.update") {
      const fields = Object.keys(e.detail || {}).map((f) => (f === "is_active" ? (e.detail.is_active ? "reactivated" : "deactivated") : FIELD_WORDS[f] || f));
      what = fields.includes("reactivated") || fields.includes("deactivated") ? fields.join(", ").replace(/^./, (c) => c.toUpperCase()) : `Changed ${fields.join(", ")}`;
    }
    li.append(timeOf(e.at), ` ${what} `, Object.assign(document.createElement("span"), { className: "hint", textContent: `by ${e.actor === "root" ? "the admin token" : `key ${e.actor}`}` }));
    return li;
  }));
  $("view-history").hidden = false;
}

/** Shows the list, the creation form or a link's view, by the address's hash. */
async function route() {
  if (!session.role) return;
  const hash = decodeURIComponent(location.hash);
  const writer = session.role === "admin" || session.role === "creator";
  const match = location.hash.match(/^#link\/([^/]+)\/(.+)$/);
  const creating = hash === "#new" && writer;
  $("home-view").hidden = creating || Boolean(match);
  $("link-view").hidden = !(creating || match);
  if (!creating && !match) {
    here.link = null;
    return;
  }
  const parts = ["view-facts", "view-stats", "view-health-card", "view-history"];
  parts.forEach((id) => ($(id).hidden = true));
  $("link-form").hidden = false;
  if (creating) {
    here.link = null;
    $("view-title").textContent = "Create link";
    fillForm(null);
    $("view-title").focus();
    return;
  }
  const id = `${decodeURIComponent(match[1])}/${decodeURIComponent(match[2])}`;
  $("view-title").textContent = `Link ${decodeURIComponent(match[2])}`;
  const r = await api("GET", linkPath(id));
  if (!session.role) return;
  if (!r.ok) {
    $("link-form").hidden = true;
    $("view-facts").hidden = false;
    $("view-status").textContent = r.detail;
    return;
  }
  showLink(r.data);
  $("view-facts").hidden = false;
  $("view-health-card").hidden = false;
  $("view-status").textContent = view.created || "";
  $("lf-saved").textContent = view.created?.startsWith("Saved") ? view.created : "";
  view.created = "";
  $("view-title").focus();
  loadStats(r.data);
  loadHistory(r.data);
}

function setupLinkView() {
  window.addEventListener("hashchange", route);
  $("back").addEventListener("click", (event) => {
    event.preventDefault();
    history.pushState(null, "", location.pathname);
    route().then(() => loadLinks());
  });
  lists = LinkSettings.setupLists($("link-form"));
  $("lf-target_url").addEventListener("blur", () => {
    const fixed = withScheme($("lf-target_url").value);
    if (fixed !== $("lf-target_url").value.trim()) $("lf-target_url").value = fixed;
  });
  $("link-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormErrors();
    $("lf-submit").disabled = true;
    try {
      await (here.link ? saveLink() : createLink());
    } finally {
      $("lf-submit").disabled = false;
    }
  });
  $("view-copy").addEventListener("click", () => copyText(here.link.url, $("view-copied")));
  $("view-toggle").addEventListener("click", async () => {
    const link = here.link;
    if (link.is_active && !confirm("Deactivate this link? It stops redirecting at once (you can reactivate it here).")) return;
    const r = await api("PATCH", linkPath(linkId(link)), { is_active: !link.is_active });
    if (!session.role) return;
    if (!r.ok) return ($("view-status").textContent = r.detail);
    showLink(r.data);
    $("view-status").textContent = r.data.is_active ? "Reactivated: the link redirects again." : "Deactivated: the link no longer redirects.";
    $("view-toggle").focus();
    loadHistory(r.data);
  });
  $("vh-check").addEventListener("click", async () => {
    $("vh-check").disabled = true;
    $("vh-status").textContent = "Checking the target…";
    const r = await api("POST", `${linkPath(linkId(here.link)).replace("?", "/check?")}`);
    $("vh-check").disabled = false;
    if (!r.ok) return ($("vh-status").textContent = r.detail);
    const fresh = await api("GET", linkPath(linkId(here.link)));
    if (fresh.ok) {
      const health = r.data.health || fresh.data.health;
      healthPill($("vh-state"), health.state);
      healthPill($("view-health"), health.state);
      $("vh-checked").replaceChildren(health.checked_at ? timeOf(health.checked_at) : "Never");
      $("vh-reason").textContent = health.reason || "None";
      $("vh-status").textContent = `Checked just now: ${HEALTH_WORDS[health.state] || health.state}.`;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) {
      showSignIn("Enter an API key or the admin token.");
      $("token").focus();
      return;
    }
    const button = $("signin-form").querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await signIn(token);
    } finally {
      button.disabled = false;
    }
    if (!session.role) $("token").focus();
  });
  $("signout").addEventListener("click", () => (session.access ? signOut() : signOut("Signed out. The key is no longer kept in this tab.")));
  setupLinks();
  setupBulk();
  setupKeys();
  setupLinkView();
  $("overview-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadOverview();
  });
  $("import-form").addEventListener("submit", importFile);
  $("export").addEventListener("click", exportLinks);
  const kept = storedToken();
  if (kept) signIn(kept, { resumed: true });
  else signIn(null, { resumed: true, quiet: true });
});
