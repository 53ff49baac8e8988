//! Creating links, and the endpoints that show and change one: the owner's (found by
//! the hash of the secret) and the operator's (found by key) share these handlers.

use worker::Request;

use super::auth::Operator;
use super::context::Ctx;
use super::operations::{self, Created};
use super::password;
use super::present::{LinkView, Viewer};
use crate::domain::link::{Link, RedirectStatus};
use crate::domain::link_request::{LinkPatch, NewLink};
use crate::domain::secret::SecretKey;
use crate::domain::stats::Window;
use crate::domain::timestamp::Timestamp;
use crate::http::body::{self, MAX_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, BAD_REQUEST, CREATED, OK};
use crate::storage::links::LinkRef;
use crate::web::pages::{self, AdminContext};
use crate::web::settings::{form_patch, in_form_words, Notice, PLAIN_FORMS};

/// The answer to a `reuse` request: public fields only, never the creator's secret,
/// and what the shared link does (which is what this caller asked for; see
/// `operations::create`).
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

/// `POST /url`: validates the body, inserts the row (the unique index on `key` decides
/// collisions) and answers `201` with the secret, which is never shown again. With
/// `"reuse": true`, an existing shared link for the same target that redirects the same
/// way is answered with `200`.
pub async fn create(req: &mut Request, cx: &Ctx) -> Result<Reply, ApiError> {
    // The limiter's answer and the body are awaited together: the limiter is a binding
    // call, and nothing is written before both are in.
    let client = operations::client_ip(req);
    let (limited, body) = futures_util::future::join(
        operations::rate_limit(client, cx),
        body::read_json(req, MAX_BODY_BYTES),
    )
    .await;
    limited?;
    let body = body?;
    let own_hosts = cx.own_hosts();
    let new = NewLink::from_json(&body, &cx.target_policy(&own_hosts), cx.now)?;
    match operations::create(new, None, cx).await? {
        Created::Reused(link) => reused(&link, cx),
        Created::Made { link, secret } => Ok(response::json(
            CREATED,
            &LinkView::new(&link, Some(&secret), &Viewer::of(cx)),
        )?),
    }
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
    let stats = operations::stats(link.stats_key(), &window, cx).await?;
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
        operations::change(&LinkRef::Secret(&hash), &patch, cx).await
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
    let updated = operations::change(link, &patch, cx).await?;
    // An operator's change is audited with the fields it sent (a password only as set
    // or removed); an owner's, through the secret, is not an operator write.
    if let Some(op) = operator {
        let sent = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
        operations::audit_change(op, &updated, sent, cx).await;
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
    let updated = operations::deactivate(link, operator, cx).await?;
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
        &operations::stats(found.stats_key(), &window, cx).await?,
    )?)
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
    let rows = operations::recent_visits(&found, cursor, limit + 1, cx).await?;
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
