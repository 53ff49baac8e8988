//! The admin page's settings form: every control the owner's `PATCH /admin/{secret_key}`
//! accepts, in sections, and the link's health with a "check now" button. Rendered with
//! the link's current values; `/static/settings.js` (shared with the dashboard's link
//! view) sends what changed as one JSON `PATCH` and shows the API's errors in the
//! form's words. What the form posted without the script asks for is read back in
//! `form.rs`.

use serde_json::Value;

use crate::domain::controls::{
    DeviceClass, Os, DEFAULT_STICKY_SECONDS, MAX_NOTE_CHARS, MAX_TITLE_CHARS, MAX_UTM_CHARS,
    MAX_VARIANTS, MAX_WEIGHT, MIN_VARIANTS,
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

/// What the form posted without the script came back with: a sentence, an error or not.
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// The form's error line and its status line; `notice` (a form posted without the
/// script, come back) fills one of them.
fn error_line(notice: Option<&Notice>) -> String {
    let (error, saved) = match notice {
        Some(n) if n.error => (Some(escape(&n.text)), String::new()),
        Some(n) => (None, escape(&n.text)),
        None => (None, String::new()),
    };
    format!(
        "<p class=\"error\" id=\"{SETTINGS_FORM}-error\" role=\"alert\" tabindex=\"-1\"{}>{}</p>\
         <p class=\"saved\" id=\"{SETTINGS_FORM}-saved\" role=\"status\">{saved}</p>",
        if error.is_some() { "" } else { " hidden" },
        error.unwrap_or_default()
    )
}

/// The one settings form's id, and the `form` value it posts without the script.
pub const SETTINGS_FORM: &str = "settings";

/// The opening of one part of the form (the controls one heading groups).
fn part(id: &str) -> String {
    format!("<div class=\"part\" id=\"{id}\">")
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

/// The settings: one form in sections (Link, Access, Routing, Appearance, Health, as
/// the dashboard's link form), a summary of every control that is set at its top, and
/// one Save. With `/static/settings.js` the Save sends one `PATCH` of what changed;
/// without it the form posts, and `form.rs` reads the same change from it.
/// `default_status` is the service's redirect status, named in the choice that falls
/// back to it.
pub fn settings(link: &Link, default_status: u16, notice: Option<&Notice>) -> String {
    let mut html = format!(
        "<section class=\"card settings\" aria-labelledby=\"settings-title\">\
         <h2 id=\"settings-title\">Settings</h2>\
         <noscript><p class=\"hint\">Without JavaScript, times are in UTC, and the targeting \
         rules and the A/B split can be changed only through the API: <code>PATCH</code> this \
         page's URL with a JSON body (see <a href=\"/docs\">the API</a>).</p></noscript>\
         <form id=\"{SETTINGS_FORM}\" class=\"control link-form\" method=\"post\" novalidate>\
         <input type=\"hidden\" name=\"form\" value=\"{SETTINGS_FORM}\">{}",
        summary(link, default_status)
    );
    let group = |title: &str, parts: &[String]| {
        format!(
            "<fieldset class=\"group\"><legend>{title}</legend>{}</fieldset>",
            parts.concat()
        )
    };
    html.push_str(&group("Link", &[about(link), rename(link)]));
    html.push_str(&group("Access", &[password(link), limits(link)]));
    html.push_str(&group(
        "Routing",
        &[behaviour(link, default_status), rules(link), split(link)],
    ));
    html.push_str(&group("Appearance", &[card(link)]));
    html.push_str(&group("Campaign", &[utm(link)]));
    html.push_str(&group("Health", &[health(link)]));
    html.push_str(&format!(
        "<div class=\"save-bar\"><p><button type=\"submit\" id=\"{SETTINGS_FORM}-save\">Save</button></p>{}</div></form></section>",
        error_line(notice)
    ));
    html
}

/// The summary at the top of the form: every control that is set, in words (the
/// script says the same after a save, from the API's answer).
fn summary(link: &Link, default_status: u16) -> String {
    let mut items: Vec<String> = Vec::new();
    let c = &link.controls;
    let r = &c.routing;
    let s = &link.settings;
    let when = |t: Timestamp| {
        let at = escape(&t.to_rfc3339());
        format!("<time datetime=\"{at}\">{at}</time>")
    };
    if let Some(t) = &c.title {
        items.push(format!("Title: {}", escape(t)));
    }
    if !c.tags.is_empty() {
        items.push(format!("Tags: {}", escape(&c.tags.join(", "))));
    }
    if c.note.is_some() {
        items.push("A private note".into());
    }
    if r.password_hash.is_some() {
        items.push("Password protected".into());
    }
    if let Some(t) = r.valid_since {
        items.push(format!("Starts {}", when(t)));
    }
    if let Some(t) = s.expires_at {
        items.push(format!("Expires {}", when(t)));
    }
    if let Some(m) = s.max_clicks {
        items.push(format!("Click limit: {m}"));
    }
    items.push(format!(
        "Redirect status: {}",
        s.redirect_status.map_or(default_status, |x| x.code())
    ));
    // Passing the query string on is the default; only turning it off is news.
    if !s.forward_query {
        items.push("Does not pass the query string on".into());
    }
    if r.crawlable {
        items.push("Search engines may index it".into());
    }
    if let Some(f) = &r.fallback_url {
        items.push(format!("Fallback: {}", escape(f)));
    }
    if let Some(m) = s.dead_link_mode {
        let said = match m.as_str() {
            "redirect" => "redirect anyway",
            "interstitial" => "warn first",
            _ => "say it is gone",
        };
        items.push(format!("When the target is dead: {said}"));
    }
    if let Some(n) = r
        .rules_value()
        .as_ref()
        .and_then(Value::as_array)
        .map(Vec::len)
        .filter(|n| *n > 0)
    {
        items.push(format!(
            "{n} targeting rule{}",
            if n == 1 { "" } else { "s" }
        ));
    }
    if let Some(variants) = r
        .split_value()
        .as_ref()
        .and_then(|v| v.get("variants"))
        .and_then(Value::as_array)
    {
        let each: Vec<String> = variants
            .iter()
            .map(|v| {
                format!(
                    "{}× {}",
                    v.get("weight").and_then(Value::as_u64).unwrap_or(1),
                    escape(v.get("target_url").and_then(Value::as_str).unwrap_or(""))
                )
            })
            .collect();
        items.push(format!("A/B split: {}", each.join(", ")));
    }
    if let Some(card) = &r.social_card {
        items.push(match &card.title {
            Some(t) => format!("Social card: {}", escape(t)),
            None => "Social card".into(),
        });
    }
    format!(
        "<div id=\"{SETTINGS_FORM}-summary\" class=\"summary\"><h3>What is set</h3><ul id=\"{SETTINGS_FORM}-summary-list\">{}</ul></div>",
        items
            .iter()
            .map(|i| format!("<li>{i}</li>"))
            .collect::<String>()
    )
}

fn limits(link: &Link) -> String {
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
</div>"#,
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
        open = part("limits"),
    )
}

fn behaviour(link: &Link, default_status: u16) -> String {
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
      <select id="redirect_status" name="redirect_status" data-field="redirect_status" data-kind="int" data-default="{default_status}">{statuses}</select></div>
    <div class="field"><label for="dead_link_mode">When the target is dead</label>
      <select id="dead_link_mode" name="dead_link_mode" data-field="dead_link_mode" data-kind="text">{modes}</select></div>
  </div>
  <div class="field"><label for="fallback_url">Fallback URL <span class="hint">(where an expired link, or one past its click limit, sends people; empty for none)</span></label>
    <input id="fallback_url" name="fallback_url" type="url" inputmode="url" data-field="fallback_url" data-kind="text" value="{fallback}"></div>
  <div class="check"><input id="forward_query" name="forward_query" type="checkbox" data-field="forward_query" data-kind="bool"{fq}><label for="forward_query">Pass the visitor's query string on to the target</label></div>
  <div class="check"><input id="crawlable" name="crawlable" type="checkbox" data-field="crawlable" data-kind="bool"{cr}><label for="crawlable">Let search engines index this link</label></div>
</div>"#,
        fq = checked(link.settings.forward_query),
        cr = checked(link.controls.routing.crawlable),
        open = part("behaviour"),
    )
}

fn about(link: &Link) -> String {
    format!(
        r#"{open}
  <h3>Title, tags and note</h3>
  <div class="field"><label for="title">Title</label>
    <input id="title" name="title" type="text" maxlength="{MAX_TITLE_CHARS}" data-field="title" data-kind="text" value="{title}"></div>
  <div class="field"><label for="tags">Tags <span class="hint">(comma-separated, at most 10)</span></label>
    <input id="tags" name="tags" type="text" autocapitalize="none" data-field="tags" data-kind="tags" value="{tags}"></div>
  <div class="field"><label for="note">Private note <span class="hint">(only you see it)</span></label>
    <textarea id="note" name="note" rows="3" maxlength="{MAX_NOTE_CHARS}" data-field="note" data-kind="text">{note}</textarea></div>
</div>"#,
        title = escape(link.controls.title.as_deref().unwrap_or("")),
        tags = escape(&link.controls.tags.join(", ")),
        note = escape(link.controls.note.as_deref().unwrap_or("")),
        open = part("about"),
    )
}

fn password(link: &Link) -> String {
    let protected = link.controls.routing.password_hash.is_some();
    let (status, remove) = if protected {
        (
            "This link asks visitors for a password.",
            "<button type=\"submit\" name=\"remove\" value=\"1\" id=\"remove-password\" class=\"secondary\" \
             data-confirm=\"Remove the password? Anyone with the link can then follow it.\">Remove password</button>",
        )
    } else {
        ("This link has no password.", "")
    };
    format!(
        r#"{open}
  <h3>Password</h3>
  <p id="password-status">{status} <span class="hint">A password is never shown again, here or anywhere.</span></p>
  <div class="field"><label for="new_password">New password <span class="hint">(1–128 characters; empty keeps it as it is)</span></label>
    <input id="new_password" name="password" type="password" autocomplete="new-password" maxlength="128" data-field="password" data-kind="password"></div>
  <p id="password-remove">{remove}</p>
</div>"#,
        open = part("access-password"),
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

fn rules(link: &Link) -> String {
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
        r#"<div class="part" id="rules">
  <h3>Targeting rules</h3>
  <p class="hint">Tried in order: the first rule whose conditions all hold chooses the target. A rule needs a target and at least one condition.</p>
  <p id="rules-none" class="hint"{none_hidden}>No rules: everyone goes to the target (or the A/B split).</p>
  <ol id="rules-list" class="rules">{items}</ol>
  <template id="rule-template">{template}</template>
  <p><button type="button" id="add-rule" class="secondary">Add a rule</button></p>
</div>"#,
        none_hidden = if items.is_empty() { "" } else { " hidden" },
        template = rule_template(),
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

fn split(link: &Link) -> String {
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
        r#"<div class="part" id="split" data-has-split="{has_split}">
  <h3>A/B split</h3>
  <p class="hint">{MIN_VARIANTS} to {MAX_VARIANTS} targets; each visitor gets one at random, in proportion to its weight, and keeps it. Rules are tried first.</p>
  <p class="hint" id="split-status">{status}</p>
  <ol id="variants-list" class="rules">{items}</ol>
  <template id="variant-template">{template}</template>
  <div class="field narrow"><label for="sticky_days">A visitor keeps their variant for <span class="hint">(days, at most 365)</span></label>
    <input id="sticky_days" type="number" min="1" max="365" step="1" inputmode="numeric" value="{days}" data-shown="{days}" data-seconds="{sticky}"></div>
  <p><button type="button" id="add-variant" class="secondary">Add a variant</button>{remove}</p>
</div>"#,
        status = if has_split {
            "This link splits its visitors."
        } else {
            "No split: fill in two targets to start one."
        },
        template = variant_template(),
    )
}

fn card(link: &Link) -> String {
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
</div>"#,
        title = value(|c| &c.title),
        description = value(|c| &c.description),
        image = value(|c| &c.image),
        open = part("card"),
    )
}

fn utm(link: &Link) -> String {
    let utm = link.controls.routing.utm.as_ref();
    let mut inputs = String::new();
    for (name, value) in [
        ("source", utm.and_then(|u| u.source.as_deref())),
        ("medium", utm.and_then(|u| u.medium.as_deref())),
        ("campaign", utm.and_then(|u| u.campaign.as_deref())),
        ("term", utm.and_then(|u| u.term.as_deref())),
        ("content", utm.and_then(|u| u.content.as_deref())),
    ] {
        inputs.push_str(&format!(
            r#"
  <div class="field"><label for="utm_{name}">utm_{name}</label>
    <input id="utm_{name}" name="utm_{name}" type="text" maxlength="{MAX_UTM_CHARS}" data-utm="{name}" value="{value}"></div>"#,
            value = escape(value.unwrap_or("")),
        ));
    }
    format!(
        r#"{open}
  <h3>UTM fields</h3>
  <p class="hint">Added to the target's query on every redirect, never over a parameter the target already has; clicks are counted by campaign. Leave all empty for none.</p>{inputs}
</div>"#,
        open = part("utm"),
    )
}

fn rename(link: &Link) -> String {
    format!(
        r#"{open}
  <h3>Short key</h3>
  <div class="field"><label for="new_key">Key <span class="hint">(3–64 of a–z 0–9 _ -; the old key keeps working)</span></label>
    <input id="new_key" name="key" type="text" autocapitalize="none" spellcheck="false" data-field="key" data-kind="text" value="{key}"></div>
</div>"#,
        key = escape(link.key.as_str()),
        open = part("rename"),
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
        r#"<div class="part" id="health-card">
  <h3 id="health-title">Target health</h3>
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
</div>"#,
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
