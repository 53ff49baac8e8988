//! The one error type of the HTTP boundary: every failed outcome, its status, and its body.

use super::response::{self, Reply};
use super::route::NoRoute;
use crate::domain::access::KeyRequestError;
use crate::domain::link::LinkState;
use crate::domain::link_request::LinkRequestError;
use crate::domain::random::RandomUnavailable;
use crate::domain::stats::InvalidDays;
use crate::log::LogLine;
use crate::storage::error::StorageError;

/// Everything that can go wrong with a request, as the client will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: a well-formed request whose values break a rule (bad target, bad custom key).
    BadRequest(String),
    /// 401: the operator API without the right bearer token.
    Unauthorized,
    /// 401: a Cloudflare Access token that failed verification (the reason, in words).
    AccessRefused(String),
    /// 403: a person signed in through Cloudflare Access whom `ACCESS_ROLES` gives no
    /// role (their email).
    NoRole(String),
    /// 403: a valid API key whose role does not allow this operation.
    Forbidden(&'static str),
    /// 403: an API key limited to other domains than this one (named).
    DomainForbidden(String),
    /// 404: no link has this key or secret, or the path names nothing.
    NotFound,
    /// 404: the operator API (`/api/*`) on an instance without `ADMIN_TOKEN`: there is
    /// nothing here, and the words say why.
    OperatorApiOff,
    /// 405: a known path with a method it does not allow; carries the allowed methods.
    MethodNotAllowed(&'static str),
    /// 409: the custom key is taken.
    KeyTaken(String),
    /// 409: the key is a former key of a renamed link (an alias), which it still
    /// leads to.
    KeyIsAlias(String),
    /// 410: the link exists but no longer redirects (deactivated, expired, exhausted).
    Gone(LinkState),
    /// 413: the body is over the limit (bytes).
    PayloadTooLarge(usize),
    /// 410: the link's target host was blocked by the operator after it was made.
    TargetBlocked,
    /// 429: too many creations from this client; carries `Retry-After` seconds.
    RateLimited(u32),
    /// 401: the link has a password and none (or a wrong one) came with the request.
    PasswordRequired { wrong: bool },
    /// 429: too many password attempts for this link or from this client; carries
    /// `Retry-After` seconds.
    TooManyAttempts(u32),
    /// 429: this link was checked moments ago; carries `Retry-After` seconds.
    CheckTooSoon(u32),
    /// 415: the body is declared as something other than JSON.
    UnsupportedMediaType,
    /// 422: the body is not a JSON object of the expected shape.
    Unprocessable(String),
    /// 503: D1 (or another store that must answer) failed; the context is logged, not shown.
    StorageUnavailable(String),
    /// 503: no free key was found within the retry budget.
    KeySpaceExhausted,
    /// 500: a fault in the service itself; the context is logged, not shown.
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized | ApiError::AccessRefused(_) => 401,
            ApiError::Forbidden(_) | ApiError::DomainForbidden(_) | ApiError::NoRole(_) => 403,
            ApiError::NotFound
            | ApiError::OperatorApiOff
            | ApiError::Gone(LinkState::Scheduled) => 404,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::KeyTaken(_) | ApiError::KeyIsAlias(_) => 409,
            ApiError::Gone(_) | ApiError::TargetBlocked => 410,
            ApiError::RateLimited(_) | ApiError::TooManyAttempts(_) | ApiError::CheckTooSoon(_) => {
                429
            }
            ApiError::PasswordRequired { .. } => 401,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::UnsupportedMediaType => 415,
            ApiError::Unprocessable(_) => 422,
            ApiError::StorageUnavailable(_) | ApiError::KeySpaceExhausted => 503,
            ApiError::Internal(_) => 500,
        }
    }

    /// The message the client sees. Server-side failures show no internals.
    pub fn detail(&self) -> String {
        match self {
            ApiError::BadRequest(why) | ApiError::Unprocessable(why) => why.clone(),
            ApiError::Unauthorized => {
                "A valid 'Authorization: Bearer <token>' header is required".into()
            }
            ApiError::AccessRefused(why) => format!("Cloudflare Access sign-in refused: {why}"),
            ApiError::NoRole(email) => format!(
                "Signed in through Cloudflare Access as {email}, but ACCESS_ROLES gives this person no role here"
            ),
            ApiError::Forbidden(role) => {
                format!("This API key's role ({role}) does not allow this operation")
            }
            ApiError::DomainForbidden(domain) => {
                format!("This API key is not allowed on the domain '{domain}'")
            }
            ApiError::NotFound => "Not found".into(),
            ApiError::OperatorApiOff => "The operator API is off on this instance: it answers once the ADMIN_TOKEN secret is set (see docs/teams.md)".into(),
            ApiError::MethodNotAllowed(allowed) => format!("Method not allowed; use {allowed}"),
            ApiError::KeyTaken(key) => format!("custom_key '{key}' is already taken"),
            ApiError::KeyIsAlias(key) => format!(
                "key '{key}' is the former key of another link on this domain, which it still leads to; choose another key"
            ),
            ApiError::Gone(LinkState::Expired) => "This short link has expired".into(),
            ApiError::Gone(LinkState::Exhausted) => {
                "This short link has reached its click limit".into()
            }
            ApiError::Gone(LinkState::Scheduled) => "This short link is not active yet".into(),
            ApiError::Gone(_) => "This short link has been deactivated".into(),
            ApiError::TargetBlocked => {
                "This short link's target has been blocked by the operator of this service".into()
            }
            ApiError::RateLimited(after) => {
                format!("Too many links created from this address; try again in {after} seconds")
            }
            ApiError::PasswordRequired { wrong: false } => {
                "This link is protected by a password: send it in the X-Link-Password header".into()
            }
            ApiError::PasswordRequired { wrong: true } => "Wrong password".into(),
            ApiError::TooManyAttempts(after) => {
                format!("Too many password attempts; try again in {after} seconds")
            }
            ApiError::CheckTooSoon(after) => {
                format!("This link was checked moments ago; check it again in {after} seconds")
            }
            ApiError::PayloadTooLarge(limit) => {
                format!("Request body is too large; at most {limit} bytes are accepted")
            }
            ApiError::UnsupportedMediaType => {
                "Request body must be JSON (Content-Type: application/json)".into()
            }
            ApiError::StorageUnavailable(_) => {
                "Storage is temporarily unavailable; try again shortly".into()
            }
            ApiError::KeySpaceExhausted => {
                "Could not find a free short key; try again or choose a custom_key".into()
            }
            ApiError::Internal(_) => "Internal error".into(),
        }
    }

    /// Logs a server-side failure with its context; client errors are not logged. The
    /// adapters of other APIs (`crate::compat`), which render errors in their formats,
    /// log through this too.
    pub fn log(&self) {
        match self {
            ApiError::StorageUnavailable(context) | ApiError::Internal(context) => {
                LogLine::error("request")
                    .message("server-side failure")
                    .status(self.status())
                    .cause(format_args!("{}: {context}", self.detail()))
                    .emit();
            }
            ApiError::KeySpaceExhausted => LogLine::error("request")
                .message("key space exhausted")
                .status(self.status())
                .emit(),
            _ => {}
        }
    }

    /// Logs server-side failures with their context (client errors are not logged) and
    /// renders the `{"detail": ...}` response.
    pub fn into_response(self) -> worker::Result<Reply> {
        self.log();
        let mut res = response::json_response(
            self.status(),
            &serde_json::json!({ "detail": self.detail() }),
        )?;
        match self {
            ApiError::MethodNotAllowed(allowed) => res.headers_mut().set("Allow", allowed)?,
            ApiError::Unauthorized => res.headers_mut().set("WWW-Authenticate", "Bearer")?,
            ApiError::RateLimited(after)
            | ApiError::TooManyAttempts(after)
            | ApiError::CheckTooSoon(after) => {
                res.headers_mut().set("Retry-After", &after.to_string())?
            }
            _ => {}
        }
        Ok(res.into())
    }
}

impl From<LinkRequestError> for ApiError {
    fn from(e: LinkRequestError) -> Self {
        if e.is_malformed_body() {
            ApiError::Unprocessable(e.to_string())
        } else {
            ApiError::BadRequest(e.to_string())
        }
    }
}

impl From<KeyRequestError> for ApiError {
    fn from(e: KeyRequestError) -> Self {
        match e {
            KeyRequestError::Malformed(why) => ApiError::Unprocessable(why),
            KeyRequestError::Invalid(why) => ApiError::BadRequest(why),
        }
    }
}

impl From<InvalidDays> for ApiError {
    fn from(e: InvalidDays) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<RandomUnavailable> for ApiError {
    fn from(e: RandomUnavailable) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<NoRoute> for ApiError {
    fn from(e: NoRoute) -> Self {
        match e {
            NoRoute::NotFound => ApiError::NotFound,
            NoRoute::MethodNotAllowed(allowed) => ApiError::MethodNotAllowed(allowed),
        }
    }
}

/// Storage failures are outages to the client; the log gets the operation and cause.
/// A 503 tells the client to send the request again: only when storage could not be
/// reached. A write the database refused would be refused again, so it is a 500.
impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        if e.is_refusal() {
            ApiError::Internal(e.to_string())
        } else {
            ApiError::StorageUnavailable(e.to_string())
        }
    }
}

/// Failures of the runtime's own calls (building a response, reading a URL) are faults.
impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::domain::domains::UnknownDomain> for ApiError {
    fn from(e: crate::domain::domains::UnknownDomain) -> ApiError {
        ApiError::BadRequest(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_has_its_documented_status() {
        let cases = [
            (ApiError::BadRequest("x".into()), 400),
            (ApiError::Unauthorized, 401),
            (ApiError::AccessRefused("expired".into()), 401),
            (ApiError::NoRole("eve@example.com".into()), 403),
            (ApiError::Forbidden("stats"), 403),
            (ApiError::NotFound, 404),
            (ApiError::MethodNotAllowed("GET"), 405),
            (ApiError::KeyTaken("abc".into()), 409),
            (ApiError::KeyIsAlias("abc".into()), 409),
            (ApiError::OperatorApiOff, 404),
            (ApiError::Gone(LinkState::Deactivated), 410),
            (ApiError::Gone(LinkState::Expired), 410),
            (ApiError::PayloadTooLarge(8192), 413),
            (ApiError::UnsupportedMediaType, 415),
            (ApiError::TargetBlocked, 410),
            (ApiError::RateLimited(60), 429),
            (ApiError::PasswordRequired { wrong: true }, 401),
            (ApiError::TooManyAttempts(60), 429),
            (ApiError::CheckTooSoon(60), 429),
            (ApiError::Unprocessable("x".into()), 422),
            (ApiError::StorageUnavailable("x".into()), 503),
            (ApiError::KeySpaceExhausted, 503),
            (ApiError::Internal("x".into()), 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.status(), status, "{err:?}");
        }
    }

    /// One of every outcome. The match below does not compile when a variant is added
    /// without a case here, so the table of docs/api.md is checked against all of them.
    fn every_outcome() -> Vec<ApiError> {
        let all = vec![
            ApiError::BadRequest("x".into()),
            ApiError::Unauthorized,
            ApiError::AccessRefused("expired".into()),
            ApiError::NoRole("eve@example.com".into()),
            ApiError::OperatorApiOff,
            ApiError::KeyIsAlias("abc".into()),
            ApiError::Forbidden("stats"),
            ApiError::DomainForbidden("go.example".into()),
            ApiError::NotFound,
            ApiError::MethodNotAllowed("GET"),
            ApiError::KeyTaken("abc".into()),
            ApiError::Gone(LinkState::Deactivated),
            ApiError::Gone(LinkState::Scheduled),
            ApiError::PayloadTooLarge(8192),
            ApiError::TargetBlocked,
            ApiError::RateLimited(60),
            ApiError::PasswordRequired { wrong: false },
            ApiError::TooManyAttempts(60),
            ApiError::CheckTooSoon(60),
            ApiError::UnsupportedMediaType,
            ApiError::Unprocessable("x".into()),
            ApiError::StorageUnavailable("x".into()),
            ApiError::KeySpaceExhausted,
            ApiError::Internal("x".into()),
        ];
        for e in &all {
            match e {
                ApiError::BadRequest(_)
                | ApiError::Unauthorized
                | ApiError::AccessRefused(_)
                | ApiError::NoRole(_)
                | ApiError::OperatorApiOff
                | ApiError::KeyIsAlias(_)
                | ApiError::Forbidden(_)
                | ApiError::DomainForbidden(_)
                | ApiError::NotFound
                | ApiError::MethodNotAllowed(_)
                | ApiError::KeyTaken(_)
                | ApiError::Gone(_)
                | ApiError::PayloadTooLarge(_)
                | ApiError::TargetBlocked
                | ApiError::RateLimited(_)
                | ApiError::PasswordRequired { .. }
                | ApiError::TooManyAttempts(_)
                | ApiError::CheckTooSoon(_)
                | ApiError::UnsupportedMediaType
                | ApiError::Unprocessable(_)
                | ApiError::StorageUnavailable(_)
                | ApiError::KeySpaceExhausted
                | ApiError::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn the_error_table_of_the_api_reference_lists_every_status_and_no_other() {
        let doc = include_str!("../../docs/api.md");
        let table = doc
            .split("\n## Errors\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap_or_default();
        let mut documented: Vec<u16> = table
            .lines()
            .filter_map(|line| line.strip_prefix("| "))
            .filter_map(|cell| cell.split(" |").next())
            .filter_map(|status| status.parse().ok())
            .collect();
        let mut returned: Vec<u16> = every_outcome().iter().map(ApiError::status).collect();
        for list in [&mut documented, &mut returned] {
            list.sort_unstable();
            list.dedup();
        }
        assert_eq!(
            documented, returned,
            "docs/api.md#errors against ApiError::status"
        );
        // The body limits it names are the ones enforced.
        use crate::http::body::{MAX_BODY_BYTES, MAX_BULK_BODY_BYTES, MAX_IMPORT_BODY_BYTES};
        let limits = format!(
            "| 413 | the body is over {} KiB ({} KiB for bulk, {} MiB for import) |",
            MAX_BODY_BYTES / 1024,
            MAX_BULK_BODY_BYTES / 1024,
            MAX_IMPORT_BODY_BYTES / (1024 * 1024)
        );
        assert!(
            table.contains(&limits),
            "docs/api.md#errors should say: {limits}"
        );
    }

    #[test]
    fn server_side_details_hide_their_context() {
        let err = ApiError::StorageUnavailable("D1_ERROR: secret_hash=abcd".into());
        assert!(!err.detail().contains("abcd"));
        assert!(!ApiError::Internal("boom".into()).detail().contains("boom"));
    }

    #[test]
    fn body_shape_errors_are_422_and_rule_errors_are_400() {
        let malformed = LinkRequestError::NotAnObject;
        assert_eq!(ApiError::from(malformed).status(), 422);
        let rule = LinkRequestError::Target(crate::domain::target_url::TargetUrlError::Credentials);
        assert_eq!(ApiError::from(rule).status(), 400);
    }
}
