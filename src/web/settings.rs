//! The admin page's forms for every control the owner's `PATCH /admin/{secret_key}`
//! accepts, and the link's health with a "check now" button. Rendered with the link's
//! current values; `/static/admin.js` sends each form as JSON (the API takes nothing
//! else) and shows the API's errors in the form's words.

use serde_json::{Map, Value};

use super::html::escape;
use crate::domain::controls::{
    DEFAULT_STICKY_SECONDS, MAX_NOTE_CHARS, MAX_TITLE_CHARS, MAX_VARIANTS, MAX_WEIGHT, MIN_VARIANTS,
};
use crate::domain::link::Link;
use crate::domain::timestamp::Timestamp;

const DEVICES: [(&str, &str); 3] = [
    ("desktop", "Desktop"),
    ("mobile", "Phone"),
    ("tablet", "Tablet"),
];
const SYSTEMS: [(&str, &str); 6] = [
    ("ios", "iOS"),
    ("android", "Android"),
    ("windows", "Windows"),
    ("macos", "macOS"),
    ("linux", "Linux"),
    ("chromeos", "ChromeOS"),
];

/// A `datetime-local` input for an instant: in UTC in the markup (the server does not
/// know the reader's time zone), with the instant in `data-utc` for the script to show
/// in local time.
fn instant_input(id: &str, field: &str, at: Option<Timestamp>, described: &str) -> String {
    let utc = at.map_or(String::new(), |t| escape(&t.to_rfc3339()));
    format!(
        "<input id=\"{id}\" name=\"{field}\" type=\"datetime-local\" data-field=\"{field}\" data-kind=\"instant\" \
         data-utc=\"{utc}\" value=\"{}\" aria-describedby=\"{described}\">",
        utc_minute(at)
    )
}

/// What a form posted without the script came back with: a sentence for one form,
/// an error or not.
pub struct Notice {
    pub form: &'static str,
    pub text: String,
    pub error: bool,
}

/// A form's error line and its status line; `notice` fills one of them when it is
/// about this form.
fn error_line(form: &str, notice: Option<&Notice>) -> String {
    let (error, saved) = match notice.filter(|n| n.form == form) {
        Some(n) if n.error => (Some(escape(&n.text)), String::new()),
        Some(n) => (None, escape(&n.text)),
        None => (None, String::new()),
    };
    format!(
        "<p class=\"error\" id=\"{form}-error\" role=\"alert\"{}>{}</p>\
         <p class=\"saved\" id=\"{form}-saved\" role=\"status\">{saved}</p>",
        if error.is_some() { "" } else { " hidden" },
        error.unwrap_or_default()
    )
}

/// The opening of a form that also posts without the script.
fn plain_form(id: &str) -> String {
    format!(
        "<form id=\"{id}\" class=\"control\" method=\"post\" novalidate>\
         <input type=\"hidden\" name=\"form\" value=\"{id}\">"
    )
}

fn checked(on: bool) -> &'static str {
    if on {
        " checked"
    } else {
        ""
    }
}

fn selected(on: bool) -> &'static str {
    if on {
        " selected"
    } else {
        ""
    }
}

/// The health card, then every form of the settings section. `default_status` is the
/// service's redirect status, named in the choice that falls back to it.
pub fn settings(link: &Link, default_status: u16, notice: Option<&Notice>) -> String {
    let mut html = health(link);
    html.push_str(
        "<section class=\"card settings\" aria-labelledby=\"settings-title\">\
         <h2 id=\"settings-title\">Settings</h2>\
         <noscript><p class=\"hint\">Without JavaScript, times are in UTC, and the targeting \
         rules and the A/B split can be changed only through the API: <code>PATCH</code> this \
         page's URL with a JSON body (see <a href=\"/docs\">the API</a>).</p></noscript>",
    );
    html.push_str(&limits(notice, link));
    html.push_str(&behaviour(notice, link, default_status));
    html.push_str(&about(notice, link));
    html.push_str(&password(notice, link));
    html.push_str(&rules(notice, link));
    html.push_str(&split(notice, link));
    html.push_str(&card(notice, link));
    html.push_str(&rename(notice, link));
    html.push_str("</section>");
    html
}

fn limits(notice: Option<&Notice>, link: &Link) -> String {
    let max = link
        .settings
        .max_clicks
        .map_or(String::new(), |m| m.to_string());
    format!(
        r#"{open}
  <h3>When it works</h3>
  <p class="hint" id="limits-hint">In UTC. Leave a field empty for none.</p>
  <div class="row">
    <div class="field"><label for="valid_since">Starts working</label>{since}</div>
    <div class="field"><label for="expires_at">Expires</label>{expires}</div>
    <div class="field"><label for="max_clicks">Click limit</label>
      <input id="max_clicks" name="max_clicks" type="number" min="1" step="1" inputmode="numeric" data-field="max_clicks" data-kind="int" value="{max}" aria-describedby="limits-hint"></div>
  </div>
  <button type="submit">Save</button>{errors}
</form>"#,
        since = instant_input(
            "valid_since",
            "valid_since",
            link.controls.routing.valid_since,
            "limits-hint"
        ),
        expires = instant_input(
            "expires_at",
            "expires_at",
            link.settings.expires_at,
            "limits-hint"
        ),
        errors = error_line("limits", notice),
        open = plain_form("limits"),
    )
}

fn behaviour(notice: Option<&Notice>, link: &Link, default_status: u16) -> String {
    let status = link.settings.redirect_status.map(|s| s.code());
    let mut statuses = format!(
        "<option value=\"\"{}>The service's default ({default_status})</option>",
        selected(status.is_none())
    );
    for (code, name) in [
        (301, "301: moved permanently (browsers remember it)"),
        (302, "302: found (temporary)"),
        (307, "307: temporary, same method"),
        (308, "308: permanent, same method"),
    ] {
        statuses.push_str(&format!(
            "<option value=\"{code}\"{}>{name}</option>",
            selected(status == Some(code))
        ));
    }
    let mode = link.settings.dead_link_mode.map(|m| m.as_str());
    let mut modes = format!(
        "<option value=\"\"{}>The service's default</option>",
        selected(mode.is_none())
    );
    for (value, name) in [
        ("redirect", "Redirect anyway"),
        ("interstitial", "Warn, with a button to continue"),
        ("gone", "Say it is gone"),
    ] {
        modes.push_str(&format!(
            "<option value=\"{value}\"{}>{name}</option>",
            selected(mode == Some(value))
        ));
    }
    let fallback = escape(link.controls.routing.fallback_url.as_deref().unwrap_or(""));
    format!(
        r#"{open}
  <h3>How it redirects</h3>
  <div class="row">
    <div class="field"><label for="redirect_status">Redirect status</label>
      <select id="redirect_status" name="redirect_status" data-field="redirect_status" data-kind="int">{statuses}</select></div>
    <div class="field"><label for="dead_link_mode">When the target is dead</label>
      <select id="dead_link_mode" name="dead_link_mode" data-field="dead_link_mode" data-kind="text">{modes}</select></div>
  </div>
  <div class="field"><label for="fallback_url">Fallback URL <span class="hint">(where an expired link, or one past its click limit, sends people; empty for none)</span></label>
    <input id="fallback_url" name="fallback_url" type="url" inputmode="url" data-field="fallback_url" data-kind="text" value="{fallback}"></div>
  <div class="check"><input id="forward_query" name="forward_query" type="checkbox" data-field="forward_query" data-kind="bool"{fq}><label for="forward_query">Pass the visitor's query string on to the target</label></div>
  <div class="check"><input id="crawlable" name="crawlable" type="checkbox" data-field="crawlable" data-kind="bool"{cr}><label for="crawlable">Let search engines index this link</label></div>
  <button type="submit">Save</button>{errors}
</form>"#,
        fq = checked(link.settings.forward_query),
        cr = checked(link.controls.routing.crawlable),
        errors = error_line("behaviour", notice),
        open = plain_form("behaviour"),
    )
}

fn about(notice: Option<&Notice>, link: &Link) -> String {
    format!(
        r#"{open}
  <h3>Title, tags and note</h3>
  <div class="field"><label for="title">Title</label>
    <input id="title" name="title" type="text" maxlength="{MAX_TITLE_CHARS}" data-field="title" data-kind="text" value="{title}"></div>
  <div class="field"><label for="tags">Tags <span class="hint">(comma-separated, at most 10)</span></label>
    <input id="tags" name="tags" type="text" autocapitalize="none" data-field="tags" data-kind="tags" value="{tags}"></div>
  <div class="field"><label for="note">Private note <span class="hint">(only you see it)</span></label>
    <textarea id="note" name="note" rows="3" maxlength="{MAX_NOTE_CHARS}" data-field="note" data-kind="text">{note}</textarea></div>
  <button type="submit">Save</button>{errors}
</form>"#,
        title = escape(link.controls.title.as_deref().unwrap_or("")),
        tags = escape(&link.controls.tags.join(", ")),
        note = escape(link.controls.note.as_deref().unwrap_or("")),
        errors = error_line("about", notice),
        open = plain_form("about"),
    )
}

fn password(notice: Option<&Notice>, link: &Link) -> String {
    let protected = link.controls.routing.password_hash.is_some();
    let (status, action, remove) = if protected {
        (
            "This link asks visitors for a password.",
            "Change password",
            "<button type=\"submit\" name=\"remove\" value=\"1\" id=\"remove-password\" class=\"secondary\" \
             data-confirm=\"Remove the password? Anyone with the link can then follow it.\">Remove password</button>",
        )
    } else {
        ("This link has no password.", "Set password", "")
    };
    format!(
        r#"{open}
  <h3>Password</h3>
  <p id="password-status">{status} <span class="hint">A password is never shown again, here or anywhere.</span></p>
  <div class="field"><label for="new_password">New password <span class="hint">(1–128 characters)</span></label>
    <input id="new_password" name="password" type="password" autocomplete="new-password" maxlength="128"></div>
  <button type="submit">{action}</button> {remove}{errors}
</form>"#,
        errors = error_line("password-form", notice),
        open = plain_form("password-form"),
    )
}

/// A value of a rule condition that may be one string or a list, as a list.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// One rule's fieldset. `n` is its position, or `__N__` in the template the script
/// copies for a new rule.
fn rule(n: &str, when: &Value, target: &str) -> String {
    let get = |name: &str| when.get(name);
    let boxes = |name: &str, legend: &str, options: &[(&str, &str)]| {
        let chosen = strings(get(name));
        let mut html = format!("<fieldset class=\"choices\"><legend>{legend}</legend>");
        for (value, label) in options {
            html.push_str(&format!(
                "<span class=\"check\"><input id=\"rule-{n}-{name}-{value}\" type=\"checkbox\" data-cond=\"{name}\" value=\"{value}\"{}>\
                 <label for=\"rule-{n}-{name}-{value}\">{label}</label></span>",
                checked(chosen.iter().any(|c| c == value))
            ));
        }
        html.push_str("</fieldset>");
        html
    };
    let query = get("query");
    let text_of = |v: Option<&Value>| escape(v.and_then(Value::as_str).unwrap_or(""));
    let instant = |name: &str| {
        get(name)
            .and_then(Value::as_str)
            .map_or(String::new(), escape)
    };
    format!(
        r#"<li class="rule"><fieldset><legend>Rule <span class="rule-n">{n}</span></legend>
  <div class="field"><label for="rule-{n}-target">Send matching visitors to</label>
    <input id="rule-{n}-target" type="url" inputmode="url" data-cond="target_url" value="{target}"></div>
  {devices}{systems}
  <div class="row">
    <div class="field"><label for="rule-{n}-country">Countries <span class="hint">(codes, such as DE, AT)</span></label>
      <input id="rule-{n}-country" type="text" autocapitalize="characters" data-cond="country" value="{country}"></div>
    <div class="field"><label for="rule-{n}-language">Languages <span class="hint">(such as fr, pt-br)</span></label>
      <input id="rule-{n}-language" type="text" autocapitalize="none" data-cond="language" value="{language}"></div>
  </div>
  <div class="row">
    <div class="field"><label for="rule-{n}-qname">Query parameter</label>
      <input id="rule-{n}-qname" type="text" autocapitalize="none" data-cond="query-name" value="{qname}"></div>
    <div class="field"><label for="rule-{n}-qvalue">with the value <span class="hint">(empty: any)</span></label>
      <input id="rule-{n}-qvalue" type="text" autocapitalize="none" data-cond="query-value" value="{qvalue}"></div>
  </div>
  <div class="row">
    <div class="field"><label for="rule-{n}-after">From <span class="hint">(your local time)</span></label>
      <input id="rule-{n}-after" type="datetime-local" data-cond="after" data-utc="{after}"></div>
    <div class="field"><label for="rule-{n}-before">Until</label>
      <input id="rule-{n}-before" type="datetime-local" data-cond="before" data-utc="{before}"></div>
  </div>
  <button type="button" class="secondary remove-rule">Remove rule <span class="rule-n">{n}</span></button>
</fieldset></li>"#,
        target = escape(target),
        devices = boxes("device", "Devices", &DEVICES),
        systems = boxes("os", "Systems", &SYSTEMS),
        country = escape(&strings(get("country")).join(", ")),
        language = escape(&strings(get("language")).join(", ")),
        qname = text_of(query.and_then(|q| q.get("name"))),
        qvalue = text_of(query.and_then(|q| q.get("value"))),
        after = instant("after"),
        before = instant("before"),
    )
}

fn rules(notice: Option<&Notice>, link: &Link) -> String {
    let list = link.controls.routing.rules_value();
    let items: String = list
        .as_ref()
        .and_then(Value::as_array)
        .map(|rules| {
            rules
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    rule(
                        &(i + 1).to_string(),
                        r.get("when").unwrap_or(&Value::Null),
                        r.get("target_url").and_then(Value::as_str).unwrap_or(""),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        r#"<form id="rules-form" class="control" novalidate>
  <h3>Targeting rules</h3>
  <p class="hint">Tried in order: the first rule whose conditions all hold chooses the target. A rule needs a target and at least one condition.</p>
  <p id="rules-none" class="hint"{none_hidden}>No rules: everyone goes to the target (or the A/B split).</p>
  <ol id="rules-list" class="rules">{items}</ol>
  <template id="rule-template">{template}</template>
  <p><button type="button" id="add-rule" class="secondary">Add a rule</button> <button type="submit">Save rules</button></p>{errors}
</form>"#,
        none_hidden = if items.is_empty() { "" } else { " hidden" },
        template = rule("__N__", &Value::Null, ""),
        errors = error_line("rules-form", notice),
    )
}

/// One variant's inputs; `n` as for [`rule`].
fn variant(n: &str, target: &str, weight: Option<u64>) -> String {
    format!(
        r#"<li class="variant"><fieldset><legend>Variant <span class="variant-n">{n}</span></legend>
  <div class="row">
    <div class="field wide"><label for="variant-{n}-target">Target URL</label>
      <input id="variant-{n}-target" type="url" inputmode="url" data-var="target_url" value="{target}"></div>
    <div class="field narrow"><label for="variant-{n}-weight">Weight <span class="hint">(1–{MAX_WEIGHT})</span></label>
      <input id="variant-{n}-weight" type="number" min="1" max="{MAX_WEIGHT}" step="1" inputmode="numeric" data-var="weight" value="{weight}"></div>
  </div>
  <button type="button" class="secondary remove-variant">Remove variant <span class="variant-n">{n}</span></button>
</fieldset></li>"#,
        target = escape(target),
        weight = weight.map_or(String::new(), |w| w.to_string()),
    )
}

fn split(notice: Option<&Notice>, link: &Link) -> String {
    let value = link.controls.routing.split_value();
    let variants: Vec<(String, Option<u64>)> = value
        .as_ref()
        .and_then(|s| s.get("variants"))
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .map(|v| {
                    (
                        v.get("target_url")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        v.get("weight").and_then(Value::as_u64),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let has_split = !variants.is_empty();
    let shown: Vec<(String, Option<u64>)> = if has_split {
        variants
    } else {
        vec![(String::new(), None); MIN_VARIANTS]
    };
    let items: String = shown
        .iter()
        .enumerate()
        .map(|(i, (t, w))| variant(&(i + 1).to_string(), t, *w))
        .collect();
    let sticky = value
        .as_ref()
        .and_then(|s| s.get("sticky_seconds"))
        .and_then(Value::as_u64)
        .unwrap_or(u64::from(DEFAULT_STICKY_SECONDS));
    // Days for people; the exact seconds stay in `data-seconds` for a split saved
    // without touching this field.
    let days = sticky.div_ceil(86_400).max(1);
    let remove = if has_split {
        " <button type=\"button\" id=\"remove-split\" class=\"secondary\">Remove the split</button>"
    } else {
        ""
    };
    format!(
        r#"<form id="split-form" class="control" novalidate data-has-split="{has_split}">
  <h3>A/B split</h3>
  <p class="hint">{MIN_VARIANTS} to {MAX_VARIANTS} targets; each visitor gets one at random, in proportion to its weight, and keeps it. Rules are tried first.</p>
  <p class="hint" id="split-status">{status}</p>
  <ol id="variants-list" class="rules">{items}</ol>
  <template id="variant-template">{template}</template>
  <div class="field narrow"><label for="sticky_days">A visitor keeps their variant for <span class="hint">(days, at most 365)</span></label>
    <input id="sticky_days" type="number" min="1" max="365" step="1" inputmode="numeric" value="{days}" data-seconds="{sticky}"></div>
  <p><button type="button" id="add-variant" class="secondary">Add a variant</button> <button type="submit">Save split</button>{remove}</p>{errors}
</form>"#,
        status = if has_split {
            "This link splits its visitors."
        } else {
            "No split: fill in two targets to start one."
        },
        template = variant("__N__", "", None),
        errors = error_line("split-form", notice),
    )
}

fn card(notice: Option<&Notice>, link: &Link) -> String {
    let card = link.controls.routing.social_card.as_ref();
    let value = |f: fn(&crate::domain::controls::SocialCard) -> &Option<String>| {
        escape(card.and_then(|c| f(c).as_deref()).unwrap_or(""))
    };
    format!(
        r#"{open}
  <h3>Social card</h3>
  <p class="hint">What chat apps and social sites show when the link is shared. Leave all three empty for none.</p>
  <div class="field"><label for="card_title">Card title</label>
    <input id="card_title" name="card_title" type="text" maxlength="{MAX_TITLE_CHARS}" data-card="title" value="{title}"></div>
  <div class="field"><label for="card_description">Card description</label>
    <textarea id="card_description" name="card_description" rows="2" maxlength="500" data-card="description">{description}</textarea></div>
  <div class="field"><label for="card_image">Card image URL</label>
    <input id="card_image" name="card_image" type="url" inputmode="url" data-card="image" value="{image}"></div>
  <button type="submit">Save card</button>{errors}
</form>"#,
        title = value(|c| &c.title),
        description = value(|c| &c.description),
        image = value(|c| &c.image),
        errors = error_line("card-form", notice),
        open = plain_form("card-form"),
    )
}

fn rename(notice: Option<&Notice>, link: &Link) -> String {
    format!(
        r#"{open}
  <h3>Short key</h3>
  <div class="field"><label for="new_key">Key <span class="hint">(3–64 of a–z 0–9 _ -; the old key keeps working)</span></label>
    <input id="new_key" name="key" type="text" autocapitalize="none" spellcheck="false" data-field="key" data-kind="text" value="{key}"></div>
  <button type="submit">Rename</button>{errors}
</form>"#,
        key = escape(link.key.as_str()),
        errors = error_line("rename", notice),
        open = plain_form("rename"),
    )
}

fn health(link: &Link) -> String {
    let h = &link.health;
    let when = |t: Option<Timestamp>| {
        t.map_or("Never".to_string(), |t| {
            let at = escape(&t.to_rfc3339());
            format!("<time datetime=\"{at}\">{at}</time>")
        })
    };
    let code = h.status_code.map_or("None".to_string(), |c| c.to_string());
    format!(
        r#"<section class="card" id="health-card" aria-labelledby="health-title">
  <h2 id="health-title">Target health</h2>
  <dl class="facts">
    <dt>State</dt><dd><span class="state health-{state}" id="health-state">{label}</span></dd>
    <dt>Last checked</dt><dd id="health-checked">{checked}</dd>
    <dt>Reason</dt><dd id="health-reason">{reason}</dd>
    <dt>Status code</dt><dd id="health-code">{code}</dd>
    <dt>In this state since</dt><dd id="health-since">{since}</dd>
  </dl>
  <p><button type="button" id="check-now">Check now</button></p>
  <p id="check-status" role="status"></p>
  <noscript><p class="hint">Checking needs JavaScript, or <code>POST</code> to this page's URL followed by <code>/check</code>.</p></noscript>
</section>"#,
        state = h.state.as_str(),
        label = health_label(h.state.as_str()),
        checked = when(h.checked_at),
        reason = escape(h.reason.as_deref().unwrap_or("Not checked yet")),
        since = when(h.since),
    )
}

/// The health state as a word people read.
pub fn health_label(state: &str) -> &'static str {
    match state {
        "healthy" => "Healthy",
        "unhealthy" => "Failing",
        "dead" => "Dead",
        "unverifiable" => "Cannot tell",
        _ => "Not checked yet",
    }
}

/// The forms that also work without the script, posted as
/// `application/x-www-form-urlencoded` to the page's own URL (see [`form_patch`]).
pub const PLAIN_FORMS: [&str; 6] = [
    "limits",
    "behaviour",
    "about",
    "password-form",
    "card-form",
    "rename",
];

/// Why a posted form was not read: the form, when it names a known one, and a sentence.
pub type FormRefused = (Option<&'static str>, String);

/// What a settings form that was posted without the script asks for, as the JSON body
/// of the owner's `PATCH`: only the fields whose value differs from what the page
/// showed (so saving one field of a link that has expired does not resend its past
/// expiry), an emptied field as `null`. Instants come as `datetime-local` values,
/// which without the script are shown and read in UTC. `Err` is a sentence for the
/// form named, when there is one.
pub fn form_patch(
    pairs: &[(String, String)],
    link: &Link,
) -> Result<(&'static str, Map<String, Value>), FormRefused> {
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
    let form = get("form")
        .and_then(|f| PLAIN_FORMS.into_iter().find(|p| *p == f))
        .ok_or((
            None,
            "This form cannot be saved without JavaScript.".to_string(),
        ))?;
    let mut patch = Map::new();
    // Sends `field` when the form's value differs from the one the page showed.
    let mut put = |field: &str, shown: String, sent: Option<&str>, kind: Kind| {
        let sent = sent.unwrap_or("");
        if sent != shown {
            patch.insert(field.into(), kind.value(sent));
        }
    };
    match form {
        "limits" => {
            put(
                "valid_since",
                utc_minute(link.controls.routing.valid_since),
                get("valid_since"),
                Kind::Instant,
            );
            put(
                "expires_at",
                utc_minute(link.settings.expires_at),
                get("expires_at"),
                Kind::Instant,
            );
            put(
                "max_clicks",
                link.settings
                    .max_clicks
                    .map_or(String::new(), |m| m.to_string()),
                get("max_clicks"),
                Kind::Int,
            );
        }
        "behaviour" => {
            let status = link
                .settings
                .redirect_status
                .map_or(String::new(), |s| s.code().to_string());
            put("redirect_status", status, get("redirect_status"), Kind::Int);
            let mode = link.settings.dead_link_mode.map_or("", |m| m.as_str());
            put(
                "dead_link_mode",
                mode.to_string(),
                get("dead_link_mode"),
                Kind::Text,
            );
            let fallback = link
                .controls
                .routing
                .fallback_url
                .clone()
                .unwrap_or_default();
            put("fallback_url", fallback, get("fallback_url"), Kind::Text);
            // An unticked box is not sent at all.
            let forward = get("forward_query").is_some();
            let crawl = get("crawlable").is_some();
            if forward != link.settings.forward_query {
                patch.insert("forward_query".into(), forward.into());
            }
            if crawl != link.controls.routing.crawlable {
                patch.insert("crawlable".into(), crawl.into());
            }
        }
        "about" => {
            put(
                "title",
                link.controls.title.clone().unwrap_or_default(),
                get("title"),
                Kind::Text,
            );
            put(
                "note",
                link.controls.note.clone().unwrap_or_default(),
                get("note"),
                Kind::Text,
            );
            let tags: Vec<&str> = get("tags")
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            if tags.join(", ") != link.controls.tags.join(", ") {
                let value = if tags.is_empty() {
                    Value::Null
                } else {
                    tags.into()
                };
                patch.insert("tags".into(), value);
            }
        }
        "password-form" => {
            if get("remove").is_some() {
                patch.insert("password".into(), Value::Null);
            } else {
                // A password is sent as typed: spaces are part of it.
                let typed = pairs
                    .iter()
                    .find(|(k, _)| k == "password")
                    .map_or("", |(_, v)| v.as_str());
                if typed.is_empty() {
                    return Err((Some(form), "Enter the new password.".into()));
                }
                patch.insert("password".into(), typed.into());
            }
        }
        "card-form" => {
            let card = link.controls.routing.social_card.as_ref();
            let mut sent = Map::new();
            let mut changed = false;
            for (name, shown) in [
                ("title", card.and_then(|c| c.title.as_deref())),
                ("description", card.and_then(|c| c.description.as_deref())),
                ("image", card.and_then(|c| c.image.as_deref())),
            ] {
                let value = get(&format!("card_{name}")).unwrap_or("");
                changed |= value != shown.unwrap_or("");
                if !value.is_empty() {
                    sent.insert(name.into(), value.into());
                }
            }
            if changed {
                let value = if sent.is_empty() {
                    Value::Null
                } else {
                    Value::Object(sent)
                };
                patch.insert("social_card".into(), value);
            }
        }
        _ => put("key", link.key.as_str().to_string(), get("key"), Kind::Text),
    }
    Ok((form, patch))
}

/// How a form's text becomes the JSON the API takes; empty is always `null`.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    /// A whole number (the click limit, the status); anything else goes as text, for
    /// the API to refuse in its own words.
    Int,
    /// A `datetime-local` value, read as UTC.
    Instant,
}

impl Kind {
    fn value(self, sent: &str) -> Value {
        if sent.is_empty() {
            return Value::Null;
        }
        match self {
            Kind::Int => sent
                .parse::<i64>()
                .map_or_else(|_| sent.into(), Value::from),
            Kind::Instant => utc_input(sent).map_or_else(|| sent.into(), Value::from),
            Kind::Text => sent.into(),
        }
    }
}

/// A `datetime-local` value (`2030-01-31T12:00`, seconds optional) as RFC 3339 in UTC.
fn utc_input(sent: &str) -> Option<String> {
    let b = sent.as_bytes();
    let shaped = matches!(b.len(), 16 | 19)
        && b.get(4) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && b.get(13) == Some(&b':');
    shaped.then(|| {
        if b.len() == 16 {
            format!("{sent}:00Z")
        } else {
            format!("{sent}Z")
        }
    })
}

/// An instant as the page shows it in a `datetime-local` input without the script: UTC,
/// to the minute; empty for none.
fn utc_minute(at: Option<Timestamp>) -> String {
    at.map_or(String::new(), |t| {
        t.to_rfc3339().get(..16).unwrap_or_default().to_string()
    })
}

/// The API's field names as the forms call them, for an error shown without the script.
const LABELS: [(&str, &str); 13] = [
    ("social_card.image", "the card image URL"),
    ("social_card.title", "the card title"),
    ("social_card", "the social card"),
    ("valid_since", "the start"),
    ("expires_at", "the expiry"),
    ("max_clicks", "the click limit"),
    ("redirect_status", "the redirect status"),
    ("dead_link_mode", "the dead-target choice"),
    ("fallback_url", "the fallback URL"),
    ("password", "the password"),
    ("title", "the title"),
    ("tags", "the tags"),
    ("key", "the key"),
];

/// An API error in the form's words: `field 'max_clicks' must be …` as
/// `The click limit must be …` (what `/static/admin.js` does with the script).
pub fn in_form_words(detail: &str) -> String {
    let mut text = detail.to_string();
    for (field, words) in LABELS {
        text = text.replace(&format!("field '{field}'"), words);
    }
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::controls::{Controls, Routing, SocialCard, Split, Variant};
    use crate::domain::link::{LinkSettings, RedirectStatus};
    use crate::domain::link_request::PATCH_FIELDS;

    fn link(controls: Controls, settings: LinkSettings) -> Link {
        Link {
            domain: Default::default(),
            key: crate::domain::key::Key::parse("abc").unwrap(),
            target_url: "https://example.com/".into(),
            is_active: true,
            clicks: 0,
            imported_clicks: 0,
            created_at: Timestamp::from_millis(1_795_290_489_000),
            settings,
            version: 1,
            controls,
            stats_key: "abc".into(),
            health: crate::domain::health::Health::default(),
        }
    }

    fn full() -> Link {
        let rules = Controls::from_json(
            r#"{"rules": [{"when": {"device": "mobile", "country": ["DE", "AT"],
                "query": {"name": "ref", "value": "tw"}, "after": "2030-01-01T00:00:00Z"},
                "target_url": "https://example.com/m?a=1&b=<2>"}]}"#,
        )
        .unwrap();
        link(
            Controls {
                title: Some("Spring <launch>".into()),
                note: Some("for the newsletter".into()),
                tags: vec!["spring".into(), "email".into()],
                routing: Routing {
                    valid_since: Some(Timestamp::from_millis(1_800_000_000_000)),
                    fallback_url: Some("https://example.com/fallback".into()),
                    password_hash: Some("pbkdf2-sha256$100000$c2FsdA$aGFzaA".into()),
                    social_card: Some(SocialCard {
                        title: Some("Card".into()),
                        description: None,
                        image: Some("https://example.com/card.png".into()),
                    }),
                    crawlable: true,
                    split: Some(Split {
                        variants: vec![
                            Variant {
                                target_url: "https://example.com/a".into(),
                                weight: 70,
                            },
                            Variant {
                                target_url: "https://example.com/b".into(),
                                weight: 30,
                            },
                        ],
                        sticky_seconds: 3600,
                    }),
                    ..rules.routing
                },
            },
            LinkSettings {
                expires_at: Some(Timestamp::from_millis(1_900_000_000_000)),
                max_clicks: Some(5),
                redirect_status: Some(RedirectStatus::TemporaryRedirect),
                forward_query: false,
                dead_link_mode: Some(crate::domain::health::DeadLinkMode::Gone),
            },
        )
    }

    #[test]
    fn every_field_the_owner_patch_accepts_has_a_form() {
        let html = settings(&full(), 302, None);
        for field in PATCH_FIELDS {
            let marker = match *field {
                // The target and (de)activation are the Manage card's, on the page itself.
                "target_url" | "url" | "is_active" => continue,
                "password" => "id=\"new_password\"".to_string(),
                "rules" => "id=\"rules-form\"".to_string(),
                "split" => "id=\"split-form\"".to_string(),
                "social_card" => "id=\"card-form\"".to_string(),
                other => format!("data-field=\"{other}\""),
            };
            assert!(html.contains(&marker), "no form for {field}");
        }
    }

    #[test]
    fn the_forms_show_the_current_values_escaped() {
        let html = settings(&full(), 302, None);
        assert!(html.contains("value=\"Spring &lt;launch&gt;\""));
        assert!(html.contains("value=\"spring, email\""));
        assert!(html.contains(">for the newsletter</textarea>"));
        assert!(html.contains("value=\"5\""));
        assert!(
            html.contains("data-utc=\"2027-01-15T08:00:00Z\" value=\"2027-01-15T08:00\""),
            "{html}"
        );
        assert!(html.contains("<option value=\"307\" selected>"));
        assert!(html.contains("<option value=\"gone\" selected>"));
        assert!(html.contains("value=\"https://example.com/fallback\""));
        assert!(html.contains("name=\"forward_query\" type=\"checkbox\" data-field=\"forward_query\" data-kind=\"bool\">"));
        assert!(html.contains("data-kind=\"bool\" checked><label for=\"crawlable\">"));
        // The rule, with its conditions.
        assert!(html.contains("value=\"https://example.com/m?a=1&amp;b=&lt;2&gt;\""));
        assert!(html.contains("value=\"mobile\" checked>"));
        assert!(html.contains("value=\"DE, AT\""));
        assert!(html.contains("value=\"ref\"") && html.contains("value=\"tw\""));
        assert!(html.contains("data-utc=\"2030-01-01T00:00:00Z\""));
        // The split and its stickiness, in whole days for people and seconds kept.
        assert!(html.contains("value=\"70\"") && html.contains("value=\"30\""));
        assert!(html.contains("value=\"1\" data-seconds=\"3600\""));
        assert!(html.contains("id=\"remove-split\""));
        assert!(html.contains("value=\"Card\"") && html.contains("card.png"));
    }

    #[test]
    fn a_password_is_never_shown_only_whether_there_is_one() {
        let html = settings(&full(), 302, None);
        assert!(!html.contains("pbkdf2") && !html.contains("aGFzaA"));
        assert!(
            html.contains("asks visitors for a password")
                && html.contains("id=\"remove-password\"")
        );
        let plain = settings(
            &link(Controls::default(), LinkSettings::default()),
            301,
            None,
        );
        assert!(plain.contains("has no password") && !plain.contains("id=\"remove-password\""));
        // A plain link: empty forms, two empty variants to start a split, no rules.
        assert!(plain.contains("The service's default (301)"));
        assert_eq!(plain.matches("<li class=\"variant\">").count(), 3);
        assert_eq!(plain.matches("<li class=\"rule\">").count(), 1);
        assert!(!plain.contains("id=\"remove-split\""));
    }

    #[test]
    fn the_health_card_says_the_state_in_words_and_offers_a_check() {
        let html = settings(
            &link(Controls::default(), LinkSettings::default()),
            302,
            None,
        );
        assert!(html.contains("id=\"health-state\">Not checked yet</span>"));
        assert!(html.contains("<button type=\"button\" id=\"check-now\">Check now</button>"));
        assert_eq!(health_label("unhealthy"), "Failing");
    }

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sent(link: &Link, raw: &[(&str, &str)]) -> Value {
        let (_, fields) = form_patch(&pairs(raw), link).unwrap();
        Value::Object(fields)
    }

    #[test]
    fn a_form_posted_without_the_script_sends_only_what_differs_from_the_page() {
        let link = full();
        // The page's own values, sent back untouched: nothing to change. The expiry is
        // not resent, so a link whose expiry has passed can still be saved.
        let limits = [
            ("form", "limits"),
            ("valid_since", "2027-01-15T08:00"),
            ("expires_at", "2030-03-17T17:46"),
            ("max_clicks", "5"),
        ];
        assert_eq!(sent(&link, &limits), serde_json::json!({}));
        // Changed and emptied fields: numbers as numbers, times as UTC, empty as null.
        let changed = [
            ("form", "limits"),
            ("valid_since", ""),
            ("expires_at", "2031-01-01T10:00"),
            ("max_clicks", "7"),
        ];
        assert_eq!(
            sent(&link, &changed),
            serde_json::json!({"valid_since": null, "expires_at": "2031-01-01T10:00:00Z", "max_clicks": 7})
        );
        // A value that is no number goes as text, for the API to refuse in its words.
        let odd = [("form", "limits"), ("max_clicks", "1.5")];
        assert_eq!(sent(&link, &odd)["max_clicks"], "1.5");
    }

    #[test]
    fn unticked_boxes_and_the_defaults_of_the_selects_are_read_as_the_page_meant() {
        let link = full();
        let behaviour = [
            ("form", "behaviour"),
            ("redirect_status", ""),
            ("dead_link_mode", "gone"),
            ("fallback_url", "https://example.com/fallback"),
            ("forward_query", "on"),
        ];
        assert_eq!(
            sent(&link, &behaviour),
            serde_json::json!({"redirect_status": null, "forward_query": true, "crawlable": false})
        );
        let about = [
            ("form", "about"),
            ("title", "Spring <launch>"),
            ("tags", "spring, email, new"),
            ("note", ""),
        ];
        assert_eq!(
            sent(&link, &about),
            serde_json::json!({"tags": ["spring", "email", "new"], "note": null})
        );
        let card = [
            ("form", "card-form"),
            ("card_title", ""),
            ("card_description", ""),
            ("card_image", ""),
        ];
        assert_eq!(sent(&link, &card), serde_json::json!({"social_card": null}));
        let rename = [("form", "rename"), ("key", "new-key")];
        assert_eq!(sent(&link, &rename), serde_json::json!({"key": "new-key"}));
    }

    #[test]
    fn a_password_is_set_as_typed_or_removed_and_an_unknown_form_is_refused() {
        let link = full();
        let set = [("form", "password-form"), ("password", " two words ")];
        assert_eq!(
            sent(&link, &set),
            serde_json::json!({"password": " two words "})
        );
        let remove = [("form", "password-form"), ("password", ""), ("remove", "1")];
        assert_eq!(sent(&link, &remove), serde_json::json!({"password": null}));
        let empty = [("form", "password-form"), ("password", "")];
        assert_eq!(
            form_patch(&pairs(&empty), &link).unwrap_err(),
            (Some("password-form"), "Enter the new password.".to_string())
        );
        for form in ["rules-form", "split-form", "nonsense"] {
            let (named, _) = form_patch(&pairs(&[("form", form)]), &link).unwrap_err();
            assert_eq!(named, None, "{form}");
        }
    }

    #[test]
    fn api_errors_are_put_in_the_form_s_words() {
        assert_eq!(
            in_form_words("field 'max_clicks' must be an integer from 1 to 9, got 0"),
            "The click limit must be an integer from 1 to 9, got 0"
        );
        assert_eq!(
            in_form_words("field 'social_card.image' is not an accepted target"),
            "The card image URL is not an accepted target"
        );
        assert_eq!(
            in_form_words("custom_key 'x' is already taken"),
            "Custom_key 'x' is already taken"
        );
    }

    #[test]
    fn a_notice_fills_the_line_of_its_own_form_only() {
        let notice = Notice {
            form: "limits",
            text: "The click limit <must> be".into(),
            error: true,
        };
        let html = settings(&full(), 302, Some(&notice));
        assert!(
            html.contains("id=\"limits-error\" role=\"alert\">The click limit &lt;must&gt; be</p>")
        );
        assert!(html.contains("id=\"about-error\" role=\"alert\" hidden></p>"));
        let saved = Notice {
            form: "about",
            text: "Saved.".into(),
            error: false,
        };
        let html = settings(&full(), 302, Some(&saved));
        assert!(html.contains("id=\"about-saved\" role=\"status\">Saved.</p>"));
        assert!(html.contains("<form id=\"about\" class=\"control\" method=\"post\" novalidate><input type=\"hidden\" name=\"form\" value=\"about\">"));
    }
}
