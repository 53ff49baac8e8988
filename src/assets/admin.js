// The admin page's settings: the one settings form (the component in settings.js,
// shared with the dashboard's link view) saved to the owner's JSON API (PATCH this
// page's URL) without a reload, the "check now" button, and the chart's keys. Served
// from /static/admin.js, after app.js and settings.js; wrapped in a function so its
// names do not meet app.js's.
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
  const inAdminWords = LinkSettings.inFieldWords;

  /** The input an error about `field` is shown at; the lists' by their Add button. */
  const INPUT_OF = { rules: "add-rule", split: "add-variant", social_card: "card_title", password: "new_password" };

  /**
   * The facts at the top of the page, as the server now renders them: fetched and put
   * in place after a save, so they never disagree with the form and no reload is needed.
   */
  async function refreshFacts() {
    try {
      const res = await fetch(here, { headers: { accept: "text/html" } });
      if (!res.ok) return;
      const fresh = new DOMParser().parseFromString(await res.text(), "text/html");
      for (const selector of ["h1", "dl.facts"]) {
        const now = fresh.querySelector(selector);
        if (now) document.querySelector(selector)?.replaceWith(document.adoptNode(now));
      }
      document.querySelectorAll("dl.facts time").forEach((t) => {
        const when = new Date(t.dateTime);
        if (!Number.isNaN(when.getTime())) t.replaceWith(timeOf(t.dateTime));
      });
    } catch {
      // The form already says what was saved; the facts catch up at the next visit.
    }
  }

  /** The password part after a save: whether there is one, and its Remove button. */
  function showPassword(isProtected) {
    $("password-status").firstChild.textContent = isProtected
      ? "This link asks visitors for a password. "
      : "This link has no password. ";
    const holder = $("password-remove");
    if (isProtected && !$("remove-password")) {
      const button = Object.assign(document.createElement("button"), {
        type: "submit", name: "remove", value: "1", id: "remove-password", className: "secondary", textContent: "Remove password",
      });
      button.dataset.confirm = "Remove the password? Anyone with the link can then follow it.";
      holder.append(button);
    } else if (!isProtected) holder.replaceChildren();
  }

  /**
   * The one settings form: one Save sends one PATCH of what changed since the page
   * loaded (or since the last save), says which fields were saved, and shows the
   * link's new state without a reload. A refusal is shown in the form's words, at the
   * field it names.
   */
  function setupSettings(form) {
    const lists = LinkSettings.setupLists(form);
    let snapshot = LinkSettings.read(form);
    let saving = false;
    const error = $("settings-error");
    const saved = $("settings-saved");
    const clear = () => {
      error.hidden = true;
      error.textContent = "";
      saved.textContent = "";
      form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    };
    const fail = (message, input) => {
      error.textContent = message;
      error.hidden = false;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (!described.includes(error.id)) input.setAttribute("aria-describedby", [...described, error.id].join(" "));
        input.focus();
      } else error.focus();
    };
    form.addEventListener("click", (event) => {
      if (!event.target.closest("#remove-split")) return;
      lists.lists.variant.list.replaceChildren();
      lists.renumber();
      saved.textContent = "The split is removed when you save.";
      $("add-variant").focus();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clear();
      // "Remove password" is a submit button too, so the form works without the script.
      const remove = $("remove-password");
      const removing = Boolean(remove) && event.submitter === remove;
      if (removing && !confirm(remove.dataset.confirm)) return;
      if (removing) $("new_password").value = "";
      const { patch, error: problem, input } = LinkSettings.prepare(form, snapshot, { removePassword: removing });
      if (problem) return fail(problem, input);
      const fields = Object.keys(patch);
      if (fields.length === 0) {
        saved.textContent = "Nothing to save: no field was changed.";
        return;
      }
      // A second press while the first is on its way sends nothing; the button is not
      // disabled, which would take the focus away from it.
      if (saving) return;
      saving = true;
      form.setAttribute("aria-busy", "true");
      try {
        const { ok, data } = await send("PATCH", here, patch);
        if (!ok) {
          const detail = data.detail || "Something went wrong.";
          const field = LinkSettings.fieldOf(detail);
          const at = field && ($(INPUT_OF[field]) || form.querySelector(`[data-field="${field}"]`));
          return fail(inAdminWords(detail), at);
        }
        LinkSettings.fill(form, data, lists);
        snapshot = LinkSettings.read(form);
        LinkSettings.showSummary($("settings-summary-list"), data);
        showPassword(Boolean(data.protected));
        $("split-status").textContent = data.split ? "This link splits its visitors." : "No split: fill in two targets to start one.";
        if (!data.split) {
          // Two empty variants, as the page starts a split.
          lists.add("variant", "1");
          lists.add("variant", "2");
        }
        if (data.split && !$("remove-split")) {
          const button = Object.assign(document.createElement("button"), {
            type: "button", id: "remove-split", className: "secondary", textContent: "Remove the split",
          });
          $("add-variant").after(" ", button);
        } else if (!data.split) $("remove-split")?.remove();
        saved.textContent = LinkSettings.savedWords(fields);
        await refreshFacts();
      } catch {
        fail("Could not reach the server. Check your connection and try again.");
      } finally {
        saving = false;
        form.removeAttribute("aria-busy");
      }
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
      if (el.dataset.utc && !Number.isNaN(when.getTime())) el.value = LinkSettings.localInput(when);
    });
    if ($("limits-hint")) $("limits-hint").textContent = "Your local time. Leave a field empty for none.";
    if ($("settings")) setupSettings($("settings"));
    if ($("check-now")) setupCheck($("check-now"));
    document.querySelectorAll("svg.chart").forEach(setupChartKeys);
  });
})();
