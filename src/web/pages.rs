//! The HTML pages. Each is a pure function of the data it shows, so it is tested
//! natively; the handlers only fetch that data and wrap the result in a response.

use super::chart::{clicks_per_day, clicks_table};
use super::html::{escape, page};
use super::settings::{health_label, settings, Notice};
use crate::domain::link::Link;
use crate::domain::stats::Stats;
use crate::domain::timestamp::Timestamp;

/// `GET /` for browsers: the form. Creating needs the script (the API takes JSON);
/// without it the page says how to use the API instead.
pub fn home() -> String {
    let main = r##"<h1>Shorten a link</h1>
<form id="shorten" class="card" novalidate>
  <div class="field">
    <label for="target_url">Long URL</label>
    <input id="target_url" name="target_url" type="url" inputmode="url" autocomplete="url" required placeholder="example.com/a/very/long/path" aria-describedby="target_url-error">
    <p class="error" id="target_url-error" role="alert" hidden></p>
  </div>
  <div class="row">
    <div class="field">
      <label for="custom_key">Custom key <span class="hint">(optional, 3–64 of a–z 0–9 _ -)</span></label>
      <input id="custom_key" name="custom_key" type="text" autocapitalize="none" spellcheck="false" aria-describedby="custom_key-error">
      <p class="error" id="custom_key-error" role="alert" hidden></p>
    </div>
    <div class="field">
      <label for="expires_at">Expires <span class="hint">(optional, your local time)</span></label>
      <input id="expires_at" name="expires_at" type="datetime-local" aria-describedby="expires_at-error">
      <p class="error" id="expires_at-error" role="alert" hidden></p>
    </div>
  </div>
  <button type="submit">Shorten</button>
  <p class="error" id="form-error" role="alert" hidden></p>
</form>
<noscript><p class="card">This form needs JavaScript. Without it, use the API:
<code>curl -X POST /url -H 'content-type: application/json' -d '{"target_url": "https://…"}'</code> (see <a href="/docs">the API</a>).</p></noscript>
<section id="result" class="card" hidden aria-live="polite">
  <h2>Your short link</h2>
  <p class="short"><a id="short-url" href="#"></a> <button type="button" id="copy" class="copy" data-copy="short-url" aria-label="Copy the short link">Copy</button></p>
  <p class="target hint">Goes to <span id="result-target"></span></p>
  <img id="qr" alt="QR code of the short link" width="192" height="192">
  <p><a id="qr-download" href="#" download>Download the QR code (SVG)</a> <button type="button" id="qr-png" class="copy">Download as PNG</button></p>
  <p class="error" id="qr-png-error" role="alert" hidden></p>
  <div class="warning" role="note">
    <p><strong>Keep this admin link.</strong> It is the only way to see the statistics of this link, change it or deactivate it, and it is shown only this once.</p>
    <p><a id="admin-url" href="#"></a> <button type="button" class="copy" data-copy="admin-url" aria-label="Copy the admin link">Copy</button> <span id="copied" class="copied" role="status" hidden></span></p>
  </div>
  <p><button type="button" id="again">Shorten another</button></p>
</section>
<section id="your-links" class="card" aria-labelledby="your-links-title" hidden>
  <h2 id="your-links-title">Your links</h2>
  <p class="hint">The links made in this browser, with their admin links. This list is kept only in this browser (its local storage), never on the server: another browser or device does not see it, and clearing this site's data erases it.</p>
  <p id="your-links-note" class="hint" role="status"></p>
  <ul id="your-links-list" class="your-links"></ul>
  <p><button type="button" id="forget-all" class="secondary">Forget all</button></p>
</section>"##;
    page("Shorten a link", main, true)
}

/// The state of a link as a word people read.
pub fn state_label(state: &str) -> &'static str {
    match state {
        "active" => "Active",
        "deactivated" => "Deactivated",
        "expired" => "Expired",
        "exhausted" => "Click limit reached",
        "scheduled" => "Not active yet",
        _ => "Unknown",
    }
}

fn top_table(caption: &str, head: &str, rows: &[(String, i64)]) -> String {
    let mut html = format!("<div><h3>{}</h3>", escape(caption));
    if rows.is_empty() {
        html.push_str("<p class=\"hint\">No clicks in this period.</p></div>");
        return html;
    }
    html.push_str(&format!(
        "<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">Clicks</th></tr></thead><tbody>",
        escape(head)
    ));
    for (name, clicks) in rows {
        html.push_str(&format!(
            "<tr><td>{}</td><td class=\"num\">{clicks}</td></tr>",
            escape(name)
        ));
    }
    html.push_str("</tbody></table></div>");
    html
}

/// What the admin page shows besides the link and its statistics.
pub struct AdminContext<'a> {
    pub short_url: &'a str,
    pub state: &'a str,
    pub redirect_status: u16,
    /// The service's own redirect status, for a link that has none of its own.
    pub default_redirect: u16,
    /// What a settings form posted without the script came back with.
    pub notice: Option<&'a Notice>,
}

/// `GET /admin/{secret_key}` for browsers. Everything is readable without the script;
/// the buttons and the form call the JSON API through it.
pub fn admin(link: &Link, stats: &Stats, cx: &AdminContext) -> String {
    let key = escape(link.key.as_str());
    let short = escape(cx.short_url);
    let target = escape(&link.target_url);
    let expires = link.settings.expires_at.map_or("Never".to_string(), |t| {
        let at = escape(&t.to_rfc3339());
        format!("<time datetime=\"{at}\">{at}</time>")
    });
    let limit = link
        .settings
        .max_clicks
        .map_or("None".to_string(), |m| m.to_string());
    let toggle = if link.is_active {
        r#"<button type="button" class="danger" data-patch='{"is_active":false}' data-confirm="Deactivate this link? It stops redirecting at once (you can reactivate it here).">Deactivate</button>"#
    } else {
        r#"<button type="button" data-patch='{"is_active":true}'>Reactivate</button>"#
    };
    let main = format!(
        r#"<h1>Link <code>{key}</code></h1>
<dl class="facts card">
  <dt>Short URL</dt><dd><a href="{short}">{short}</a></dd>
  <dt>Target</dt><dd class="target"><a href="{target}" rel="noreferrer noopener">{target}</a></dd>
  <dt>State</dt><dd><span class="state state-{state_class}" id="state">{state}</span></dd>
  <dt>Created</dt><dd><time datetime="{created}">{created}</time></dd>
  <dt>Expires</dt><dd>{expires}</dd>
  <dt>Click limit</dt><dd>{limit}</dd>
  <dt>Redirect</dt><dd>{status}</dd>
  <dt>Target health</dt><dd><span class="state health-{health_state}" id="health">{health}</span> <span class="hint">{health_detail}</span></dd>
  <dt>Clicks</dt><dd><strong id="clicks">{clicks}</strong> <span class="hint">({humans} by people, {bots} by bots)</span></dd>
  <dt>Unique visitors</dt><dd><strong id="visitors">{visitors}</strong> <span class="hint">in the last {days} days; <span id="recent-clicks">{recent}</span> clicks in the last 48 hours</span></dd>
  {controls}
</dl>
<section class="card">
  <h2>Clicks per day, last {days} days</h2>
  {chart}
  {chart_table}
</section>
<section class="card grid">
  {referrers}{countries}{devices}{sources}{campaigns}
</section>
<section class="card">
  <h2>Manage</h2>
  <p>{toggle}</p>
  <form id="retarget">
    <div class="field">
      <label for="new_target">New target URL</label>
      <input id="new_target" name="target_url" type="url" inputmode="url" required value="{target}" aria-describedby="retarget-error">
      <p class="error" id="retarget-error" role="alert" hidden></p>
    </div>
    <button type="submit">Change target</button>
  </form>
  <p class="error" id="manage-error" role="alert" hidden></p>
  <noscript><p class="hint">Changing the link needs JavaScript, or the API: <code>PATCH</code> this page's URL with a JSON body.</p></noscript>
  <h3>QR code</h3>
  <img src="/{key}/qr?size=160" alt="QR code of {short}" width="160" height="160">
</section>
{settings}
<script src="/static/settings.js" defer></script>
<script src="/static/admin.js" defer></script>"#,
        state_class = escape(cx.state),
        state = state_label(cx.state),
        created = escape(&link.created_at.to_rfc3339()),
        status = cx.redirect_status,
        health = health_label(link.health.state.as_str()),
        health_state = link.health.state.as_str(),
        settings = settings(link, cx.default_redirect, cx.notice),
        controls = controls_facts(link),
        health_detail = health_detail(link),
        clicks = stats.clicks,
        humans = stats.humans,
        bots = stats.bots,
        visitors = stats.visitors,
        recent = stats.by_hour.iter().map(|h| h.clicks).sum::<i64>(),
        days = stats.days,
        chart = clicks_per_day(&stats.by_day),
        chart_table = clicks_table(&stats.by_day),
        referrers = top_table(
            "Top referrers",
            "Referrer",
            &stats
                .referrers
                .iter()
                .map(|r| (r.value.clone(), r.clicks))
                .collect::<Vec<_>>()
        ),
        countries = top_table(
            "Countries",
            "Country",
            &stats
                .countries
                .iter()
                .map(|c| (c.value.clone(), c.clicks))
                .collect::<Vec<_>>()
        ),
        devices = top_table(
            "Devices",
            "Device",
            &stats
                .devices
                .iter()
                .map(|d| (d.value.clone(), d.clicks))
                .collect::<Vec<_>>()
        ),
        sources = top_table(
            "Sources",
            "Source (qr: a QR code scan)",
            &stats
                .sources
                .iter()
                .map(|s| (s.value.clone(), s.clicks))
                .collect::<Vec<_>>()
        ),
        // Only links that ever had a UTM campaign have campaign figures.
        campaigns = if stats.campaigns.is_empty() {
            String::new()
        } else {
            top_table(
                "Campaigns",
                "Campaign",
                &stats
                    .campaigns
                    .iter()
                    .map(|c| (c.value.clone(), c.clicks))
                    .collect::<Vec<_>>(),
            )
        },
    );
    page(&format!("Link {}", link.key), &main, true)
}

/// Every control of the link that is set, as lines of the facts list, so the top of the
/// page says all that shapes where a visitor goes (the forms below say it only field
/// by field).
fn controls_facts(link: &Link) -> String {
    let c = &link.controls;
    let r = &c.routing;
    let mut facts: Vec<(&str, String)> = Vec::new();
    if let Some(title) = &c.title {
        facts.push(("Title", escape(title)));
    }
    if !c.tags.is_empty() {
        facts.push(("Tags", escape(&c.tags.join(", "))));
    }
    if c.note.is_some() {
        facts.push(("Note", "A private note (in the settings below)".into()));
    }
    if r.password_hash.is_some() {
        facts.push(("Password", "Visitors must enter a password".into()));
    }
    if let Some(at) = r.valid_since {
        let at = escape(&at.to_rfc3339());
        facts.push(("Starts", format!("<time datetime=\"{at}\">{at}</time>")));
    }
    if !r.rules.is_empty() {
        let n = r.rules.len();
        facts.push((
            "Targeting rules",
            format!("{n} rule{}, tried first", if n == 1 { "" } else { "s" }),
        ));
    }
    if let Some(split) = &r.split {
        let variants: Vec<String> = split
            .variants
            .iter()
            .map(|v| format!("{}× {}", v.weight, escape(&v.target_url)))
            .collect();
        facts.push(("A/B split", variants.join(", ")));
    }
    if let Some(url) = &r.fallback_url {
        facts.push(("Fallback", escape(url)));
    }
    if let Some(mode) = link.settings.dead_link_mode {
        facts.push(("When the target is dead", escape(mode.as_str())));
    }
    // Passing the query string on is the default; only turning it off is news.
    if !link.settings.forward_query {
        facts.push(("Query string", "Not passed on to the target".into()));
    }
    if r.crawlable {
        facts.push(("Search engines", "May index this link".into()));
    }
    if let Some(card) = &r.social_card {
        let title = card
            .title
            .as_deref()
            .map_or(String::new(), |t| format!(": {}", escape(t)));
        facts.push(("Social card", format!("Set{title}")));
    }
    facts
        .into_iter()
        .map(|(name, value)| format!("<dt>{name}</dt><dd>{value}</dd>"))
        .collect()
}

/// When the target was last checked, what it answered, and since when its state holds
/// (HTML: the instants are `<time>` elements, which the script shows in the reader's
/// time zone).
fn health_detail(link: &Link) -> String {
    let h = &link.health;
    let time = |t: Timestamp| {
        let at = escape(&t.to_rfc3339());
        format!("<time datetime=\"{at}\">{at}</time>")
    };
    match (h.checked_at, h.reason.as_deref()) {
        (Some(at), Some(reason)) => format!(
            "(last checked {}: {}; since {})",
            time(at),
            escape(reason),
            time(h.since.unwrap_or(at))
        ),
        _ => "(not checked yet)".to_string(),
    }
}

/// `GET /{key}+` for browsers: where the link goes, and a way to continue.
pub fn preview(short_url: &str, target: &str) -> String {
    let main = format!(
        r#"<h1>Where this link goes</h1>
<div class="card">
  <p><a href="{short}">{short}</a> goes to:</p>
  <p class="target"><strong>{target}</strong></p>
  <p><a class="button" href="{target}" rel="noreferrer noopener">Continue</a></p>
</div>"#,
        short = escape(short_url),
        target = escape(target)
    );
    page("Link preview", &main, false)
}

/// `GET /{key}` of a password-protected link, for browsers: a form that posts the
/// password back to the same address. Names no target.
pub fn password_form(wrong: bool) -> String {
    let hint = if wrong {
        "<p class=\"error\" role=\"alert\">Wrong password. Try again.</p>"
    } else {
        ""
    };
    let main = format!(
        r#"<h1>This link is protected</h1>
<div class="card">{hint}
  <form method="post">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" required autofocus autocomplete="current-password">
    <button type="submit">Continue</button>
  </form>
</div>"#
    );
    page("Password required", &main, false)
}

/// What a link-preview bot (Slack, X, Facebook, …) gets instead of the redirect when
/// the link has a social card: Open Graph and Twitter Card tags with the owner's own
/// title, description and image, and the short URL. Names no target.
pub fn social_card(
    short_url: &str,
    title: Option<&str>,
    description: Option<&str>,
    image: Option<&str>,
) -> String {
    let mut meta = format!(
        "<meta property=\"og:type\" content=\"website\"><meta property=\"og:url\" content=\"{}\">",
        escape(short_url)
    );
    let card = if image.is_some() {
        "summary_large_image"
    } else {
        "summary"
    };
    meta.push_str(&format!("<meta name=\"twitter:card\" content=\"{card}\">"));
    for (og, tw, value) in [
        ("og:title", "twitter:title", title),
        ("og:description", "twitter:description", description),
        ("og:image", "twitter:image", image),
    ] {
        if let Some(v) = value {
            let v = escape(v);
            meta.push_str(&format!(
                "<meta property=\"{og}\" content=\"{v}\"><meta name=\"{tw}\" content=\"{v}\">"
            ));
        }
    }
    if let Some(d) = description {
        meta.push_str(&format!(
            "<meta name=\"description\" content=\"{}\">",
            escape(d)
        ));
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>{meta}</head>\
         <body><p><a href=\"{}\">{}</a></p></body></html>",
        escape(title.unwrap_or(short_url)),
        escape(short_url),
        escape(title.unwrap_or(short_url))
    )
}

/// `GET /{key}+` of a password-protected link, for browsers: it names no target.
pub fn preview_protected(short_url: &str) -> String {
    let main = format!(
        r#"<h1>This link is protected</h1>
<div class="card"><p><a href="{short}">{short}</a> asks for a password before it says where it goes.</p></div>"#,
        short = escape(short_url)
    );
    page("Link preview", &main, false)
}

/// What a visitor of a dead link is told (`DEAD_LINK_MODE` interstitial or gone).
pub struct DeadTargetFacts<'a> {
    pub short_url: &'a str,
    pub target: &'a str,
    pub since: &'a str,
    /// The owner's fallback, when the link has one.
    pub fallback: Option<&'a str>,
    /// `gone` mode: no button to continue, only the facts.
    pub gone: bool,
}

/// The page of a dead link: the target appears to be gone since a date; a button to
/// continue anyway (interstitial mode), and the owner's fallback if set.
pub fn dead_target(facts: &DeadTargetFacts) -> String {
    let target = escape(facts.target);
    let since = escape(facts.since);
    let day = escape(facts.since.get(..10).unwrap_or(facts.since));
    let go_on = if facts.gone {
        String::new()
    } else {
        format!(
            r#"<a class="button" href="{target}" rel="noreferrer noopener">Continue anyway</a> "#
        )
    };
    let fallback = facts.fallback.map_or(String::new(), |f| {
        let f = escape(f);
        format!(r#"<a class="button" href="{f}" rel="noreferrer noopener">Go to the owner's alternative</a>"#)
    });
    let main = format!(
        r#"<h1>This link's target appears to be gone</h1>
<div class="card">
  <p><a href="{short}">{short}</a> goes to:</p>
  <p class="target"><strong>{target}</strong></p>
  <p>Checks of that page have failed since <time datetime="{since}">{day}</time>.</p>
  <p>{go_on}{fallback}</p>
</div>"#,
        short = escape(facts.short_url),
    );
    page("Target appears to be gone", &main, false)
}

/// A short page for a link that does not exist or no longer redirects.
pub fn error(status: u16, detail: &str) -> String {
    let title = match status {
        404 => "Link not found",
        410 => "This link no longer works",
        _ => "Something went wrong",
    };
    let main = format!(
        "<h1>{}</h1><div class=\"card\"><p>{}</p><p><a href=\"/\">Make a new short link</a></p></div>",
        escape(title),
        escape(detail)
    );
    page(title, &main, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stats::{CampaignClicks, DayClicks, DeviceClicks, HostClicks, SourceClicks};
    use crate::domain::timestamp::Timestamp;

    fn link() -> Link {
        Link {
            domain: Default::default(),
            key: crate::domain::key::Key::parse("abc").unwrap(),
            target_url: "https://example.com/<script>".into(),
            is_active: true,
            clicks: 3,
            imported_clicks: 0,
            created_at: Timestamp::from_millis(1_795_290_489_000),
            settings: crate::domain::link::LinkSettings::default(),
            version: 1,
            controls: Default::default(),
            stats_key: "abc".into(),
            health: crate::domain::health::Health::default(),
        }
    }

    fn stats() -> Stats {
        Stats {
            clicks: 3,
            humans: 2,
            bots: 1,
            first_click_at: None,
            last_click_at: None,
            days: 2,
            visitors: 1,
            by_month: vec![],
            by_day: vec![
                DayClicks {
                    date: "2026-11-20".into(),
                    clicks: 1,
                    visitors: 1,
                },
                DayClicks {
                    date: "2026-11-21".into(),
                    clicks: 2,
                    visitors: 1,
                },
            ],
            by_hour: Vec::new(),
            referrers: vec![HostClicks::new("direct", 3)],
            countries: vec![],
            devices: vec![DeviceClicks::new("mobile", 3)],
            sources: Vec::new(),
            campaigns: Vec::new(),
            served_by: Vec::new(),
            bots_by_reason: Vec::new(),
        }
    }

    #[test]
    fn the_admin_page_shows_clicks_by_source_and_campaigns_only_for_links_that_had_one() {
        let cx = AdminContext {
            short_url: "https://sho.rt/abc",
            state: "active",
            redirect_status: 302,
            default_redirect: 302,
            notice: None,
        };
        let plain = admin(&link(), &stats(), &cx);
        assert!(plain.contains("<h3>Sources</h3>"));
        assert!(!plain.contains("<h3>Campaigns</h3>"));
        let campaigned = Stats {
            sources: vec![SourceClicks::new("qr", 2), SourceClicks::new("link", 1)],
            campaigns: vec![CampaignClicks::new("<spring>", 3)],
            ..stats()
        };
        let html = admin(&link(), &campaigned, &cx);
        assert!(html.contains("<tr><td>qr</td><td class=\"num\">2</td></tr>"));
        assert!(html.contains("<h3>Campaigns</h3>"));
        assert!(html.contains("<td>&lt;spring&gt;</td>"));
    }

    #[test]
    fn the_admin_page_shows_the_link_its_numbers_and_a_chart_with_text_escaped() {
        let cx = AdminContext {
            short_url: "https://sho.rt/abc",
            state: "active",
            redirect_status: 302,
            default_redirect: 302,
            notice: None,
        };
        let html = admin(&link(), &stats(), &cx);
        assert!(html.contains("https://example.com/&lt;script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<strong id=\"clicks\">3</strong>"));
        assert!(html.contains("<strong id=\"visitors\">1</strong>"));
        assert!(html.contains("<span id=\"recent-clicks\">0</span>"));
        assert!(html.contains("<svg class=\"chart\""));
        assert!(html.contains("Deactivate"));
        assert!(html.contains("No clicks in this period."));
        assert!(html.contains("2026-11-21T19:48:09Z"));
        let off = admin(
            &Link {
                is_active: false,
                ..link()
            },
            &stats(),
            &AdminContext {
                state: "deactivated",
                ..cx
            },
        );
        assert!(off.contains("Reactivate") && off.contains("Deactivated"));
    }

    #[test]
    fn the_facts_at_the_top_name_every_control_that_is_set_and_none_that_is_not() {
        let plain = controls_facts(&link());
        assert_eq!(plain, "");
        let mut set = link();
        set.controls = crate::domain::controls::Controls::from_json(
            r#"{"title": "Spring <sale>", "tags": ["a", "b"], "rules": [{"when": {"device": "mobile"}, "target_url": "https://example.com/m"}],
                "split": {"variants": [{"target_url": "https://example.com/x", "weight": 3}, {"target_url": "https://example.com/y", "weight": 1}], "sticky_seconds": 60},
                "social_card": {"title": "Card"}, "crawlable": true}"#,
        )
        .unwrap();
        set.controls.routing.password_hash = Some("stored".into());
        let facts = controls_facts(&set);
        for part in [
            "<dt>Title</dt><dd>Spring &lt;sale&gt;</dd>",
            "<dt>Tags</dt><dd>a, b</dd>",
            "<dt>Password</dt>",
            "<dt>Targeting rules</dt><dd>1 rule, tried first</dd>",
            "<dt>A/B split</dt><dd>3× https://example.com/x, 1× https://example.com/y</dd>",
            "<dt>Social card</dt><dd>Set: Card</dd>",
            "<dt>Search engines</dt>",
        ] {
            assert!(facts.contains(part), "{part} in {facts}");
        }
    }

    #[test]
    fn every_input_has_a_label() {
        let cx = AdminContext {
            short_url: "https://sho.rt/abc",
            state: "active",
            redirect_status: 302,
            default_redirect: 302,
            notice: None,
        };
        for html in [home(), admin(&link(), &stats(), &cx), password_form(true)] {
            let inputs = html.matches("<input id=\"").count();
            assert!(inputs > 0);
            for id in html
                .split("<input id=\"")
                .skip(1)
                .map(|s| s.split('"').next().unwrap())
            {
                assert!(
                    html.contains(&format!("<label for=\"{id}\"")),
                    "input {id} has no label"
                );
            }
        }
    }

    #[test]
    fn the_dead_target_page_offers_continue_and_the_fallback_only_when_they_apply() {
        let facts = DeadTargetFacts {
            short_url: "https://sho.rt/abc",
            target: "https://gone.example/<x>",
            since: "2026-11-21T19:48:09Z",
            fallback: Some("https://alt.example/"),
            gone: false,
        };
        let html = dead_target(&facts);
        assert!(html.contains("Continue anyway"));
        assert!(html.contains("https://gone.example/&lt;x&gt;"));
        assert!(html.contains("2026-11-21</time>"));
        assert!(html.contains("https://alt.example/"));
        let gone = dead_target(&DeadTargetFacts {
            fallback: None,
            gone: true,
            ..facts
        });
        assert!(!gone.contains("Continue anyway"));
        assert!(!gone.contains("alternative"));
    }

    #[test]
    fn preview_and_error_pages_escape_what_they_show() {
        let html = preview("https://sho.rt/abc", "https://example.com/?q=<b>");
        assert!(html.contains("?q=&lt;b&gt;") && html.contains("Continue"));
        assert!(!html.contains("<script"));
        let gone = error(410, "This short link has expired");
        assert!(gone.contains("no longer works") && gone.contains("expired"));
    }
}
