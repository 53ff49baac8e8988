//! From a request's Access token to the operator it names: the settings
//! (`ACCESS_TEAM_DOMAIN`, `ACCESS_AUD`, `ACCESS_ROLES`) read once per isolate, the
//! token's claims checked, its signature verified, the person mapped to a role.

use std::cell::OnceCell;
use std::rc::Rc;

use worker::{Env, Request};

use super::keys;
use crate::config::Config;
use crate::domain::access::Actor;
use crate::domain::access_roles::AccessRoles;
use crate::domain::access_token::{AccessApp, AccessToken};
use crate::domain::timestamp::Timestamp;
use crate::http::error::ApiError;
use crate::log::LogLine;

/// The header Access adds to every request it lets through.
pub const ASSERTION_HEADER: &str = "Cf-Access-Jwt-Assertion";

struct Settings {
    app: AccessApp,
    roles: AccessRoles,
}

thread_local! {
    /// `Ok(None)`: Access sign-in is off. `Err`: it is set up wrongly (the reason).
    static SETTINGS: OnceCell<Rc<Result<Option<Settings>, String>>> = const { OnceCell::new() };
}

/// A setting as a `[vars]` string or a secret (an operator may keep the audience tag
/// secret); empty counts as unset.
fn setting(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.to_string())
        .or_else(|_| env.secret(name).map(|v| v.to_string()))
        .ok()
        .filter(|v| !v.trim().is_empty())
}

fn settings(env: &Env, config: &Config) -> Rc<Result<Option<Settings>, String>> {
    SETTINGS.with(|cell| {
        cell.get_or_init(|| {
            let read = || -> Result<Option<Settings>, String> {
                let Some(app) = AccessApp::parse(
                    setting(env, "ACCESS_TEAM_DOMAIN").as_deref(),
                    setting(env, "ACCESS_AUD").as_deref(),
                )?
                else {
                    return Ok(None);
                };
                let roles =
                    AccessRoles::parse(setting(env, "ACCESS_ROLES").as_deref(), &config.domains)?;
                if roles.is_empty() {
                    LogLine::warn("access.settings")
                        .cause("ACCESS_ROLES names nobody: every person is refused")
                        .emit();
                }
                Ok(Some(Settings { app, roles }))
            };
            let read = read();
            if let Err(e) = &read {
                LogLine::error("access.settings")
                    .cause(format!("Access sign-in refused to everyone: {e}"))
                    .emit();
            }
            Rc::new(read)
        })
        .clone()
    })
}

/// The operator a request's Access token names. `Ok(None)` when Access sign-in is off
/// or the request carries no token (an API key may still authenticate it); a token
/// that fails any check is refused in words (401), a person without a role is 403.
pub async fn sign_in(
    req: &Request,
    env: &Env,
    config: &Config,
    now: Timestamp,
) -> Result<Option<Actor>, ApiError> {
    let Some(raw) = req.headers().get(ASSERTION_HEADER).ok().flatten() else {
        return Ok(None);
    };
    let settings = settings(env, config);
    let settings = match settings.as_ref() {
        Ok(Some(settings)) => settings,
        Ok(None) => return Ok(None),
        Err(e) => {
            return Err(ApiError::AccessRefused(format!(
                "Access sign-in is not set up correctly on this instance ({e})"
            )))
        }
    };
    let refused = |r: crate::domain::access_token::Refusal| ApiError::AccessRefused(r.to_string());
    let token = AccessToken::parse(&raw).map_err(refused)?;
    let person = token
        .check(&settings.app, now.millis() / 1000)
        .map_err(refused)?;
    keys::verify(&settings.app, &token, now.millis())
        .await
        .map_err(refused)?;
    settings
        .roles
        .actor_for(&person)
        .map(Some)
        .ok_or(ApiError::NoRole(person.email))
}
