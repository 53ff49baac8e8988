//! How a link is shown in JSON: the one presenter shared by the owner's and the
//! operator's endpoints, and by the export.

use std::rc::Rc;

use serde::Serialize;

use super::context::{origin_on, Ctx};
use crate::config::Config;
use crate::domain::health::{DeadLinkMode, Health};
use crate::domain::link::{Link, LinkState, RedirectStatus};
use crate::domain::secret::SecretKey;
use crate::domain::timestamp::Timestamp;

/// A link as its owner (with `secret`) or the operator (without) sees it.
#[derive(Serialize)]
pub struct LinkView<'a> {
    key: &'a str,
    /// The domain it lives on, by name (`default` or `BASE_URL`'s host for the primary).
    domain: String,
    target_url: &'a str,
    is_active: bool,
    pub state: &'static str,
    clicks: i64,
    /// The part of `clicks` counted elsewhere before an import (0 for a link made here).
    imported_clicks: i64,
    pub url: String,
    tiny_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key: Option<&'a str>,
    created_at: String,
    expires_at: Option<String>,
    max_clicks: Option<i64>,
    pub redirect_status: u16,
    forward_query: bool,
    // Title, tags, note and routing, as stored (absent fields are not set); written
    // out because `#[serde(flatten)]` costs the wasm more than these lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback_url: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    crawlable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    split: Option<serde_json::Value>,
    /// What link-preview bots are shown (the API documents it; without it the
    /// dashboard's form could not show a card it edits).
    #[serde(skip_serializing_if = "Option::is_none")]
    social_card: Option<serde_json::Value>,
    /// The link asks for a password (which is never shown, nor its hash).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    protected: bool,
    /// A renamed link's first name, which its statistics stay under (and which still
    /// redirects, as an alias): its first key, `host/key` off the primary domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    stats_key: Option<&'a str>,
    /// `None`: the instance's `DEAD_LINK_MODE`.
    dead_link_mode: Option<&'static str>,
    health: HealthView<'a>,
}

/// A link's health as the API shows it.
#[derive(Serialize)]
pub struct HealthView<'a> {
    state: &'static str,
    checked_at: Option<String>,
    status_code: Option<u16>,
    reason: Option<&'a str>,
    since: Option<String>,
}

impl<'a> HealthView<'a> {
    pub fn new(health: &'a Health) -> HealthView<'a> {
        HealthView {
            state: health.state.as_str(),
            checked_at: health.checked_at.map(Timestamp::to_rfc3339),
            status_code: health.status_code,
            reason: health.reason.as_deref(),
            since: health.since.map(Timestamp::to_rfc3339),
        }
    }
}

/// What rendering a [`LinkView`] needs from the request; owned, so a response stream
/// can keep it after the handler returns.
#[derive(Clone)]
pub struct Viewer {
    /// The primary domain's origin ([`Ctx::origin`]).
    pub origin: String,
    /// The request's host name and origin: a link on the domain it came in on gets
    /// this origin (see [`origin_on`]).
    pub here: Option<(String, String)>,
    pub config: Rc<Config>,
    pub default_redirect: RedirectStatus,
    pub now: Timestamp,
}

impl Viewer {
    pub fn of(cx: &Ctx) -> Viewer {
        Viewer {
            origin: cx.origin().to_string(),
            here: cx.here().map(|(h, o)| (h.to_string(), o)),
            config: cx.config.clone(),
            default_redirect: cx.config.default_redirect,
            now: cx.now,
        }
    }
}

impl<'a> LinkView<'a> {
    pub fn new(link: &'a Link, secret: Option<&'a SecretKey>, cx: &Viewer) -> LinkView<'a> {
        let here = cx.here.as_ref().map(|(h, o)| (h.as_str(), o.as_str()));
        let origin = origin_on(&link.domain, &cx.origin, here);
        let url = format!("{origin}/{}", link.key);
        LinkView {
            key: link.key.as_str(),
            domain: cx.config.domains.name_of(&link.domain).to_string(),
            target_url: &link.target_url,
            is_active: link.is_active,
            state: match link.state(cx.now) {
                LinkState::Active => "active",
                LinkState::Deactivated => "deactivated",
                LinkState::Expired => "expired",
                LinkState::Exhausted => "exhausted",
                LinkState::Scheduled => "scheduled",
            },
            clicks: link.clicks,
            imported_clicks: link.imported_clicks,
            tiny_url: url.clone(),
            url,
            admin_url: secret.map(|s| format!("{origin}/admin/{}", s.as_str())),
            secret_key: secret.map(SecretKey::as_str),
            created_at: link.created_at.to_rfc3339(),
            expires_at: link.settings.expires_at.map(Timestamp::to_rfc3339),
            max_clicks: link.settings.max_clicks,
            redirect_status: link
                .settings
                .redirect_status
                .unwrap_or(cx.default_redirect)
                .code(),
            forward_query: link.settings.forward_query,
            title: link.controls.title.as_deref(),
            note: link.controls.note.as_deref(),
            tags: &link.controls.tags,
            valid_since: link.controls.routing.valid_since.map(Timestamp::to_rfc3339),
            fallback_url: link.controls.routing.fallback_url.as_deref(),
            crawlable: link.controls.routing.crawlable,
            rules: link.controls.routing.rules_value(),
            split: link.controls.routing.split_value(),
            social_card: link
                .controls
                .routing
                .social_card
                .as_ref()
                .map(|c| c.to_value()),
            protected: link.controls.routing.password_hash.is_some(),
            stats_key: link.was_renamed().then_some(link.stats_key.as_str()),
            dead_link_mode: link.settings.dead_link_mode.map(DeadLinkMode::as_str),
            health: HealthView::new(&link.health),
        }
    }
}
