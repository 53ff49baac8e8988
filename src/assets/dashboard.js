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
  resetPaging();
  await loadLinks();
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
  $("import-domain-field").hidden = !several;
  if (!several) {
    $("import-domain").replaceChildren();
    return;
  }
  $("import-domain").replaceChildren(
    ...domains.map((d) => new Option(d.primary ? `${d.name} (primary)` : d.name, d.name)),
  );
  $("f-domain").replaceChildren(
    new Option("Every domain", ""),
    ...domains.map((d) => new Option(d.primary ? `${d.name} (primary)` : d.name, d.name)),
  );
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

/** A health state in the words the admin page uses. */
function healthLabel(state) {
  return { healthy: "Healthy", unhealthy: "Failing", dead: "Dead", unverifiable: "Cannot tell" }[state] || "Not checked yet";
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
  const short = document.createElement("a");
  // The preview on the link's own domain, which may not be this page's host.
  short.href = `${link.url}+`;
  short.textContent = view.domains ? `${link.domain}/${link.key}` : link.key;
  short.title = link.url;
  const state = document.createElement("span");
  state.className = `state state-${link.state}`;
  state.textContent = stateLabel(link.state);
  const created = document.createElement("time");
  created.dateTime = link.created_at;
  created.title = link.created_at;
  created.textContent = dateFormat.format(new Date(link.created_at));
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
    cell("Short link", short),
    cell("Target", ...title, target),
    cell("State", state),
    cell("Health", healthLabel(link.health?.state)),
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
const normalizeTag = (raw) => raw.trim().toLowerCase().replace(/\s+/g, "-");

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
  $("import-form").addEventListener("submit", importFile);
  $("export").addEventListener("click", exportLinks);
  const kept = storedToken();
  if (kept) signIn(kept, { resumed: true });
  else signIn(null, { resumed: true, quiet: true });
});
