//! Creating links, and the endpoints that show and change one: the owner's (found by
//! the hash of the secret) and the operator's (found by key) share these handlers.

use worker::Request;

use super::auth::Operator;
use super::context::Ctx;
use super::draft::{Draft, MAX_KEY_ATTEMPTS};
use super::password;
use super::present::{LinkView, Viewer};
use crate::config::{CREATE_LIMITER_BINDING, RATE_LIMIT_RETRY_AFTER_SECONDS};
use crate::domain::address::LinkName;
use crate::domain::health::Verdict;
use crate::domain::key::Key;
use crate::domain::link::{Link, RedirectStatus};
use crate::domain::link_request::{live_window, Change, CreationCheck, LinkPatch, NewLink};
use crate::domain::secret::{sha256_hex, SecretKey};
use crate::domain::stats::{Stats, Window, TOP};
use crate::domain::timestamp::Timestamp;
use crate::http::body::{self, MAX_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, BAD_REQUEST, CREATED, OK};
use crate::log::LogLine;
use crate::storage::links::{LinkRef, Updated};
use crate::web::pages::{self, AdminContext};
use crate::web::settings::{form_patch, in_form_words, Notice, PLAIN_FORMS};

/// The answer to a `reuse` request: public fields only, never the creator's secret,
/// and what the shared link does (which is what this caller asked for; see
/// [`behaves_as_asked`]).
fn reused(link: &Link, cx: &Ctx) -> Result<Reply, ApiError> {
    let url = cx.short_url(&link.name());
    let body = serde_json::json!({
        "key": link.key.as_str(),
        "domain": cx.config.domains.name_of(&link.domain),
        "url": url,
        "tiny_url": url,
        "target_url": link.target_url,
        "redirect_status": link.settings.redirect_status.unwrap_or(cx.config.default_redirect).code(),
        "forward_query": link.settings.forward_query,
    });
    Ok(response::json(OK, &body)?)
}

/// A shared link is handed out only when it redirects the way this caller asked: the
/// same effective status, the same query forwarding and the same dead-link mode.
/// (Shared links carry no expiry or click limit, so nothing else can differ.)
/// Otherwise the caller gets a link of its own, as without `reuse`.
fn behaves_as_asked(link: &Link, new: &NewLink, cx: &Ctx) -> bool {
    let default = cx.config.default_redirect;
    link.settings.redirect_status.unwrap_or(default)
        == new.settings.redirect_status.unwrap_or(default)
        && link.settings.forward_query == new.settings.forward_query
        && link.settings.dead_link_mode == new.settings.dead_link_mode
}

/// `POST /url`: validates the body, inserts the row (the unique index on `key` decides
/// collisions) and answers `201` with the secret, which is never shown again. With
/// `"reuse": true`, an existing shared link for the same target that redirects the same
/// way is answered with `200`.
pub async fn create(req: &mut Request, cx: &Ctx) -> Result<Reply, ApiError> {
    // The limiter's answer and the body are awaited together: the limiter is a binding
    // call, and nothing is written before both are in.
    let client = client_ip(req);
    let (limited, body) =
        futures_util::future::join(rate_limit(client, cx), body::read_json(req, MAX_BODY_BYTES))
            .await;
    limited?;
    let body = body?;
    let own_hosts = cx.own_hosts();
    let mut new = NewLink::from_json(&body, &cx.target_policy(&own_hosts), cx.now)?;
    let domain = cx.chosen_domain(new.domain.as_deref())?;
    let checker = cx.checker(&own_hosts);
    // The target is checked before the insert, so "require" can refuse the link
    // without leaving a row behind.
    let seen = match new.check {
        CreationCheck::None => None,
        CreationCheck::Report | CreationCheck::Require => {
            Some(checker.observe(new.target.as_str()).await)
        }
    };
    if let Some(seen) = seen
        .as_ref()
        .filter(|_| new.check == CreationCheck::Require)
    {
        if matches!(seen.verdict(), Verdict::Failing | Verdict::Gone) {
            return Err(ApiError::BadRequest(format!(
                "target_url failed its check ({}); the link was not created",
                seen.reason()
            )));
        }
    }
    password::hash_new(&mut new).await?;
    let store = cx.links()?;
    let target_hash = sha256_hex(new.target.as_str());
    if new.reuse {
        match store.find_reusable(&domain, &target_hash).await? {
            Some(link) if behaves_as_asked(&link, &new, cx) => return reused(&link, cx),
            // The shared link of this target redirects otherwise: a link of one's own.
            Some(_) => new.reuse = false,
            None => {}
        }
    }
    let attempts = if new.custom_key.is_some() {
        1
    } else {
        MAX_KEY_ATTEMPTS
    };
    for _ in 0..attempts {
        let draft = Draft::draw(&new, &domain, cx.config.key_length)?;
        if let Some(mut link) = store.insert(&draft.row(&new, &target_hash, cx.now)).await? {
            if let Some(seen) = &seen {
                let checked = checker.record(&store, &link, seen).await?;
                cx.notify(checked.notice);
                link = checked.link;
            }
            return Ok(response::json(
                CREATED,
                &LinkView::new(&link, Some(&draft.secret), &Viewer::of(cx)),
            )?);
        }
        // Refused by a unique index: another shared link for this target won a race
        // (answer it, if it redirects as asked), or the key is taken (a custom key is
        // final; a drawn one is redrawn).
        if new.reuse {
            match store.find_reusable(&domain, &target_hash).await? {
                Some(link) if behaves_as_asked(&link, &new, cx) => return reused(&link, cx),
                Some(_) => {
                    new.reuse = false;
                    continue;
                }
                None => {}
            }
        }
        if new.custom_key.is_some() {
            return Err(ApiError::KeyTaken(draft.key.as_str().to_string()));
        }
    }
    Err(ApiError::KeySpaceExhausted)
}

/// Limits creations per client IP with the Workers Rate Limiting binding, when it is
/// bound. The limiter is an abuse brake, not a source of truth: if it fails, the
/// request goes through and the failure is logged.
async fn rate_limit(client: String, cx: &Ctx) -> Result<(), ApiError> {
    let Ok(limiter) = cx.env.rate_limiter(CREATE_LIMITER_BINDING) else {
        return Ok(());
    };
    match limiter.limit(client).await {
        Ok(outcome) if !outcome.success => {
            Err(ApiError::RateLimited(RATE_LIMIT_RETRY_AFTER_SECONDS))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            LogLine::error("rate_limit")
                .message("rate limiter failed, allowing the request")
                .cause(e)
                .emit();
            Ok(())
        }
    }
}

/// The client's address as Cloudflare reports it: the rate limiter's key.
fn client_ip(req: &Request) -> String {
    req.headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into())
}

/// `GET /admin/{secret_key}` and `GET /api/links/{key}`: the link with its state.
pub async fn show(
    link: &LinkRef<'_>,
    secret: Option<&SecretKey>,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let found = cx.links()?.find(link).await?.ok_or(ApiError::NotFound)?;
    Ok(response::json(
        OK,
        &LinkView::new(&found, secret, &Viewer::of(cx)),
    )?)
}

/// `GET /admin/{secret_key}` for browsers: the link, its last 30 days, and the controls.
/// After a settings form posted without the script, `?saved=<form>` or
/// `?unchanged=<form>` says so in that form.
pub async fn admin_page(secret: &SecretKey, cx: &Ctx) -> Result<Reply, ApiError> {
    let notice = [
        ("saved", "Saved."),
        ("unchanged", "Nothing to save: no field was changed."),
    ]
    .into_iter()
    .find_map(|(param, text)| {
        let form = cx.query_param(param)?;
        let form = PLAIN_FORMS.into_iter().find(|f| *f == form)?;
        Some(Notice {
            form,
            text: text.to_string(),
            error: false,
        })
    });
    admin_page_with(secret, notice.as_ref(), OK, cx).await
}

async fn admin_page_with(
    secret: &SecretKey,
    notice: Option<&Notice>,
    status: u16,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let store = cx.links()?;
    let link = store
        .find(&LinkRef::Secret(&secret.hash()))
        .await?
        .ok_or(ApiError::NotFound)?;
    let window = Window::parse(None, cx.now)?;
    let stats = stats_of(link.stats_key(), &window, cx).await?;
    let view = LinkView::new(&link, Some(secret), &Viewer::of(cx));
    let page = pages::admin(
        &link,
        &stats,
        &AdminContext {
            short_url: &view.url,
            state: view.state,
            redirect_status: view.redirect_status,
            default_redirect: cx.config.default_redirect.code(),
            notice,
        },
    );
    let res = response::html(status, page)?;
    response::noindex(&res)?;
    Ok(res)
}

/// `POST /admin/{secret_key}`: a settings form of the admin page, sent by a browser
/// without the script (`application/x-www-form-urlencoded`). It becomes the same
/// change as the owner's `PATCH` ([`form_patch`]); saved, the browser is sent back to
/// the page (`302`, so the reload is a `GET`); refused, the page is shown again with
/// the reason in the form, in its words.
pub async fn admin_form(
    req: &mut Request,
    secret: &SecretKey,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let pairs = body::read_form(req, MAX_BODY_BYTES).await?;
    let hash = secret.hash();
    let link = cx
        .links()?
        .find(&LinkRef::Secret(&hash))
        .await?
        .ok_or(ApiError::NotFound)?;
    let refused = |form: &'static str, why: String| Notice {
        form,
        text: in_form_words(&why),
        error: true,
    };
    let (form, fields) = match form_patch(&pairs, &link) {
        Ok(changed) => changed,
        Err((Some(form), why)) => {
            let notice = refused(form, why);
            return admin_page_with(secret, Some(&notice), BAD_REQUEST, cx).await;
        }
        Err((None, why)) => return Err(ApiError::BadRequest(why)),
    };
    let back = |param: &str| format!("/admin/{}?{param}={form}", secret.as_str());
    if fields.is_empty() {
        return Ok(response::redirect(
            &back("unchanged"),
            RedirectStatus::Found,
            0,
        )?);
    }
    let body = serde_json::Value::Object(fields).to_string().into_bytes();
    let own_hosts = cx.own_hosts();
    let applied = async {
        let mut patch = LinkPatch::from_json(&body, &cx.target_policy(&own_hosts), cx.now)?;
        password::hash_change(&mut patch.controls).await?;
        apply(&LinkRef::Secret(&hash), &patch, cx).await
    }
    .await;
    match applied {
        Ok(_) => Ok(response::redirect(
            &back("saved"),
            RedirectStatus::Found,
            0,
        )?),
        // A refusal is the owner's to read; anything else is the service's fault. A
        // form's body is well-formed by construction: what the JSON API calls a wrong
        // type (422, `max_clicks` typed as "ten") is a bad value typed in a field.
        Err(e) if e.status() < 500 => {
            let notice = refused(form, e.detail());
            let status = match e {
                ApiError::Unprocessable(_) => BAD_REQUEST,
                e => e.status(),
            };
            admin_page_with(secret, Some(&notice), status, cx).await
        }
        Err(e) => Err(e),
    }
}

/// Applies a change in D1, then rewrites (or drops) the cached rule in the same
/// request, so the change takes effect at this location at once.
/// A renamed link's former keys are cached under their own names: they are dropped too,
/// and refilled, verified, on their next visit.
async fn apply(link: &LinkRef<'_>, patch: &LinkPatch, cx: &Ctx) -> Result<Link, ApiError> {
    let store = cx.links()?;
    // The window the change leaves, with the link's other side of it: a link that
    // could never be live is refused as at creation.
    let window = (&patch.controls.valid_since, &patch.expires_at);
    if !matches!(window, (Change::Keep, Change::Keep)) {
        let current = store.find(link).await?.ok_or(ApiError::NotFound)?;
        live_window(
            window.0.applied_to(current.controls.routing.valid_since),
            window.1.applied_to(current.settings.expires_at),
        )?;
    }
    let updated = match store.update(link, patch, cx.now).await? {
        Updated::Link(link) => *link,
        Updated::Missing => return Err(ApiError::NotFound),
        Updated::KeyTaken => {
            let key = patch.rename.as_ref().map_or("", Key::as_str);
            return Err(ApiError::KeyTaken(key.to_string()));
        }
    };
    if updated.was_renamed() {
        for alias in store.aliases(&updated.name()).await? {
            if let Ok(alias) = Key::parse(&alias) {
                let alias = LinkName::new(updated.domain.clone(), alias);
                cx.rules().forget(&alias).await;
            }
        }
    }
    cx.rules().settle(&updated, cx.now).await;
    Ok(updated)
}

/// `PATCH /admin/{secret_key}` and `PATCH /api/links/{key}`.
pub async fn patch(
    req: &mut Request,
    link: &LinkRef<'_>,
    secret: Option<&SecretKey>,
    operator: Option<&Operator>,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let body = body::read_json(req, MAX_BODY_BYTES).await?;
    let own_hosts = cx.own_hosts();
    let mut patch = LinkPatch::from_json(&body, &cx.target_policy(&own_hosts), cx.now)?;
    password::hash_change(&mut patch.controls).await?;
    let updated = apply(link, &patch, cx).await?;
    // An operator's change is audited with the fields it sent (a password only as set
    // or removed); an owner's, through the secret, is not an operator write.
    if let Some(op) = operator {
        let mut sent = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
        // A password is never recorded, only that it was set or removed.
        if let Some(password) = sent.get_mut("password") {
            *password = if password.is_null() {
                "(removed)"
            } else {
                "(set)"
            }
            .into();
        }
        let domains = [updated.domain.stored().to_string()];
        op.audit(
            cx,
            "link.update",
            Some(&updated.name().qualified()),
            Some(&domains),
            sent,
        )
        .await;
    }
    Ok(response::json(
        OK,
        &LinkView::new(&updated, secret, &Viewer::of(cx)),
    )?)
}

/// `DELETE /admin/{secret_key}` and `DELETE /api/links/{key}`: a soft delete. D1 first,
/// then the KV entry, so this location stops redirecting before the answer is sent.
pub async fn deactivate(
    link: &LinkRef<'_>,
    operator: Option<&Operator>,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let patch = LinkPatch::only_active(false);
    let updated = apply(link, &patch, cx).await?;
    // An owner's deactivation, through the secret, is not an operator write.
    if let Some(op) = operator {
        let domains = [updated.domain.stored().to_string()];
        op.audit(
            cx,
            "link.deactivate",
            Some(&updated.name().qualified()),
            Some(&domains),
            serde_json::json!({ "target_url": updated.target_url }),
        )
        .await;
    }
    // A deactivation, not a deletion: the words say it can be undone.
    let detail = format!(
        "Deactivated: the short link to '{}' no longer redirects. This can be undone: PATCH with {{\"is_active\": true}} reactivates it.",
        updated.target_url
    );
    Ok(response::json(
        OK,
        &serde_json::json!({ "detail": detail }),
    )?)
}

/// `POST /admin/{secret_key}/check` and `POST /api/links/{key}/check`: checks the
/// target now and answers the link with its new health. One check per link per
/// `HEALTH_CHECK_MIN_INTERVAL_SECONDS`: the endpoint makes outbound requests, and a
/// loop calling it must not turn this service into someone's load generator.
pub async fn check(
    link: &LinkRef<'_>,
    secret: Option<&SecretKey>,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let store = cx.links()?;
    let found = store.find(link).await?.ok_or(ApiError::NotFound)?;
    let interval_ms = i64::from(cx.config.health_check_min_interval_seconds) * 1000;
    if let Some(at) = found.health.checked_at {
        let wait_ms = at.millis() + interval_ms - cx.now.millis();
        if wait_ms > 0 {
            let seconds = u32::try_from((wait_ms + 999) / 1000).unwrap_or(u32::MAX);
            return Err(ApiError::CheckTooSoon(seconds));
        }
    }
    let own_hosts = cx.own_hosts();
    let checked = cx.checker(&own_hosts).check(&store, &found).await?;
    cx.notify(checked.notice);
    Ok(response::json(
        OK,
        &LinkView::new(&checked.link, secret, &Viewer::of(cx)),
    )?)
}

/// `GET /admin/{secret_key}/stats?days=N`.
pub async fn stats(link: &LinkRef<'_>, cx: &Ctx) -> Result<Reply, ApiError> {
    let window = Window::parse(cx.query_param("days").as_deref(), cx.now)?;
    let found = cx.links()?.find(link).await?.ok_or(ApiError::NotFound)?;
    Ok(response::json(
        OK,
        &stats_of(found.stats_key(), &window, cx).await?,
    )?)
}

/// A link's statistics, under its stats key: its exact counters from the links database and its daily
/// aggregates from its analytics shard, read at the same time.
async fn stats_of(key: &str, window: &Window, cx: &Ctx) -> Result<Stats, ApiError> {
    let links = cx.links()?;
    let shard = cx.analytics(key)?;
    let (totals, breakdown) =
        futures_util::future::try_join(links.totals(key), shard.breakdown(key, window, TOP))
            .await?;
    let totals = totals.ok_or(ApiError::NotFound)?;
    Ok(Stats::assemble(&totals, window, breakdown))
}

/// Raw visits per page of `GET /admin/{secret_key}/visits`: the default and the most.
const VISITS_PAGE: u32 = 50;
const MAX_VISITS_PAGE: u32 = 100;

/// `GET /admin/{secret_key}/visits?cursor=&limit=`: the raw visits kept for the last
/// `VISIT_RETENTION_DAYS`, newest first. With retention off (the default) the list is
/// empty and says so (`retention_days: 0`), rather than pretending the link has none.
pub async fn visits(link: &LinkRef<'_>, cx: &Ctx) -> Result<Reply, ApiError> {
    let limit = cx.limit_param(VISITS_PAGE, MAX_VISITS_PAGE)?;
    // `<at ms>.<id>` of the last visit of the previous page.
    let cursor = match cx.query_param("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(
            raw.split_once('.')
                .and_then(|(at, id)| {
                    let at = Timestamp::parse_millis(at).ok()?.millis();
                    Some((at, id.parse::<i64>().ok().filter(|id| *id >= 0)?))
                })
                .ok_or_else(|| {
                    ApiError::BadRequest("cursor is not one this API returned".into())
                })?,
        ),
    };
    let found = cx.links()?.find(link).await?.ok_or(ApiError::NotFound)?;
    let rows = if cx.config.visit_retention_days == 0 {
        Vec::new()
    } else {
        cx.analytics(found.stats_key())?
            .recent_visits(found.stats_key(), cursor, limit + 1)
            .await?
    };
    let more = rows.len() > limit as usize;
    let page: Vec<serde_json::Value> = rows
        .iter()
        .take(limit as usize)
        .map(|v| {
            serde_json::json!({
                "at": Timestamp::from_millis(v.at as i64).to_rfc3339(),
                "referrer_host": v.referrer_host,
                "country": v.country,
                "device": v.device,
                "bot": v.is_bot != 0.0,
            })
        })
        .collect();
    let next_cursor = rows
        .get(limit as usize - 1)
        .filter(|_| more)
        .map(|v| format!("{}.{}", v.at as i64, v.id as i64));
    Ok(response::json(
        OK,
        &serde_json::json!({
            "visits": page,
            "next_cursor": next_cursor,
            "retention_days": cx.config.visit_retention_days,
        }),
    )?)
}
