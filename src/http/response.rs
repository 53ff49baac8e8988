//! Building responses: JSON bodies, redirects, other media, and the headers every
//! response carries.

use std::cell::RefCell;

use serde::Serialize;
use worker::worker_sys::web_sys;
use worker::{Headers, Response, ResponseBuilder};

use crate::domain::link::RedirectStatus;

/// What every handler answers: the runtime's own `Response`. The hot redirect builds
/// one directly (see [`redirect`]); converting between the `worker` crate's type and
/// this one costs calls into JS, so every route answers this type.
pub type Reply = web_sys::Response;

pub const OK: u16 = 200;
pub const CREATED: u16 = 201;
pub const NO_CONTENT: u16 = 204;
/// A settings form of the admin page refused: the page again, with the reason in it.
pub const BAD_REQUEST: u16 = 400;
/// A dead link in `gone` mode (`DEAD_LINK_MODE`); its facts are not an error's.
pub const GONE: u16 = 410;

/// Headers on every response: no MIME sniffing, and no full URL leaked in `Referer`
/// to other origins.
fn common_headers() -> worker::Result<Headers> {
    let headers = Headers::new();
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("Referrer-Policy", "strict-origin-when-cross-origin")?;
    Ok(headers)
}

fn with_body(
    status: u16,
    content_type: &str,
    cache: &str,
    body: Vec<u8>,
) -> worker::Result<Response> {
    let headers = common_headers()?;
    headers.set("Content-Type", content_type)?;
    headers.set("Cache-Control", cache)?;
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(body))
}

/// A JSON response. `no-store` because admin answers carry the secret and every answer
/// reflects state that can change at any time.
pub fn json<T: Serialize>(status: u16, body: &T) -> worker::Result<Reply> {
    json_response(status, body).map(Into::into)
}

/// A JSON response that still takes headers from Rust (an error's `Allow`, say).
pub fn json_response<T: Serialize>(status: u16, body: &T) -> worker::Result<Response> {
    with_body(
        status,
        "application/json",
        "no-store",
        serde_json::to_vec(body)?,
    )
}

/// A response in another API's own media type (`application/problem+json`, XML, plain
/// text): `no-store`, as the JSON answers are.
pub fn typed(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> worker::Result<Reply> {
    with_body(status, content_type, "no-store", body.into()).map(Into::into)
}

/// A static document (OpenAPI, docs page): cacheable for a few minutes.
pub fn document(content_type: &str, body: impl Into<Vec<u8>>) -> worker::Result<Reply> {
    with_body(OK, content_type, "public, max-age=300", body.into()).map(Into::into)
}

/// An HTML page, under [`PAGE_CSP`].
pub fn html(status: u16, body: String) -> worker::Result<Reply> {
    let mut res = with_body(
        status,
        "text/html; charset=utf-8",
        "no-store",
        body.into_bytes(),
    )?;
    res.headers_mut().set("Content-Security-Policy", PAGE_CSP)?;
    Ok(res.into())
}

/// A protected link's password form, under [`PASSWORD_PAGE_CSP`].
pub fn password_page(status: u16, body: String) -> worker::Result<Reply> {
    let res = html(status, body)?;
    res.headers()
        .set("Content-Security-Policy", PASSWORD_PAGE_CSP)?;
    Ok(res)
}

/// The pages' policy, except that the form may lead off this origin: the right password
/// is answered with the redirect to the link's target, and browsers hold every redirect
/// of a form submission to `form-action` (Chromium refused it under `'self'`). The page's
/// one form posts back to the link; nothing else on it is affected.
pub const PASSWORD_PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self' https: http:; \
     base-uri 'none'; frame-ancestors 'none'";

/// The policy of every page: only this service's own stylesheet, script and images,
/// no inline script or style, no framing.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// An SVG image that names nothing outside itself.
pub fn svg(body: String) -> worker::Result<Reply> {
    let mut res = with_body(
        OK,
        "image/svg+xml",
        "public, max-age=3600",
        body.into_bytes(),
    )?;
    res.headers_mut().set(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'",
    )?;
    Ok(res.into())
}

/// A redirect to `location`, built directly as the runtime's `Response`: it is the hot
/// path, and every header set from Rust is a separate call into JS. Temporary redirects
/// are immediately stale in the browser, so an edit or deactivation takes effect on the
/// visitor's next click. Permanent ones may be cached by the browser for
/// `permanent_max_age` seconds (kept short: for that long the browser skips this
/// service, so its clicks go uncounted and a change to the link is not seen). Never
/// cached by shared caches.
pub fn redirect(
    location: &str,
    status: RedirectStatus,
    permanent_max_age: u32,
) -> worker::Result<Reply> {
    let key = (status.code(), permanent_max_age);
    let res = REDIRECT_INITS.with(|inits| {
        let mut inits = inits.borrow_mut();
        let init = match inits.iter().position(|(k, _)| *k == key) {
            Some(i) => inits.get(i),
            None => {
                inits.push((key, redirect_init(status, permanent_max_age)?));
                inits.last()
            }
        };
        let (_, init) = init.ok_or_else(|| worker::Error::RustError("redirect init".into()))?;
        web_sys::Response::new_with_opt_str_and_init(None, init).map_err(worker::Error::from)
    })?;
    res.headers().set("Location", location)?;
    Ok(res)
}

thread_local! {
    /// The status and headers shared by every redirect with the same status, built once
    /// per isolate: `new Response(null, init)` copies the headers, and only `Location`
    /// is set per request. Keyed by status code and permanent max-age.
    static REDIRECT_INITS: RefCell<Vec<((u16, u32), web_sys::ResponseInit)>> =
        const { RefCell::new(Vec::new()) };
}

fn redirect_init(
    status: RedirectStatus,
    permanent_max_age: u32,
) -> worker::Result<web_sys::ResponseInit> {
    let headers = common_headers()?;
    let cache = if status.is_permanent() {
        format!("private, max-age={permanent_max_age}")
    } else {
        "private, max-age=0".to_string()
    };
    headers.set("Cache-Control", &cache)?;
    // Short links are not pages: search engines should not index them unless their
    // owner marks them `crawlable` (then the redirect drops this header, see
    // [`crawlable`]). In the template, so a plain redirect pays nothing for it.
    headers.set("X-Robots-Tag", "noindex")?;
    let init = web_sys::ResponseInit::new();
    init.set_status(status.code());
    init.set_headers(&headers.0);
    Ok(init)
}

/// Lets search engines index a redirect whose link is marked `crawlable`.
pub fn crawlable(res: &Reply) -> worker::Result<()> {
    res.headers().delete("X-Robots-Tag")?;
    Ok(())
}

/// Keeps search engines from indexing (or following from) a page only its owner
/// should see, such as the admin page: its URL is the secret.
pub fn noindex(res: &Reply) -> worker::Result<()> {
    res.headers().set("X-Robots-Tag", "noindex, nofollow")?;
    Ok(())
}

/// Adds a `Set-Cookie` header.
pub fn set_cookie(res: &Reply, cookie: &str) -> worker::Result<()> {
    res.headers().append("Set-Cookie", cookie)?;
    Ok(())
}

/// The answer to a CORS preflight for a path that allows `methods`.
pub fn preflight(methods: &str) -> worker::Result<Reply> {
    let headers = common_headers()?;
    headers.set("Access-Control-Allow-Methods", methods)?;
    headers.set(
        "Access-Control-Allow-Headers",
        // `X-Api-Key`: the key header of the Shlink and Kutt adapters (`crate::compat`).
        &format!("Content-Type, Authorization, X-Api-Key, {BOOKMARK_HEADER}"),
    )?;
    headers.set("Access-Control-Max-Age", "600")?;
    Ok(ResponseBuilder::new()
        .with_status(NO_CONTENT)
        .with_headers(headers)
        .empty()
        .into())
}

/// Lets the browser page at `origin` read this response.
pub fn allow_origin(res: &Reply, origin: &str) -> worker::Result<()> {
    let headers = res.headers();
    headers.set("Access-Control-Allow-Origin", origin)?;
    headers.set("Access-Control-Expose-Headers", BOOKMARK_HEADER)?;
    headers.append("Vary", "Origin")?;
    Ok(())
}

/// The D1 session bookmark of a response, and of the request that asks to read at least
/// what that response saw (docs/api.md, "Consistency").
pub const BOOKMARK_HEADER: &str = "X-D1-Bookmark";

/// Tells the client how to read its own writes: send this bookmark back.
pub fn bookmark(res: &Reply, bookmark: &str) -> worker::Result<()> {
    Ok(res.headers().set(BOOKMARK_HEADER, bookmark)?)
}

/// A streamed JSON Lines response.
pub fn json_lines<S>(stream: S) -> worker::Result<Reply>
where
    S: futures_util::TryStream + 'static,
    S::Ok: Into<Vec<u8>>,
    S::Error: Into<worker::Error>,
{
    let headers = common_headers()?;
    headers.set("Content-Type", "application/x-ndjson")?;
    headers.set("Cache-Control", "no-store")?;
    Ok(Response::from_stream(stream)?.with_headers(headers).into())
}
