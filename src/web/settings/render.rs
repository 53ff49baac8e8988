//! The admin page's forms for every control the owner's `PATCH /admin/{secret_key}`
//! accepts, and the link's health with a "check now" button. Rendered with the link's
//! current values; `/static/admin.js` sends each form as JSON (the API takes nothing
//! else) and shows the API's errors in the form's words. What a form posted without
//! the script asks for is read back in `form.rs`.

use serde_json::Value;

use crate::domain::controls::{
    DeviceClass, Os, DEFAULT_STICKY_SECONDS, MAX_NOTE_CHARS, MAX_TITLE_CHARS, MAX_VARIANTS,
    MAX_WEIGHT, MIN_VARIANTS,
};
use crate::domain::link::Link;
use crate::domain::timestamp::Timestamp;
use crate::web::html::escape;

/// How the rule form names a device class; the values are the domain's own names, and
/// the match makes a new class a compile error here until it has a label.
fn device_label(class: DeviceClass) -> &'static str {
    match class {
        DeviceClass::Desktop => "Desktop",
        DeviceClass::Mobile => "Phone",
        DeviceClass::Tablet => "Tablet",
    }
}

/// How the rule form names a system (see [`device_label`]).
fn os_label(os: Os) -> &'static str {
    match os {
        Os::Ios => "iOS",
        Os::Android => "Android",
        Os::Windows => "Windows",
        Os::Macos => "macOS",
        Os::Linux => "Linux",
        Os::Chromeos => "ChromeOS",
    }
}

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
    // The same sections, in the same order, as the dashboard's link form.
    let group = |title: &str, forms: &[String]| {
        format!(
            "<div class=\"group\" role=\"group\" aria-label=\"{title}\"><h3 class=\"group-title\">{title}</h3>{}</div>",
            forms.concat().replace("<h3>", "<h4>").replace("</h3>", "</h4>")
        )
    };
    html.push_str(&group("Link", &[about(notice, link), rename(notice, link)]));
    html.push_str(&group(
        "Access",
        &[password(notice, link), limits(notice, link)],
    ));
    html.push_str(&group(
        "Routing",
        &[
            behaviour(notice, link, default_status),
            rules(notice, link),
            split(notice, link),
        ],
    ));
    html.push_str(&group("Appearance", &[card(notice, link)]));
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
        (301, "301: permanent (browsers remember it)"),
        (302, "302: temporary"),
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

/// The empty rule the scripts copy for "Add a rule" (on the admin page and in the
/// dashboard's link form), so both pages build rules from one markup.
pub fn rule_template() -> String {
    rule("__N__", &Value::Null, "")
}

/// The empty variant the scripts copy for "Add a variant" (see [`rule_template`]).
pub fn variant_template() -> String {
    variant("__N__", "", None)
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
        devices = boxes(
            "device",
            "Devices",
            &DeviceClass::ALL.map(|c| (c.as_str(), device_label(c)))
        ),
        systems = boxes(
            "os",
            "Systems",
            &Os::ALL.map(|os| (os.as_str(), os_label(os)))
        ),
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
        template = rule_template(),
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
        template = variant_template(),
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

/// An instant as the page shows it in a `datetime-local` input without the script: UTC,
/// to the minute; empty for none.
pub(super) fn utc_minute(at: Option<Timestamp>) -> String {
    at.map_or(String::new(), |t| {
        t.to_rfc3339().get(..16).unwrap_or_default().to_string()
    })
}
