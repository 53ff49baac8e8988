//! Who may do what through the operator API: the bootstrap root (`ADMIN_TOKEN`) and named
//! API keys, each with one role. The rules only; the keys themselves live in D1
//! (`storage::keys`), and the handlers ask [`Actor::access`] before every operation.

use serde_json::{Map, Value};

use super::random::{random_string, RandomUnavailable, ALPHABET};
use super::secret::sha256_hex;
use super::timestamp::Timestamp;

/// What a key may do. `ADMIN_TOKEN` acts as an admin that cannot be revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything: links, statistics, exports, imports, keys and the audit log.
    Admin,
    /// Creates links, and reads, changes and deactivates only the links it created.
    Creator,
    /// Reads every link and its statistics, and exports; changes nothing.
    Reader,
    /// Reads statistics only.
    Stats,
}

/// An operation of the operator API, as the permission matrix names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ListLinks,
    ShowLink,
    CreateLinks,
    ChangeLink,
    LinkStats,
    Export,
    Import,
    ManageKeys,
    ReadAudit,
    /// Who the caller is (`GET /api/me`): every role may ask.
    ReadSelf,
}

/// The answer of the permission matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Refused (403).
    Denied,
    /// Allowed on every link.
    All,
    /// Allowed on the links this key created; others are answered as if missing (404).
    Own,
}

impl Role {
    /// Every role, in the order the API and the CLI list them.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Creator, Role::Reader, Role::Stats];
    pub const ALLOWED: &'static str = "admin, creator, reader or stats";

    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Creator => "creator",
            Role::Reader => "reader",
            Role::Stats => "stats",
        }
    }

    /// The permission matrix (docs/teams.md shows it as a table).
    pub fn access(self, op: Operation) -> Access {
        use Operation::*;
        match (self, op) {
            (Role::Admin, _) | (_, ReadSelf) => Access::All,
            (Role::Creator, CreateLinks) => Access::All,
            (Role::Creator, ListLinks | ShowLink | ChangeLink | LinkStats) => Access::Own,
            (Role::Reader, ListLinks | ShowLink | LinkStats | Export) => Access::All,
            (Role::Stats, LinkStats) => Access::All,
            _ => Access::Denied,
        }
    }
}

/// Who makes an operator request: named in the audit log and in `created_by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The `ADMIN_TOKEN` holder.
    Root,
    /// An API key, by its public id; `domains`: the domains it is limited to (as
    /// stored, '' for the primary), `None` for all.
    Key {
        id: String,
        role: Role,
        domains: Option<Vec<String>>,
    },
}

/// The actor name of the `ADMIN_TOKEN` holder in the audit log and `created_by`.
pub const ROOT: &str = "root";

impl Actor {
    pub fn id(&self) -> &str {
        match self {
            Actor::Root => ROOT,
            Actor::Key { id, .. } => id,
        }
    }

    /// How they signed in. A person Cloudflare Access let in is an `Actor::Key` whose id
    /// is their email (`access_roles`); an API key's id is `key_` and letters, never with
    /// an `@`.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Root => "admin_token",
            Actor::Key { id, .. } if id.contains('@') => "person",
            Actor::Key { .. } => "api_key",
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Actor::Root => Role::Admin,
            Actor::Key { role, .. } => *role,
        }
    }

    pub fn access(&self, op: Operation) -> Access {
        self.role().access(op)
    }

    /// The domains this actor is limited to, if it is.
    pub fn domains(&self) -> Option<&[String]> {
        match self {
            Actor::Key {
                domains: Some(list),
                ..
            } => Some(list),
            _ => None,
        }
    }

    /// Whether this actor may act on links of the domain stored as `domain`.
    pub fn reaches(&self, domain: &str) -> bool {
        self.may_touch(Object::Domain(domain))
    }

    /// Whether this actor may touch `object` (see it, change it, revoke it): the one
    /// answer to the domain limit of a key, asked by every operator route after the
    /// role matrix ([`Role::access`]) let the route through. An actor limited to some
    /// domains may touch only what lies wholly within them: never an unlimited key,
    /// never a record about the whole instance. The SQL filters of listings that
    /// cannot ask this per row say the same (`storage::audit`, `storage::d1`).
    pub fn may_touch(&self, object: Object<'_>) -> bool {
        let Some(own) = self.domains() else {
            return true;
        };
        let mine = |d: &str| own.iter().any(|o| o == d);
        match object {
            Object::Domain(domain) => mine(domain),
            Object::Domains(None) => false,
            Object::Domains(Some(list)) => list.iter().all(|d| mine(d)),
        }
    }
}

/// What an operator request touches, as the domain limits of keys see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object<'a> {
    /// Something on one domain (stored: '' for the primary): a link, a domain's
    /// listing, export or import.
    Domain(&'a str),
    /// Something that reaches these domains (stored), or every domain when `None`: an
    /// API key, an audit record.
    Domains(Option<&'a [String]>),
}

/// Symbols of a key's public id and of its secret part.
const ID_LEN: usize = 12;
const SECRET_LEN: usize = 32;
/// Every API key token starts with this, so a leaked one is easy to recognise and so
/// that `ADMIN_TOKEN` values and keys never look alike.
pub const TOKEN_PREFIX: &str = "sk_";

/// An API key token, `sk_<id>_<secret>`: 32 symbols of 31 are about 158 bits, so a plain
/// SHA-256 is the right hash to store (nothing to stretch against guessing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    pub fn generate() -> Result<ApiToken, RandomUnavailable> {
        Ok(ApiToken(format!(
            "{TOKEN_PREFIX}{}_{}",
            random_string(ID_LEN)?,
            random_string(SECRET_LEN)?
        )))
    }

    /// A presented bearer token with the shape of an issued key, so that junk never
    /// reaches storage.
    pub fn parse(raw: &str) -> Option<ApiToken> {
        let rest = raw.strip_prefix(TOKEN_PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let ok = |s: &str, len| s.len() == len && s.bytes().all(|b| ALPHABET.contains(&b));
        (ok(id, ID_LEN) && ok(secret, SECRET_LEN)).then(|| ApiToken(raw.to_string()))
    }

    /// The public id (`key_…`): shown in lists and the audit log, never secret.
    pub fn id(&self) -> String {
        let id = self
            .0
            .get(TOKEN_PREFIX.len()..TOKEN_PREFIX.len() + ID_LEN)
            .unwrap_or_default();
        format!("key_{id}")
    }

    pub fn hash(&self) -> String {
        sha256_hex(&self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored API key, as listed (never its token or hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub created_by: String,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    /// The domains it is limited to (as stored, '' for the primary); `None`: all.
    pub domains: Option<Vec<String>>,
}

/// Whether a key opens the API now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Active,
    Expired,
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Expired => "expired",
            KeyState::Revoked => "revoked",
        }
    }
}

impl ApiKey {
    /// Revocation and expiry take effect at once: every request reads the key's row.
    pub fn state(&self, now: Timestamp) -> KeyState {
        if self.revoked_at.is_some() {
            KeyState::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            KeyState::Expired
        } else {
            KeyState::Active
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::Key {
            id: self.id.clone(),
            role: self.role,
            domains: self.domains.clone(),
        }
    }
}

/// Longest key name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A valid `POST /api/keys` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: String,
    pub role: Role,
    pub expires_at: Option<Timestamp>,
    /// The domains it is limited to, as the client named them (the handler resolves
    /// them against the instance's domains); `None`: all.
    pub domains: Option<Vec<String>>,
}

/// Most domains one key may be limited to.
pub const MAX_KEY_DOMAINS: usize = 50;

/// Why a key request was refused: a body of the wrong shape (422) or a value that
/// breaks a rule (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRequestError {
    Malformed(String),
    Invalid(String),
}

impl std::fmt::Display for KeyRequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyRequestError::Malformed(why) | KeyRequestError::Invalid(why) => f.write_str(why),
        }
    }
}

const FIELDS: [&str; 4] = ["name", "role", "expires_at", "domains"];

impl NewApiKey {
    pub fn from_json(body: &[u8], now: Timestamp) -> Result<NewApiKey, KeyRequestError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            KeyRequestError::Malformed(format!("request body is not valid JSON: {e}"))
        })?;
        let Value::Object(fields) = value else {
            return Err(KeyRequestError::Malformed(
                "request body must be a JSON object".into(),
            ));
        };
        if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(KeyRequestError::Malformed(format!(
                "unknown field '{unknown}'; accepted: {}",
                FIELDS.join(", ")
            )));
        }
        Ok(NewApiKey {
            name: name(&fields)?,
            role: role(&fields)?,
            expires_at: expires_at(&fields, now)?,
            domains: domains(&fields)?,
        })
    }
}

fn name(fields: &Map<String, Value>) -> Result<String, KeyRequestError> {
    let Some(Value::String(raw)) = fields.get("name") else {
        return Err(KeyRequestError::Malformed("name must be a string".into()));
    };
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(KeyRequestError::Invalid(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters with no control characters"
        )));
    }
    Ok(name.to_string())
}

fn domains(fields: &Map<String, Value>) -> Result<Option<Vec<String>>, KeyRequestError> {
    let malformed = || {
        KeyRequestError::Malformed(format!(
            "domains must be an array of 1 to {MAX_KEY_DOMAINS} domain names, or null for all"
        ))
    };
    match fields.get("domains") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(list)) if (1..=MAX_KEY_DOMAINS).contains(&list.len()) => list
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(malformed))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(malformed()),
    }
}

fn role(fields: &Map<String, Value>) -> Result<Role, KeyRequestError> {
    match fields.get("role") {
        Some(Value::String(raw)) => Role::parse(raw).ok_or_else(|| {
            KeyRequestError::Invalid(format!("role must be {}, got '{raw}'", Role::ALLOWED))
        }),
        _ => Err(KeyRequestError::Malformed(format!(
            "role must be a string: {}",
            Role::ALLOWED
        ))),
    }
}

fn expires_at(
    fields: &Map<String, Value>,
    now: Timestamp,
) -> Result<Option<Timestamp>, KeyRequestError> {
    match fields.get("expires_at") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => {
            let at = Timestamp::parse_rfc3339(raw).map_err(|_| {
                KeyRequestError::Invalid(format!(
                    "expires_at must be an RFC 3339 date-time from {} to {}, such as 2030-01-31T12:00:00Z",
                    Timestamp::MIN.to_rfc3339(),
                    Timestamp::MAX.to_rfc3339()
                ))
            })?;
            if at <= now {
                return Err(KeyRequestError::Invalid(
                    "expires_at must be in the future".into(),
                ));
            }
            Ok(Some(at.truncated_to_second()))
        }
        Some(_) => Err(KeyRequestError::Malformed(
            "expires_at must be an RFC 3339 string or null".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_795_290_489_000);

    #[test]
    fn the_matrix_gives_each_role_exactly_its_operations() {
        use Operation::*;
        let all = [
            ListLinks,
            ShowLink,
            CreateLinks,
            ChangeLink,
            LinkStats,
            Export,
            Import,
            ManageKeys,
            ReadAudit,
            ReadSelf,
        ];
        let allowed = |role: Role| -> Vec<(Operation, Access)> {
            all.iter()
                .map(|&op| (op, role.access(op)))
                .filter(|(_, a)| *a != Access::Denied)
                .collect()
        };
        assert_eq!(allowed(Role::Admin).len(), all.len());
        assert!(allowed(Role::Admin).iter().all(|(_, a)| *a == Access::All));
        assert_eq!(
            allowed(Role::Creator),
            vec![
                (ListLinks, Access::Own),
                (ShowLink, Access::Own),
                (CreateLinks, Access::All),
                (ChangeLink, Access::Own),
                (LinkStats, Access::Own),
                (ReadSelf, Access::All),
            ]
        );
        assert_eq!(
            allowed(Role::Reader),
            vec![
                (ListLinks, Access::All),
                (ShowLink, Access::All),
                (LinkStats, Access::All),
                (Export, Access::All),
                (ReadSelf, Access::All),
            ]
        );
        assert_eq!(
            allowed(Role::Stats),
            vec![(LinkStats, Access::All), (ReadSelf, Access::All)]
        );
        assert_eq!(Actor::Root.access(ManageKeys), Access::All);
    }

    #[test]
    fn an_actor_says_how_it_signed_in() {
        let key = |id: &str| Actor::Key {
            id: id.into(),
            role: Role::Reader,
            domains: None,
        };
        assert_eq!(Actor::Root.kind(), "admin_token");
        assert_eq!(key("key_23456789abcd").kind(), "api_key");
        assert_eq!(key("ops@example.com").kind(), "person");
    }

    #[test]
    fn a_limited_key_touches_only_what_lies_wholly_within_its_domains() {
        let key = |domains: Option<&[&str]>| Actor::Key {
            id: "key_23456789abcd".into(),
            role: Role::Admin,
            domains: domains.map(|l| l.iter().map(|d| d.to_string()).collect()),
        };
        let list = |l: &[&str]| l.iter().map(|d| d.to_string()).collect::<Vec<_>>();
        let (go, go_and_primary, org) = (
            list(&["go.example"]),
            list(&["go.example", ""]),
            list(&["sho.org"]),
        );
        let limited = key(Some(&["go.example", ""]));
        let go_only = key(Some(&["go.example"]));
        // (actor, object, may touch)
        let table: [(&Actor, Object, bool); 16] = [
            // Unlimited actors touch everything, records of the whole instance included.
            (&Actor::Root, Object::Domain("sho.org"), true),
            (&Actor::Root, Object::Domains(None), true),
            (&key(None), Object::Domains(Some(&org)), true),
            (&key(None), Object::Domains(None), true),
            // A limited actor: its own domains, one by one or together.
            (&limited, Object::Domain("go.example"), true),
            (&limited, Object::Domain(""), true),
            (&limited, Object::Domains(Some(&go)), true),
            (&limited, Object::Domains(Some(&go_and_primary)), true),
            // Never another domain, a mix with one, or what reaches every domain.
            (&limited, Object::Domain("sho.org"), false),
            (&limited, Object::Domains(Some(&org)), false),
            (
                &limited,
                Object::Domains(Some(&list(&["go.example", "sho.org"]))),
                false,
            ),
            (&limited, Object::Domains(None), false),
            // A narrower key cannot reach the wider one that made it.
            (&go_only, Object::Domains(Some(&go_and_primary)), false),
            (&go_only, Object::Domain(""), false),
            (&go_only, Object::Domains(Some(&go)), true),
            // An empty list (nothing touched) is within any limit.
            (&go_only, Object::Domains(Some(&[])), true),
        ];
        for (actor, object, expected) in table {
            assert_eq!(actor.may_touch(object), expected, "{actor:?} {object:?}");
            if let Object::Domain(d) = object {
                assert_eq!(actor.reaches(d), expected);
            }
        }
    }

    #[test]
    fn tokens_have_an_id_a_secret_and_a_recognisable_shape() {
        let token = ApiToken::generate().unwrap();
        assert!(token.as_str().starts_with("sk_"));
        assert_eq!(token.as_str().len(), 3 + ID_LEN + 1 + SECRET_LEN);
        assert_eq!(ApiToken::parse(token.as_str()), Some(token.clone()));
        assert!(token.id().starts_with("key_") && token.id().len() == 4 + ID_LEN);
        assert_eq!(token.hash().len(), 64);
        assert_ne!(ApiToken::generate().unwrap(), token);
        let valid = token.as_str();
        for junk in [
            "",
            "sk_",
            "admin-token",
            &valid[..valid.len() - 1],
            &format!("{valid}x"),
            &valid.replace("sk_", "SK_"),
            &valid.to_uppercase(),
        ] {
            assert_eq!(ApiToken::parse(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn key_requests_are_parsed_once_with_clear_errors() {
        let ok = NewApiKey::from_json(
            br#"{"name": "  CI deploys ", "role": "creator", "expires_at": "2030-01-31T11:00:00.500Z"}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(ok.name, "CI deploys");
        assert_eq!(ok.role, Role::Creator);
        assert_eq!(ok.expires_at.unwrap().to_rfc3339(), "2030-01-31T11:00:00Z");
        let bad = |body: &str| NewApiKey::from_json(body.as_bytes(), NOW).unwrap_err();
        assert!(matches!(bad("[]"), KeyRequestError::Malformed(_)));
        assert!(matches!(
            bad(r#"{"role": "admin"}"#),
            KeyRequestError::Malformed(_)
        ));
        assert!(matches!(
            bad(r#"{"name": "a", "role": "owner"}"#),
            KeyRequestError::Invalid(_)
        ));
        assert!(matches!(
            bad(r#"{"name": "", "role": "admin"}"#),
            KeyRequestError::Invalid(_)
        ));
        assert!(matches!(
            bad(r#"{"name": "a\u0000", "role": "admin"}"#),
            KeyRequestError::Invalid(_)
        ));
        let long = format!(
            r#"{{"name": "{}", "role": "admin"}}"#,
            "é".repeat(MAX_NAME_CHARS + 1)
        );
        assert!(matches!(bad(&long), KeyRequestError::Invalid(_)));
        assert!(matches!(
            bad(r#"{"name": "a", "role": "admin", "expires_at": "2001-01-01T00:00:00Z"}"#),
            KeyRequestError::Invalid(_)
        ));
        assert!(matches!(
            bad(r#"{"name": "a", "role": "admin", "scope": 1}"#),
            KeyRequestError::Malformed(_)
        ));
        assert!(matches!(
            bad(r#"{"name": "a", "role": "admin", "e": 1}"#),
            KeyRequestError::Malformed(_)
        ));
        assert!(bad(r#"{"name": "a", "role": "owner"}"#)
            .to_string()
            .contains("admin, creator, reader or stats"));
    }

    #[test]
    fn the_roles_read_back_by_name_and_the_error_lists_them_all() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
        let names = Role::ALL.map(Role::as_str);
        assert_eq!(Role::ALLOWED, crate::request::one_of(&names));
    }
}
