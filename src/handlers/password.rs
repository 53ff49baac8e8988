//! Link passwords at the HTTP boundary, shared by the handlers that set one (create,
//! `PATCH`, bulk) and the redirect that asks for it: hashing, and letting a visitor
//! through (a remember cookie, `X-Link-Password`, or the form's POST).

use worker::Request;

use super::context::Ctx;
use crate::config::PASSWORD_WINDOW_SECONDS;
use crate::domain::address::LinkName;
use crate::domain::controls::ControlsChange;
use crate::domain::key::Key;
use crate::domain::link_request::{Change, NewLink};
use crate::domain::outcome::Password;
use crate::domain::password::{
    cookie_is_valid, remember_cookie, PasswordHash, PBKDF2_ITERATIONS, SALT_BYTES,
};
use crate::domain::random::RandomUnavailable;
use crate::http::error::ApiError;
use crate::log::LogLine;
use crate::storage::attempts::Attempts;
use crate::webcrypto;

/// The stored form of a new password: a fresh salt, PBKDF2 in the runtime's WebCrypto.
pub async fn hash(plain: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(|_| ApiError::from(RandomUnavailable))?;
    let hash = webcrypto::pbkdf2_sha256(plain.as_bytes(), &salt, PBKDF2_ITERATIONS)
        .await
        .map_err(|e| ApiError::Internal(format!("PBKDF2: {e}")))?;
    Ok(PasswordHash {
        iterations: PBKDF2_ITERATIONS,
        salt: salt.to_vec(),
        hash,
    }
    .encode())
}

/// Hashes the password a new link asks for into its controls.
pub async fn hash_new(new: &mut NewLink) -> Result<(), ApiError> {
    if let Some(plain) = new.password.take() {
        new.controls.routing.password_hash = Some(hash(&plain).await?);
    }
    Ok(())
}

/// Replaces the password a change sets (in clear) by its hash, the only form stored.
pub async fn hash_change(change: &mut ControlsChange) -> Result<(), ApiError> {
    match std::mem::take(&mut change.password) {
        Change::Set(plain) => change.password_hash = Change::Set(hash(&plain).await?),
        Change::Clear => change.password_hash = Change::Clear,
        Change::Keep => {}
    }
    Ok(())
}

/// The cookie that remembers a right password for link `key` (path-scoped to it).
fn cookie_name(key: &Key) -> String {
    format!("pw_{}", key.as_str().replace('-', "_"))
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie(req: &Request, name: &str) -> Option<String> {
    let cookies = req.headers().get("Cookie").ok().flatten()?;
    cookies.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.trim().to_string())
    })
}

/// What the password this request brings to link `link`, protected by `stored` (its
/// stored hash), comes to: a valid remember cookie, the right password (`offered`, with
/// the cookie that remembers it), a wrong one, none, or too many attempts. A `prefetch`
/// (a link preview, a mail scanner) never passes and spends no attempt. Every password
/// tried spends one attempt of the client and one of the link before it is checked, in
/// D1, so concurrent guesses cannot pass the limits; a right one gives them back. Only
/// a failure of the service itself is an error.
pub async fn verdict(
    link: &LinkName,
    stored: &str,
    offered: Option<String>,
    prefetch: bool,
    req: &Request,
    cx: &Ctx,
) -> Result<Password, ApiError> {
    let key = &link.key;
    // Signed and counted under the qualified name: a cookie or an attempt of
    // `go.example.com/abc` is not one of `abc` on the primary domain.
    let qualified = link.qualified();
    let secret = &cx.config.cookie_secret;
    let now_secs = cx.now.millis().div_euclid(1000);
    let name = cookie_name(key);
    if cookie(req, &name)
        .is_some_and(|value| cookie_is_valid(secret, &qualified, stored, &value, now_secs))
    {
        return Ok(Password::Remembered);
    }
    let Some(offered) = offered.filter(|_| !prefetch) else {
        return Ok(Password::Absent);
    };
    let hash = PasswordHash::parse(stored)
        .ok_or_else(|| ApiError::Internal(format!("stored password of key {key} unreadable")))?;
    let slot = now_secs.div_euclid(PASSWORD_WINDOW_SECONDS);
    let client = req
        .headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into());
    let client_scope = format!("c:{}", client.chars().take(64).collect::<String>());
    let link_scope = format!("l:{qualified}");
    let attempts = Attempts::on(cx.primary()?);
    let granted = attempts
        .take(
            &[
                (&client_scope, cx.config.password_attempts_per_client),
                (&link_scope, cx.config.password_attempts_per_link),
            ],
            slot,
        )
        .await?;
    if !granted {
        let retry = (slot + 1) * PASSWORD_WINDOW_SECONDS - now_secs;
        return Ok(Password::Throttled(u32::try_from(retry).unwrap_or(1)));
    }
    let derived = webcrypto::pbkdf2_sha256(offered.as_bytes(), &hash.salt, hash.iterations)
        .await
        .map_err(|e| ApiError::Internal(format!("PBKDF2: {e}")))?;
    if !hash.matches(&derived) {
        return Ok(Password::Wrong);
    }
    if let Err(e) = attempts
        .give_back(&[&client_scope, &link_scope], slot)
        .await
    {
        LogLine::error("password.attempts")
            .message("giving back password attempts failed")
            .key(key.as_str())
            .cause(e)
            .emit();
    }
    let seconds = cx.config.password_remember_seconds;
    let value = remember_cookie(secret, &qualified, stored, now_secs + i64::from(seconds));
    // HttpOnly and Secure: only this service reads it, never in clear; scoped to the
    // link's path, so one link's cookie opens no other.
    Ok(Password::Accepted(format!(
        "{name}={value}; Max-Age={seconds}; Path=/{key}; HttpOnly; Secure; SameSite=Lax"
    )))
}
