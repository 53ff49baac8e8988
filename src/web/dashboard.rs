//! The operator dashboard (`/dashboard`): a public page that holds no data. Its script
//! (`/static/dashboard.js`) asks for an API key, keeps it in the tab's sessionStorage,
//! and does everything through the operator API, which checks the key's role on every
//! call; the page only hides what that role would be refused.

use super::html::page_with_script;

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
</div>"##;
    page_with_script("Dashboard", main, Some("/static/dashboard.js"))
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
    fn the_key_field_is_a_password_the_browser_does_not_remember() {
        let html = dashboard();
        assert!(html.contains("id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\""));
    }
}
