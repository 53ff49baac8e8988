//! The operator dashboard (`/dashboard`): a public page that holds no data. Its script
//! (`/static/dashboard.js`) asks for an API key, keeps it in the tab's sessionStorage,
//! and does everything through the operator API, which checks the key's role on every
//! call; the page only hides what that role would be refused.

use super::html::page_with_script;
use super::settings::{rule_template, variant_template};
use crate::domain::controls::{
    MAX_NOTE_CHARS, MAX_TITLE_CHARS, MAX_VARIANTS, MAX_WEIGHT, MIN_VARIANTS,
};

/// `GET /dashboard`: the sign-in form and the empty panels the script fills.
pub fn dashboard() -> String {
    let main = r##"<h1>Dashboard</h1>
<noscript><p class="card">The dashboard needs JavaScript. Without it, use the operator API with your key (see <a href="/docs">the API</a>).</p></noscript>
<section id="signin" class="card" aria-labelledby="signin-title" hidden>
  <h2 id="signin-title">Sign in</h2>
  <p id="signin-status" role="status"></p>
  <form id="signin-form" novalidate>
    <div class="field">
      <label for="token">API key or admin token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required aria-describedby="token-hint token-error">
      <p class="hint" id="token-hint">A named key from <code>/api/keys</code> or the instance's <code>ADMIN_TOKEN</code>. It is kept only in this tab (sessionStorage) until you sign out or close the tab.</p>
      <p class="error" id="token-error" role="alert" hidden></p>
    </div>
    <button type="submit">Sign in</button>
  </form>
</section>
<div id="board" hidden>
  <p class="signed-in"><span id="whoami" role="status"></span> <button type="button" id="signout" class="secondary">Sign out</button></p>
  <div id="home-view">
  <p class="toolbar" id="create-bar" hidden><a class="button" id="create-open" href="#new">Create link</a></p>
  <!-- The cross-link overview (clicks per day, top links, referrers, countries) goes here. -->
  <section id="overview" class="card" aria-labelledby="overview-title" hidden><h2 id="overview-title">Overview</h2></section>
  <section id="links" class="card" aria-labelledby="links-title">
    <h2 id="links-title">Links</h2>
    <form id="filters" class="row filters" role="search" aria-label="Filter the links">
      <div class="field">
        <label for="f-search">Search <span class="hint">(title or target)</span></label>
        <input id="f-search" name="search" type="search" maxlength="200">
      </div>
      <div class="field">
        <label for="f-tag">Tag</label>
        <input id="f-tag" name="tag" type="text" list="f-tags" autocapitalize="none" spellcheck="false">
        <datalist id="f-tags"></datalist>
      </div>
      <div class="field">
        <label for="f-health">Health</label>
        <select id="f-health" name="health">
          <option value="">Any</option>
          <option value="unknown">Unknown</option>
          <option value="healthy">Healthy</option>
          <option value="unhealthy">Unhealthy</option>
          <option value="dead">Dead</option>
          <option value="unverifiable">Unverifiable</option>
        </select>
      </div>
      <div class="field" id="f-domain-field" hidden>
        <label for="f-domain">Domain</label>
        <select id="f-domain" name="domain"><option value="">Every domain</option></select>
      </div>
      <div class="field filter-submit"><button type="submit">Filter</button></div>
    </form>
    <p class="error" id="links-error" role="alert" hidden></p>
    <div id="bulk" class="bulk" role="group" aria-labelledby="bulk-title" hidden>
      <h3 id="bulk-title">With the selected links <span id="selected-count" class="hint">(none selected)</span></h3>
      <div class="row">
        <p><button type="button" id="bulk-deactivate" class="danger">Deactivate</button></p>
        <div class="field tag-edit">
          <label for="bulk-tag">Tag</label>
          <input id="bulk-tag" type="text" autocapitalize="none" spellcheck="false">
        </div>
        <p><button type="button" id="bulk-tag-add" class="secondary">Add tag</button> <button type="button" id="bulk-tag-remove" class="secondary">Remove tag</button></p>
      </div>
      <p id="bulk-status" role="status"></p>
    </div>
    <table id="links-table" class="links-table">
      <caption id="links-caption" class="hint"></caption>
      <thead><tr>
        <th scope="col" class="pick"><input type="checkbox" id="select-all" aria-label="Select every link on this page"></th>
        <th scope="col">Short link</th><th scope="col">Target</th><th scope="col">State</th>
        <th scope="col">Health</th><th scope="col">Tags</th><th scope="col" class="num">Clicks</th><th scope="col">Created</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <p class="pager"><button type="button" id="prev" class="secondary" disabled>Previous page</button> <button type="button" id="next" class="secondary" disabled>Next page</button></p>
  </section>
  <section id="transfer" class="card" aria-labelledby="transfer-title" hidden>
    <h2 id="transfer-title">Import and export</h2>
    <div id="export-part" hidden>
      <p><button type="button" id="export">Download every link (JSON Lines)</button></p>
      <p id="export-status" role="status"></p>
    </div>
    <form id="import-form" hidden novalidate>
      <div class="field">
        <label for="import-file">Import a file</label>
        <input id="import-file" type="file" accept=".jsonl,.json,.ndjson,.csv,application/json,text/csv" aria-describedby="import-hint import-error">
        <p class="hint" id="import-hint">This service's export (JSON Lines or a JSON array), or CSV with a header row naming <code>key</code> and <code>target_url</code> (optionally <code>created_at</code>, <code>clicks</code>, <code>is_active</code>, <code>expires_at</code>, <code>max_clicks</code>, <code>redirect_status</code>, <code>forward_query</code>, <code>title</code>, <code>tags</code>). Other shorteners' files: see the command-line tool.</p>
        <p class="error" id="import-error" role="alert" hidden></p>
      </div>
      <div class="field" id="import-domain-field" hidden>
        <label for="import-domain">Into the domain</label>
        <select id="import-domain"></select>
      </div>
      <div class="check"><input id="import-update" type="checkbox"> <label for="import-update">Replace links whose key already exists</label></div>
      <button type="submit">Import</button>
    </form>
    <div id="import-results" hidden>
      <h3>Import results</h3>
      <p id="import-summary" role="status"></p>
      <table id="import-table">
        <thead><tr><th scope="col">Key</th><th scope="col">Outcome</th><th scope="col">Detail or admin link</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section id="keys" class="card" aria-labelledby="keys-title" hidden>
    <h2 id="keys-title">API keys</h2>
    <form id="key-form" class="row" novalidate>
      <div class="field">
        <label for="key-name">Name</label>
        <input id="key-name" name="name" type="text" maxlength="100" required aria-describedby="key-error">
      </div>
      <div class="field">
        <label for="key-role">Role</label>
        <select id="key-role" name="role">
          <option value="reader">reader: list, show, export</option>
          <option value="creator">creator: create and change its own links</option>
          <option value="stats">stats: statistics only</option>
          <option value="admin">admin: everything</option>
        </select>
      </div>
      <div class="field">
        <label for="key-expires">Expires <span class="hint">(optional, your local time)</span></label>
        <input id="key-expires" name="expires_at" type="datetime-local">
      </div>
      <div class="field filter-submit"><button type="submit">Create key</button></div>
    </form>
    <p class="error" id="key-error" role="alert" hidden></p>
    <div id="new-key" class="warning" role="note" hidden>
      <p><strong>Copy this token now.</strong> It is shown only this once; the service keeps only its hash.</p>
      <p><code id="new-key-token"></code> <button type="button" id="new-key-copy" class="copy" aria-label="Copy the new token">Copy</button></p>
      <p id="new-key-copied" role="status"></p>
    </div>
    <table id="keys-table">
      <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="keys-status" role="status"></p>
  </section>
  </div>
  {link_view}
</div>"##;
    let main = main.replace("{link_view}", &link_view());
    page_with_script("Dashboard", &main, Some("/static/dashboard.js"))
}

/// One link's own view (`#link/<domain>/<key>`) and the creation form (`#new`): the
/// same grouped form serves both, empty to create, filled to edit. Opening a link here
/// reads it through the API and never follows its redirect, so no click is counted.
fn link_view() -> String {
    format!(
        r##"<div id="link-view" hidden>
  <p><a href="#" id="back">All links</a></p>
  <h2 id="view-title" tabindex="-1">Create link</h2>
  <section id="view-facts" class="card" aria-labelledby="facts-title" hidden>
    <h3 id="facts-title">This link</h3>
    <dl class="facts">
      <dt>Short link</dt><dd><a id="view-short" href="#"></a> <button type="button" class="copy" id="view-copy" aria-label="Copy the short link">Copy</button> <span id="view-copied" role="status"></span></dd>
      <dt>Target</dt><dd class="target" id="view-target"></dd>
      <dt>State</dt><dd><span id="view-state" class="state"></span></dd>
      <dt>Health</dt><dd><span id="view-health" class="state"></span></dd>
      <dt>Clicks</dt><dd id="view-clicks"></dd>
      <dt>Created</dt><dd id="view-created"></dd>
    </dl>
    <p><button type="button" id="view-toggle" class="danger">Deactivate</button></p>
    <p id="view-status" role="status"></p>
  </section>
  <section id="view-stats" class="card" aria-labelledby="stats-title" hidden>
    <h3 id="stats-title">Clicks per day</h3>
    <div id="view-chart"></div>
    <div class="grid" id="view-tops"></div>
  </section>
  <form id="link-form" class="card link-form" novalidate aria-labelledby="view-title">
    <div id="lf-summary" class="summary" hidden><h3>What is set</h3><ul id="lf-summary-list"></ul></div>
    <fieldset class="group"><legend>Link</legend>
      <div class="field"><label for="lf-target_url">Target URL</label>
        <input id="lf-target_url" type="url" inputmode="url" data-field="target_url" data-kind="url" required aria-describedby="lf-target_url-error">
        <p class="error" id="lf-target_url-error" role="alert" hidden></p></div>
      <div class="row">
        <div class="field"><label for="lf-key" id="lf-key-label">Custom key <span class="hint">(optional, 3–64 of a–z 0–9 _ -)</span></label>
          <input id="lf-key" type="text" autocapitalize="none" spellcheck="false" data-field="key" data-kind="text" aria-describedby="lf-key-error">
          <p class="error" id="lf-key-error" role="alert" hidden></p></div>
        <div class="field" id="lf-domain-field" hidden><label for="lf-domain">Domain</label>
          <select id="lf-domain" data-create="domain"></select></div>
      </div>
      <div class="field"><label for="lf-title">Title</label>
        <input id="lf-title" type="text" maxlength="{MAX_TITLE_CHARS}" data-field="title" data-kind="text"></div>
      <div class="field"><label for="lf-tags">Tags <span class="hint">(comma-separated, at most 10)</span></label>
        <input id="lf-tags" type="text" autocapitalize="none" list="f-tags" data-field="tags" data-kind="tags"></div>
      <div class="field"><label for="lf-note">Private note</label>
        <textarea id="lf-note" rows="2" maxlength="{MAX_NOTE_CHARS}" data-field="note" data-kind="text"></textarea></div>
    </fieldset>
    <fieldset class="group"><legend>Access</legend>
      <div class="field"><label for="lf-password">Password <span class="hint" id="lf-password-hint">(optional, 1–128 characters; never shown again)</span></label>
        <input id="lf-password" type="password" autocomplete="new-password" maxlength="128" data-field="password" data-kind="password"></div>
      <div class="check" id="lf-nopassword-field" hidden><input id="lf-nopassword" type="checkbox"><label for="lf-nopassword">Remove the password</label></div>
      <div class="row">
        <div class="field"><label for="lf-valid_since">Starts working <span class="hint">(your local time)</span></label>
          <input id="lf-valid_since" type="datetime-local" data-field="valid_since" data-kind="instant"></div>
        <div class="field"><label for="lf-expires_at">Expires <span class="hint">(your local time)</span></label>
          <input id="lf-expires_at" type="datetime-local" data-field="expires_at" data-kind="instant"></div>
        <div class="field"><label for="lf-max_clicks">Click limit</label>
          <input id="lf-max_clicks" type="number" min="1" step="1" inputmode="numeric" data-field="max_clicks" data-kind="int"></div>
      </div>
    </fieldset>
    <fieldset class="group"><legend>Routing</legend>
      <div class="row">
        <div class="field"><label for="lf-redirect_status">Redirect status</label>
          <select id="lf-redirect_status" data-field="redirect_status" data-kind="int">
            <option value="">The service's default</option>
            <option value="301">301: permanent (browsers remember it)</option>
            <option value="302">302: temporary</option>
            <option value="307">307: temporary, same method</option>
            <option value="308">308: permanent, same method</option>
          </select></div>
        <div class="field"><label for="lf-dead_link_mode">When the target is dead</label>
          <select id="lf-dead_link_mode" data-field="dead_link_mode" data-kind="text">
            <option value="">The service's default</option>
            <option value="redirect">Redirect anyway</option>
            <option value="interstitial">Warn, with a button to continue</option>
            <option value="gone">Say it is gone</option>
          </select></div>
      </div>
      <div class="field"><label for="lf-fallback_url">Fallback URL <span class="hint">(for an expired link or one past its click limit)</span></label>
        <input id="lf-fallback_url" type="url" inputmode="url" data-field="fallback_url" data-kind="text"></div>
      <div class="check"><input id="lf-forward_query" type="checkbox" data-field="forward_query" data-kind="bool"><label for="lf-forward_query">Pass the visitor's query string on to the target</label></div>
      <div class="check"><input id="lf-crawlable" type="checkbox" data-field="crawlable" data-kind="bool"><label for="lf-crawlable">Let search engines index this link</label></div>
      <h3>Targeting rules</h3>
      <p class="hint">Tried in order: the first rule whose conditions all hold chooses the target.</p>
      <ol id="rules-list" class="rules"></ol>
      <template id="rule-template">{rule}</template>
      <p><button type="button" id="add-rule" class="secondary">Add a rule</button></p>
      <h3>A/B split</h3>
      <p class="hint">{MIN_VARIANTS} to {MAX_VARIANTS} targets, weights 1–{MAX_WEIGHT}; each visitor gets one and keeps it. Rules are tried first.</p>
      <ol id="variants-list" class="rules"></ol>
      <template id="variant-template">{variant}</template>
      <div class="field narrow"><label for="sticky_days">A visitor keeps their variant for <span class="hint">(days)</span></label>
        <input id="sticky_days" type="number" min="1" max="365" step="1" inputmode="numeric" value="30"></div>
      <p><button type="button" id="add-variant" class="secondary">Add a variant</button></p>
    </fieldset>
    <fieldset class="group"><legend>Appearance</legend>
      <p class="hint">The social card: what chat apps show when the link is shared.</p>
      <div class="field"><label for="lf-card_title">Card title</label>
        <input id="lf-card_title" type="text" maxlength="{MAX_TITLE_CHARS}" data-card="title"></div>
      <div class="field"><label for="lf-card_description">Card description</label>
        <textarea id="lf-card_description" rows="2" maxlength="500" data-card="description"></textarea></div>
      <div class="field"><label for="lf-card_image">Card image URL</label>
        <input id="lf-card_image" type="url" inputmode="url" data-card="image"></div>
    </fieldset>
    <fieldset class="group" id="lf-health-group"><legend>Health</legend>
      <div class="check"><input id="lf-check" type="checkbox" data-create="check"><label for="lf-check">Check the target when the link is created</label></div>
    </fieldset>
    <p><button type="submit" id="lf-submit">Create link</button></p>
    <p class="error" id="lf-error" role="alert" hidden></p>
    <p class="saved" id="lf-saved" role="status"></p>
  </form>
  <section id="view-health-card" class="card" aria-labelledby="vh-title" hidden>
    <h3 id="vh-title">Target health</h3>
    <dl class="facts">
      <dt>State</dt><dd><span id="vh-state" class="state"></span></dd>
      <dt>Last checked</dt><dd id="vh-checked"></dd>
      <dt>Reason</dt><dd id="vh-reason"></dd>
    </dl>
    <p><button type="button" id="vh-check" class="secondary">Check now</button></p>
    <p id="vh-status" role="status"></p>
  </section>
  <section id="view-history" class="card" aria-labelledby="history-title" hidden>
    <h3 id="history-title">History</h3>
    <p id="history-note" class="hint"></p>
    <ol id="history-list" class="history"></ol>
  </section>
</div>"##,
        rule = rule_template(),
        variant = variant_template(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_loads_its_own_script_and_shows_nothing_before_sign_in() {
        let html = dashboard();
        assert!(html.contains("src=\"/static/dashboard.js\""));
        assert!(!html.contains("/static/app.js"));
        // Without the script only the noscript note is visible: both panels start hidden.
        assert!(html.contains(
            "<section id=\"signin\" class=\"card\" aria-labelledby=\"signin-title\" hidden>"
        ));
        assert!(html.contains("<div id=\"board\" hidden>"));
        assert!(html.contains("<noscript>"));
    }

    #[test]
    fn every_field_has_a_label() {
        let html = dashboard();
        let ids: Vec<&str> = ["<input id=\"", "<select id=\""]
            .iter()
            .flat_map(|open| html.split(open).skip(1))
            .filter_map(|s| s.split('"').next())
            .collect();
        assert!(ids.len() >= 10, "{ids:?}");
        for id in ids {
            assert!(
                html.contains(&format!("<label for=\"{id}\"")),
                "field {id} has no label"
            );
        }
    }

    #[test]
    fn the_link_form_has_a_control_for_every_field_a_change_takes() {
        let html = dashboard();
        // Sent from lists or by the view's own buttons, not from one input each.
        let whole = ["rules", "split", "social_card", "is_active", "url"];
        for field in crate::domain::link_request::PATCH_FIELDS {
            if whole.contains(field) {
                continue;
            }
            assert!(
                html.contains(&format!("data-field=\"{field}\"")),
                "no control for {field}"
            );
        }
        for part in [
            "id=\"rules-list\"",
            "id=\"variants-list\"",
            "data-card=\"image\"",
            "id=\"view-toggle\"",
        ] {
            assert!(html.contains(part), "{part}");
        }
        let legends: Vec<&str> = html
            .split("<fieldset class=\"group\"")
            .skip(1)
            .filter_map(|s| s.split("<legend>").nth(1)?.split('<').next())
            .collect();
        assert_eq!(
            legends,
            ["Link", "Access", "Routing", "Appearance", "Health"]
        );
    }

    #[test]
    fn the_key_field_is_a_password_the_browser_does_not_remember() {
        let html = dashboard();
        assert!(html.contains("id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\""));
    }
}
