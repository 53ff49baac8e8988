//! The safe fetch of a target: `HEAD`, then `GET` with a small `Range` when `HEAD` is
//! refused; redirects followed by hand, each hop held to the full target rules again;
//! one time limit for the whole check; the body never read.

use std::time::Duration;

use futures_util::future::{select, Either};
use worker::worker_sys::web_sys;
use worker::{
    AbortController, AbortSignal, Delay, Fetch, Headers, Request, Response, ResponseBody,
};

use crate::domain::health::{unreachable_in_words, Observation};
use crate::domain::link_request::TargetPolicy;
use crate::domain::target_url::TargetUrl;
use crate::log::LogLine;

/// Outbound requests one check may make, `GET` retries and redirect hops included:
/// at most five hops when every `HEAD` is answered.
pub const MAX_REQUESTS_PER_CHECK: u32 = 6;
/// Asked of servers that refuse `HEAD`: the first KiB at most. The body is cancelled
/// unread either way; the status and headers decide.
const RANGE: &str = "bytes=0-1023";

/// Where the check comes from, told to every target (an honest `User-Agent`).
pub fn user_agent(origin: Option<&str>) -> String {
    let name = env!("CARGO_PKG_NAME");
    let version = env!("CARGO_PKG_VERSION");
    match origin {
        Some(origin) => format!("{name}-link-check/{version} (+{origin}/docs)"),
        None => format!("{name}-link-check/{version} (link health check of a URL shortener)"),
    }
}

/// Checks `target` within `timeout_ms`, and says what was seen.
pub async fn observe(
    target: &str,
    policy: &TargetPolicy<'_>,
    user_agent: &str,
    timeout_ms: u32,
) -> Observation {
    let controller = AbortController::default();
    let walk = Box::pin(walk(target, policy, user_agent, controller.signal()));
    let timer = Delay::from(Duration::from_millis(u64::from(timeout_ms)));
    match select(walk, timer).await {
        Either::Left((seen, _)) => seen,
        Either::Right(_) => {
            // Stops the request in flight, so a target that never answers costs nothing
            // after the limit.
            controller.abort();
            Observation::Timeout
        }
    }
}

/// The target rules a link's target met at creation, applied to `url` again.
fn allowed(url: &str, policy: &TargetPolicy<'_>) -> Result<TargetUrl, String> {
    policy.accept(url).map_err(|e| e.to_string())
}

async fn walk(
    target: &str,
    policy: &TargetPolicy<'_>,
    user_agent: &str,
    signal: AbortSignal,
) -> Observation {
    let mut url = match allowed(target, policy) {
        Ok(url) => url,
        Err(why) => return Observation::RedirectRefused(why),
    };
    let mut visited: Vec<String> = Vec::new();
    let mut requests = 0;
    loop {
        if visited.iter().any(|v| v == url.as_str()) || requests >= MAX_REQUESTS_PER_CHECK {
            return Observation::TooManyRedirects;
        }
        visited.push(url.as_str().to_string());
        requests += 1;
        let mut res = match send(url.as_str(), "HEAD", user_agent, &signal).await {
            Ok(res) => res,
            Err(why) => return Observation::Unreachable(why),
        };
        // Some servers refuse or mishandle HEAD (405, 501, even 404); only a GET's
        // answer may call a link dead.
        if res.status_code() >= 400 && requests < MAX_REQUESTS_PER_CHECK {
            requests += 1;
            discard(&res);
            res = match send(url.as_str(), "GET", user_agent, &signal).await {
                Ok(res) => res,
                Err(why) => return Observation::Unreachable(why),
            };
        }
        discard(&res);
        let status = res.status_code();
        let location = header(&res, "Location");
        match location {
            Some(location) if (300..400).contains(&status) => {
                let next = match url::Url::parse(url.as_str()).and_then(|u| u.join(&location)) {
                    Ok(next) => next,
                    Err(e) => {
                        return Observation::RedirectRefused(format!("invalid Location: {e}"))
                    }
                };
                url = match allowed(next.as_str(), policy) {
                    Ok(next) => next,
                    Err(why) => return Observation::RedirectRefused(why),
                };
            }
            _ => {
                return Observation::Answered {
                    status,
                    bot_wall: header(&res, "cf-mitigated").as_deref() == Some("challenge"),
                }
            }
        }
    }
}

fn header(res: &Response, name: &str) -> Option<String> {
    res.headers().get(name).ok().flatten()
}

/// Cancels the body unread: a huge or endless body costs nothing.
fn discard(res: &Response) {
    if let ResponseBody::Stream(body) = res.body() {
        // The promise only says when the cancel finished; nothing waits for it.
        let _ = body.cancel();
    }
}

/// One request: no redirect followed by the runtime, no cookies or credentials (the
/// Workers runtime keeps no cookie jar and none are set here).
async fn send(
    url: &str,
    method: &str,
    user_agent: &str,
    signal: &AbortSignal,
) -> Result<Response, String> {
    let build = || -> worker::Result<Request> {
        let headers = Headers::new();
        headers.set("User-Agent", user_agent)?;
        headers.set("Accept", "*/*")?;
        if method == "GET" {
            headers.set("Range", RANGE)?;
        }
        outbound(url, method, &headers, None)
    };
    let request = build().map_err(|e| e.to_string())?;
    Fetch::Request(request)
        .send_with_signal(signal)
        .await
        .map_err(|e| {
            // The host only: a target's path or query may carry a token.
            let host = url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            LogLine::info("health.check")
                .message("health check request failed")
                .action(method)
                .host(&host)
                .cause(&e)
                .emit();
            unreachable_in_words(&e.to_string()).to_string()
        })
}

/// An outbound request that the runtime will not follow redirects for. Built on
/// `web_sys` directly: the `worker` crate's `RequestInit` would bring its whole
/// `cf` options encoder into the wasm (measured: most of this module's size).
pub(super) fn outbound(
    url: &str,
    method: &str,
    headers: &Headers,
    body: Option<&str>,
) -> worker::Result<Request> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_headers(headers.as_ref());
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if let Some(body) = body {
        init.set_body(&body.into());
    }
    Ok(web_sys::Request::new_with_str_and_init(url, &init)?.into())
}
