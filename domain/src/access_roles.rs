//! `ACCESS_ROLES`: which role (and which domains) a person signed in through Cloudflare
//! Access gets, by their email or by a group the identity provider names, e.g.
//! `{"ops@example.com": "admin", "group:marketing": {"role": "creator", "domains": ["go.example.com"]}}`.
//! Parsed once per isolate; a person it does not name gets no role.

use serde_json::Value;

use super::access::{Actor, Role};
use super::access_token::Person;
use super::domains::Domains;

/// The prefix that makes an entry name a group rather than an email.
pub const GROUP_PREFIX: &str = "group:";

/// What one entry grants: a role, and the domains it is limited to (as stored: '' for
/// the primary), `None` for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub domains: Option<Vec<String>>,
}

/// The parsed `ACCESS_ROLES`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRoles {
    /// Lower-cased emails.
    people: Vec<(String, Grant)>,
    /// Group names as the identity provider spells them.
    groups: Vec<(String, Grant)>,
}

/// How strong a role is, for a person in several groups: the strongest grant wins.
fn rank(role: Role) -> u8 {
    match role {
        Role::Admin => 3,
        Role::Creator => 2,
        Role::Reader => 1,
        Role::Stats => 0,
    }
}

impl AccessRoles {
    /// Parses `raw` (a JSON object); `domains` resolves each domain name (`default`,
    /// `BASE_URL`'s host or a host of `DOMAINS`) to its stored form.
    pub fn parse(raw: Option<&str>, domains: &Domains) -> Result<AccessRoles, String> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(AccessRoles::default());
        };
        let Ok(Value::Object(entries)) = serde_json::from_str::<Value>(raw) else {
            return Err("ACCESS_ROLES is not valid: it must be a JSON object from an email or 'group:<name>' to a role".into());
        };
        let mut roles = AccessRoles::default();
        for (name, entry) in &entries {
            let grant = grant_of(entry, domains)
                .map_err(|e| format!("ACCESS_ROLES entry '{name}': {e}"))?;
            match name.strip_prefix(GROUP_PREFIX) {
                Some(group) if !group.trim().is_empty() => {
                    roles.groups.push((group.trim().to_string(), grant));
                }
                Some(_) => return Err("ACCESS_ROLES: 'group:' needs a group name".into()),
                None if name.contains('@') => {
                    roles.people.push((name.trim().to_ascii_lowercase(), grant));
                }
                None => {
                    return Err(format!(
                        "ACCESS_ROLES entry '{name}' is neither an email nor 'group:<name>'"
                    ))
                }
            }
        }
        Ok(roles)
    }

    /// Whether any entry exists (an empty mapping lets nobody in).
    pub fn is_empty(&self) -> bool {
        self.people.is_empty() && self.groups.is_empty()
    }

    /// What `person` may do: their email's entry if there is one, else the strongest
    /// of their groups' (equal roles: the union of their domains, unlimited if any is).
    pub fn grant_for(&self, person: &Person) -> Option<Grant> {
        if let Some((_, grant)) = self.people.iter().find(|(email, _)| *email == person.email) {
            return Some(grant.clone());
        }
        let matching: Vec<&Grant> = self
            .groups
            .iter()
            .filter(|(g, _)| person.groups.iter().any(|pg| pg == g))
            .map(|(_, grant)| grant)
            .collect();
        let best = matching.iter().map(|g| rank(g.role)).max()?;
        let top: Vec<&&Grant> = matching.iter().filter(|g| rank(g.role) == best).collect();
        let role = top.first()?.role;
        let domains = if top.iter().any(|g| g.domains.is_none()) {
            None
        } else {
            let mut all: Vec<String> = top
                .iter()
                .flat_map(|g| g.domains.iter().flatten().cloned())
                .collect();
            all.sort();
            all.dedup();
            Some(all)
        };
        Some(Grant { role, domains })
    }

    /// The operator a signed-in person acts as: named by their email in the audit log
    /// and in `created_by` (so a creator sees the links they made), with the grant's
    /// role and domains.
    pub fn actor_for(&self, person: &Person) -> Option<Actor> {
        let grant = self.grant_for(person)?;
        Some(Actor::Key {
            id: person.email.clone(),
            role: grant.role,
            domains: grant.domains,
        })
    }
}

fn grant_of(entry: &Value, domains: &Domains) -> Result<Grant, String> {
    let role_of = |raw: &str| {
        Role::parse(raw).ok_or_else(|| format!("role '{raw}' is not {}", Role::ALLOWED))
    };
    match entry {
        Value::String(role) => Ok(Grant {
            role: role_of(role)?,
            domains: None,
        }),
        Value::Object(o) => {
            if let Some(unknown) = o.keys().find(|k| *k != "role" && *k != "domains") {
                return Err(format!("unknown field '{unknown}' (role, domains)"));
            }
            let role = o
                .get("role")
                .and_then(Value::as_str)
                .ok_or("needs a role")
                .map_err(str::to_string)
                .and_then(role_of)?;
            let domains = match o.get("domains") {
                None | Some(Value::Null) => None,
                Some(Value::Array(list)) if !list.is_empty() => Some(
                    list.iter()
                        .map(|d| {
                            let name = d.as_str().ok_or("domains must be names")?;
                            domains
                                .named(name, None)
                                .map(|d| d.stored().to_string())
                                .map_err(|e| e.to_string())
                        })
                        .collect::<Result<Vec<_>, String>>()?,
                ),
                Some(_) => return Err("domains must be a non-empty list of domain names".into()),
            };
            Ok(Grant { role, domains })
        }
        _ => Err(format!(
            "must be a role ({}) or {{\"role\": ..., \"domains\": [...]}}",
            Role::ALLOWED
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domains() -> Domains {
        Domains::parse(Some(r#"{"go.example.com": {}}"#), Some("sho.rt")).unwrap()
    }

    fn person(email: &str, groups: &[&str]) -> Person {
        Person {
            email: email.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    const EXAMPLE: &str = r#"{
        "Ops@Example.com": "admin",
        "group:marketing": {"role": "creator", "domains": ["go.example.com"]},
        "group:analysts": "reader",
        "group:sales": {"role": "creator", "domains": ["default"]}
    }"#;

    #[test]
    fn an_email_entry_maps_the_person_whatever_the_case() {
        let roles = AccessRoles::parse(Some(EXAMPLE), &domains()).unwrap();
        let actor = roles
            .actor_for(&person("ops@example.com", &["analysts"]))
            .unwrap();
        assert_eq!(
            actor,
            Actor::Key {
                id: "ops@example.com".into(),
                role: Role::Admin,
                domains: None
            }
        );
    }

    #[test]
    fn a_group_entry_maps_its_members_with_its_domain_limits() {
        let roles = AccessRoles::parse(Some(EXAMPLE), &domains()).unwrap();
        let grant = roles
            .grant_for(&person("ann@example.com", &["marketing"]))
            .unwrap();
        assert_eq!(grant.role, Role::Creator);
        assert_eq!(grant.domains, Some(vec!["go.example.com".to_string()]));
    }

    #[test]
    fn the_strongest_group_wins_and_equal_ones_join_their_domains() {
        let roles = AccessRoles::parse(Some(EXAMPLE), &domains()).unwrap();
        // creator (marketing) outranks reader (analysts)
        let g = roles
            .grant_for(&person("a@example.com", &["analysts", "marketing"]))
            .unwrap();
        assert_eq!(g.role, Role::Creator);
        assert_eq!(g.domains, Some(vec!["go.example.com".to_string()]));
        // two creator groups: both domains ('' is the primary)
        let g = roles
            .grant_for(&person("b@example.com", &["sales", "marketing"]))
            .unwrap();
        assert_eq!(g.role, Role::Creator);
        assert_eq!(
            g.domains,
            Some(vec![String::new(), "go.example.com".to_string()])
        );
    }

    #[test]
    fn a_person_named_nowhere_gets_no_role() {
        let roles = AccessRoles::parse(Some(EXAMPLE), &domains()).unwrap();
        assert_eq!(
            roles.grant_for(&person("eve@example.com", &["visitors"])),
            None
        );
        assert_eq!(
            AccessRoles::parse(None, &domains())
                .unwrap()
                .grant_for(&person("ops@example.com", &[])),
            None
        );
    }

    #[test]
    fn a_bad_mapping_is_refused_in_words() {
        for (raw, says) in [
            ("[]", "JSON object"),
            (r#"{"ops@example.com": "owner"}"#, "role 'owner'"),
            (r#"{"ops": "admin"}"#, "neither an email"),
            (r#"{"group:": "admin"}"#, "group name"),
            (
                r#"{"group:x": {"role": "creator", "domains": ["elsewhere.example"]}}"#,
                "not served here",
            ),
            (
                r#"{"group:x": {"role": "creator", "domains": []}}"#,
                "non-empty",
            ),
            (
                r#"{"group:x": {"role": "creator", "domain": ["go.example.com"]}}"#,
                "unknown field",
            ),
            (r#"{"group:x": {}}"#, "needs a role"),
            (r#"{"group:x": 3}"#, "must be a role"),
        ] {
            let err = AccessRoles::parse(Some(raw), &domains()).unwrap_err();
            assert!(err.contains(says), "{raw}: {err}");
        }
    }
}
