//! Who may call the operator API, and what they may do there: the `ADMIN_TOKEN` holder
//! (root, an admin), named API keys with a role (`domain::access` holds the matrix), and
//! people signed in through Cloudflare Access (`crate::signin`). The operator let in is
//! an [`Operator`], handed to the operator handlers as a parameter.

use worker::Request;

use super::context::Ctx;
use crate::domain::access::{Access, Actor, ApiToken, KeyState, Object, Operation};
use crate::domain::address::{Domain, LinkName};
use crate::domain::key::Key;
use crate::domain::token::{bearer_token, token_matches};
use crate::http::error::ApiError;
use crate::http::route::{is_operator_path, Route};
use crate::log::LogLine;
use crate::signin;
use crate::storage::audit::AuditStore;
use crate::storage::database::Database;
use crate::storage::keys::KeyStore;
use crate::storage::links::LinkRef;

/// The operator API exists only when `ADMIN_TOKEN` is set (everything under `/api` is a
/// 404 otherwise, which says so in words), and then only for requests with a bearer
/// token: `ADMIN_TOKEN` itself,
/// or an API key that is neither revoked nor expired. The key's row is read on every
/// request (at the primary), so a revocation or expiry takes effect at once. A request
/// without a bearer token may instead carry a Cloudflare Access token (`crate::signin`).
pub async fn authenticate(path: &str, req: &Request, cx: &Ctx) -> Result<Option<Actor>, ApiError> {
    if !is_operator_path(path) {
        return Ok(None);
    }
    let header = req
        .headers()
        .get("Authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    // A program's API key comes first; without one, a person's Access token, if any.
    if header.is_empty() {
        if let Some(person) = signin::sign_in(req, &cx.env, &cx.config, cx.now).await? {
            return Ok(Some(person));
        }
    }
    let token = match cx.config.admin_token {
        None => return Err(ApiError::OperatorApiOff),
        Some(_) => bearer_token(&header).ok_or(ApiError::Unauthorized)?,
    };
    actor_of(token, cx).await.map(Some)
}

/// Who a token names: `ADMIN_TOKEN` itself, or an API key that is neither revoked nor
/// expired (its row read at the primary, and its last use recorded after the answer).
/// The operator API reads the token from its bearer header; the adapters of other
/// shorteners' APIs from theirs (`crate::compat`).
pub async fn actor_of(token: &str, cx: &Ctx) -> Result<Actor, ApiError> {
    let root = cx
        .config
        .admin_token
        .as_deref()
        .ok_or(ApiError::OperatorApiOff)?;
    if token_matches(token, root) {
        return Ok(Actor::Root);
    }
    let token = ApiToken::parse(token).ok_or(ApiError::Unauthorized)?;
    let keys = KeyStore::on(Database::from_env(&cx.env)?);
    match keys.by_token(&token).await? {
        Some(key) if key.state(cx.now) == KeyState::Active => {
            let (id, now) = (key.id.clone(), cx.now);
            cx.ctx.wait_until(async move {
                if let Err(e) = keys.touch(&id, now).await {
                    LogLine::error("keys.touch")
                        .message("last_used_at of an API key not recorded")
                        .actor(&id)
                        .cause(e)
                        .emit();
                }
            });
            Ok(key.actor())
        }
        _ => Err(ApiError::Unauthorized),
    }
}

/// Every actor a token can name now: the `ADMIN_TOKEN` holder, then each API key
/// that is neither revoked nor expired. The YOURLS adapter checks a signature derived
/// from a key's id against each of them (`crate::compat`).
pub async fn actors(cx: &Ctx) -> Result<Vec<Actor>, ApiError> {
    let keys = KeyStore::on(Database::from_env(&cx.env)?).list().await?;
    let mut all = vec![Actor::Root];
    all.extend(
        keys.iter()
            .filter(|k| k.state(cx.now) == KeyState::Active)
            .map(|k| k.actor()),
    );
    Ok(all)
}

/// The operation an operator route performs, as the permission matrix names it.
fn operation(route: &Route) -> Option<Operation> {
    Some(match route {
        Route::ApiList | Route::ApiDomains => Operation::ListLinks,
        Route::ApiShow { .. } => Operation::ShowLink,
        Route::ApiBulk => Operation::CreateLinks,
        // A check records the target's health: a change of the link's state.
        Route::ApiPatch { .. } | Route::ApiDelete { .. } | Route::ApiCheck { .. } => {
            Operation::ChangeLink
        }
        Route::ApiStats { .. } => Operation::LinkStats,
        // Totals over every link: what an export shows, not one creator's share.
        Route::ApiExport | Route::ApiTags => Operation::Export,
        Route::ApiImport => Operation::Import,
        Route::KeysList | Route::KeysCreate | Route::KeyShow { .. } | Route::KeyRevoke { .. } => {
            Operation::ManageKeys
        }
        Route::AuditList | Route::AuditExport => Operation::ReadAudit,
        Route::ApiMe => Operation::ReadSelf,
        _ => return None,
    })
}

/// Lets an authenticated operator through to `route` if their role allows it (403
/// otherwise, by [`admit`]). `None` for a request that is not an operator's.
pub fn permit(route: &Route, actor: Option<Actor>) -> Result<Option<Operator>, ApiError> {
    let Some(actor) = actor else { return Ok(None) };
    let Some(op) = operation(route) else {
        // Every operator route is in `operation`; one that is not is refused, not opened.
        return Err(ApiError::Forbidden(actor.role().as_str()));
    };
    admit(actor, op).map(Some)
}

/// Lets `actor` perform `op` if their role allows it (403 otherwise): the
/// [`Operator`] an operator handler, or an adapter of another API, is given.
pub fn admit(actor: Actor, op: Operation) -> Result<Operator, ApiError> {
    match actor.access(op) {
        Access::Denied => Err(ApiError::Forbidden(actor.role().as_str())),
        access => Ok(Operator { actor, access }),
    }
}

/// An operator let in to the operator API: who they are, and on which links the route
/// lets them act. Made only by [`admit`], so a handler that takes one is reached only
/// by an operator its route admits.
pub struct Operator {
    actor: Actor,
    access: Access,
}

impl Operator {
    /// Who they are.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The id recorded as a link's creator and in the audit log (`root` or a key id).
    pub fn id(&self) -> &str {
        self.actor.id()
    }

    /// The domains their key is limited to (as stored), if it is.
    pub fn domains(&self) -> Option<&[String]> {
        self.actor.domains()
    }

    /// Whether they may manage what reaches `domains` (stored; `None`: every domain): an
    /// API key, an audit record ([`Object::Domains`]).
    pub fn may_manage(&self, domains: Option<&[String]>) -> bool {
        self.actor.may_touch(Object::Domains(domains))
    }

    /// Refuses a domain their key is not limited to (403).
    pub fn may_reach(&self, domain: &Domain, cx: &Ctx) -> Result<(), ApiError> {
        if self.actor.reaches(domain.stored()) {
            Ok(())
        } else {
            Err(ApiError::DomainForbidden(
                cx.config.domains.name_of(domain).to_string(),
            ))
        }
    }

    /// The domain they name (a body field or `?domain=`), or the request's, held to
    /// their key's domains.
    pub fn chosen_domain(&self, named: Option<&str>, cx: &Ctx) -> Result<Domain, ApiError> {
        let domain = cx.chosen_domain(named)?;
        self.may_reach(&domain, cx)?;
        Ok(domain)
    }

    /// The link an operator route names: `key` on `?domain=` (default: the request's
    /// domain).
    pub fn name(&self, key: Key, cx: &Ctx) -> Result<LinkName, ApiError> {
        let domain = self.chosen_domain(cx.query_param("domain").as_deref(), cx)?;
        Ok(LinkName::new(domain, key))
    }

    /// How they name the link `name`: a creator key finds only the links it created
    /// (another's is answered as missing).
    pub fn link<'a>(&'a self, name: &'a LinkName) -> LinkRef<'a> {
        match self.access {
            Access::Own => LinkRef::Owned {
                name,
                by: self.actor.id(),
            },
            _ => LinkRef::Name(name),
        }
    }

    /// The creator a listing is limited to: a creator key's own links.
    pub fn scope(&self) -> Option<&str> {
        match self.access {
            Access::Own => Some(self.actor.id()),
            _ => None,
        }
    }

    /// Writes the audit record of their write that succeeded, about `domains` (stored;
    /// `None`: the whole instance, which only unlimited admins read). A failure here is
    /// logged with the record, not shown: the write itself stands.
    pub async fn audit(
        &self,
        cx: &Ctx,
        action: &str,
        target: Option<&str>,
        domains: Option<&[String]>,
        detail: serde_json::Value,
    ) {
        let written = match cx.database() {
            Ok(db) => {
                AuditStore::on(db)
                    .record(&self.actor, action, target, &detail, domains, cx.now)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            // The record's detail is left out: it can hold a target URL.
            LogLine::error("audit.write")
                .message("audit record lost")
                .actor(self.actor.id())
                .action(action)
                .target(target)
                .cause(e)
                .emit();
        }
    }
}
