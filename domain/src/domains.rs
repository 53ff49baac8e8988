//! The domains an instance serves (`DOMAINS`) and where each sends visitors who reach
//! no live link. Domains are declared next to the routes in `wrangler.toml`, since a
//! host reaches the worker only through a route or custom domain declared there; so
//! they change with a deploy and cost the redirect path no lookup.

use serde_json::Value;

use super::address::{parse_host, Domain};

/// The name the primary domain always answers to in the API, with or without
/// `BASE_URL` (Shlink calls it `DEFAULT` too).
pub const DEFAULT_NAME: &str = "default";

/// Where a domain sends visitors who reach no live link; `None` serves the built-in
/// page. Each is an absolute http(s) URL, redirected to with a 302.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fallbacks {
    /// The domain's root, `/`.
    pub root: Option<String>,
    /// A key no link has on this domain, and any other path nothing serves.
    pub not_found: Option<String>,
    /// A link that is deactivated, expired, out of clicks or not yet valid (a link's
    /// own `fallback_url` comes first for the expired and exhausted).
    pub inactive: Option<String>,
}

/// The instance's domains: the primary and the listed ones, with their fallbacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Domains {
    /// `BASE_URL`'s host, if set: the primary's name in the API.
    primary_host: Option<String>,
    primary: Fallbacks,
    /// Listed hosts, in the order of their names (serde_json's map is sorted): a
    /// handful, so a scan beats a map's code in the wasm.
    named: Vec<(String, Fallbacks)>,
}

/// A domain name the instance does not serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDomain(pub String);

impl std::fmt::Display for UnknownDomain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "domain '{}' is not served here: use '{DEFAULT_NAME}' or a host listed in DOMAINS",
            self.0
        )
    }
}

impl Domains {
    /// Parses `DOMAINS`: a JSON object from host name to its fallbacks, e.g.
    /// `{"go.example.com": {"root": "https://example.com/"}, "default": {...}}`.
    /// The key `default` (or `BASE_URL`'s host) sets the primary domain's fallbacks.
    pub fn parse(raw: Option<&str>, primary_host: Option<&str>) -> Result<Domains, String> {
        let primary_host = primary_host.map(str::to_ascii_lowercase);
        let mut domains = Domains {
            primary_host: primary_host.clone(),
            ..Domains::default()
        };
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(domains);
        };
        // Read through `Value`, which the wasm has anyway, rather than a derived
        // deserializer of its own.
        let Ok(Value::Object(listed)) = serde_json::from_str::<Value>(raw) else {
            return Err(
                "DOMAINS is not valid: it must be a JSON object from host name to fallbacks".into(),
            );
        };
        for (name, entry) in &listed {
            let fallbacks =
                fallbacks_of(entry).map_err(|e| format!("DOMAINS entry '{name}': {e}"))?;
            if name.eq_ignore_ascii_case(DEFAULT_NAME) {
                domains.primary = fallbacks;
                continue;
            }
            let host = parse_host(name).map_err(|e| format!("DOMAINS: {e}"))?;
            if Some(&host) == primary_host.as_ref() {
                domains.primary = fallbacks;
            } else if !domains.named.iter().any(|(h, _)| *h == host) {
                domains.named.push((host, fallbacks));
            }
        }
        Ok(domains)
    }

    fn listed(&self, host: &str) -> Option<&Fallbacks> {
        self.named.iter().find(|(h, _)| h == host).map(|(_, f)| f)
    }

    /// The domain a request to `hostname` (no port) is on: a listed host is its own
    /// domain; every other host (`BASE_URL`'s, `*.workers.dev`, localhost) is the
    /// primary, as before domains existed.
    pub fn of_host(&self, hostname: &str) -> Domain {
        // Compared in place: a request to an unlisted host allocates nothing.
        let host = hostname.trim_end_matches('.');
        self.named
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
            .map_or_else(Domain::primary, |(h, _)| Domain::named(h.clone()))
    }

    /// Whether any host besides the primary's is listed: without one, every request is
    /// on the primary domain and its host need not be read.
    pub fn lists_any(&self) -> bool {
        !self.named.is_empty()
    }

    /// The domain a client names in a body or a query: `default`, `BASE_URL`'s host
    /// or a listed host; `request` (the request's own domain) also answers to the
    /// host the request came in on.
    pub fn named(&self, name: &str, request_host: Option<&str>) -> Result<Domain, UnknownDomain> {
        let unknown = || UnknownDomain(name.chars().take(MAX_SHOWN).collect());
        if name.eq_ignore_ascii_case(DEFAULT_NAME) {
            return Ok(Domain::primary());
        }
        let host = parse_host(name).map_err(|_| unknown())?;
        if self.listed(&host).is_some() {
            return Ok(Domain::named(host));
        }
        let is_request_host = request_host.is_some_and(|h| h.eq_ignore_ascii_case(&host));
        if Some(&host) == self.primary_host.as_ref() || is_request_host {
            return Ok(self.of_host(&host));
        }
        Err(unknown())
    }

    /// How the API names `domain`: its host; the primary by `BASE_URL`'s host, or
    /// `default` without one.
    pub fn name_of<'a>(&'a self, domain: &'a Domain) -> &'a str {
        domain
            .host()
            .or(self.primary_host.as_deref())
            .unwrap_or(DEFAULT_NAME)
    }

    /// Where `domain` sends visitors who reach no live link.
    pub fn fallbacks(&self, domain: &Domain) -> &Fallbacks {
        match domain.host() {
            None => &self.primary,
            Some(host) => self.listed(host).unwrap_or(&self.primary),
        }
    }

    /// The listed hosts (not the primary's).
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.named.iter().map(|(h, _)| h.as_str())
    }

    /// Every domain: the primary first, then the listed hosts in order.
    pub fn all(&self) -> Vec<Domain> {
        std::iter::once(Domain::primary())
            .chain(self.named.iter().map(|(h, _)| Domain::named(h.clone())))
            .collect()
    }

    /// Whether `domain` is one this instance serves (a stored link's, say, after its
    /// host was taken out of `DOMAINS`, may not be).
    pub fn serves(&self, domain: &Domain) -> bool {
        domain.host().is_none_or(|h| self.listed(h).is_some())
    }
}

/// Longest unknown domain name echoed back in an error.
const MAX_SHOWN: usize = 100;

const FALLBACK_FIELDS: [&str; 3] = ["root", "not_found", "inactive"];

/// One entry's fallbacks: an object with any of [`FALLBACK_FIELDS`], each an absolute
/// http(s) URL or null.
fn fallbacks_of(entry: &Value) -> Result<Fallbacks, String> {
    let Value::Object(fields) = entry else {
        return Err("must be an object of fallbacks".into());
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !FALLBACK_FIELDS.contains(&k.as_str()))
    {
        return Err(format!(
            "unknown field '{unknown}'; accepted: {}",
            FALLBACK_FIELDS.join(", ")
        ));
    }
    let url = |name: &str| match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => check_url(raw).map(|()| Some(raw.clone())),
        Some(_) => Err(format!("{name} must be a URL string or null")),
    };
    Ok(Fallbacks {
        root: url("root")?,
        not_found: url("not_found")?,
        inactive: url("inactive")?,
    })
}

fn check_url(raw: &str) -> Result<(), String> {
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(format!("'{raw}' is not an absolute http(s) URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTED: &str = r#"{
        "Go.Example.com": {"root": "https://example.com/", "not_found": "https://example.com/404"},
        "links.example.org": {},
        "default": {"inactive": "https://example.com/gone"}
    }"#;

    #[test]
    fn listed_hosts_are_their_own_domains_and_every_other_host_is_the_primary() {
        let d = Domains::parse(Some(LISTED), Some("sho.rt")).unwrap();
        assert_eq!(
            d.of_host("go.example.com"),
            Domain::named("go.example.com".into())
        );
        assert_eq!(
            d.of_host("GO.EXAMPLE.COM."),
            Domain::named("go.example.com".into())
        );
        assert_eq!(d.of_host("sho.rt"), Domain::primary());
        assert_eq!(d.of_host("shortener.acme.workers.dev"), Domain::primary());
        assert_eq!(d.of_host("localhost"), Domain::primary());
        assert_eq!(d.all().len(), 3);
    }

    #[test]
    fn each_domain_has_its_own_fallbacks_and_default_sets_the_primarys() {
        let d = Domains::parse(Some(LISTED), Some("sho.rt")).unwrap();
        let go = d.fallbacks(&Domain::named("go.example.com".into()));
        assert_eq!(go.root.as_deref(), Some("https://example.com/"));
        assert_eq!(go.not_found.as_deref(), Some("https://example.com/404"));
        assert_eq!(go.inactive, None);
        let primary = d.fallbacks(&Domain::primary());
        assert_eq!(
            primary.inactive.as_deref(),
            Some("https://example.com/gone")
        );
        assert_eq!(primary.root, None);
        // BASE_URL's host sets the primary's fallbacks too.
        let by_host = Domains::parse(
            Some(r#"{"sho.rt": {"root": "https://a.example/"}}"#),
            Some("sho.rt"),
        )
        .unwrap();
        assert_eq!(
            by_host.fallbacks(&Domain::primary()).root.as_deref(),
            Some("https://a.example/")
        );
        assert_eq!(by_host.all(), vec![Domain::primary()]);
    }

    #[test]
    fn clients_name_domains_by_host_or_default() {
        let d = Domains::parse(Some(LISTED), Some("sho.rt")).unwrap();
        assert_eq!(d.named("default", None), Ok(Domain::primary()));
        assert_eq!(d.named("DEFAULT", None), Ok(Domain::primary()));
        assert_eq!(d.named("sho.rt", None), Ok(Domain::primary()));
        assert_eq!(
            d.named("Links.Example.org", None),
            Ok(Domain::named("links.example.org".into()))
        );
        assert!(d.named("evil.example", None).is_err());
        assert!(d.named("not a host", None).is_err());
        // The host a request came in on names the primary even without BASE_URL.
        let bare = Domains::parse(None, None).unwrap();
        assert_eq!(
            bare.named("localhost", Some("localhost")),
            Ok(Domain::primary())
        );
        assert!(bare.named("other.example", Some("localhost")).is_err());
        assert_eq!(bare.name_of(&Domain::primary()), "default");
        assert_eq!(d.name_of(&Domain::primary()), "sho.rt");
        let go = Domain::named("go.example.com".into());
        assert_eq!(d.name_of(&go), "go.example.com");
    }

    #[test]
    fn a_bad_domains_setting_is_refused_with_its_reason() {
        for (raw, words) in [
            ("not json", "not valid"),
            (
                r#"{"go.example.com": {"root": "ftp://x.example/"}}"#,
                "absolute http(s)",
            ),
            (
                r#"{"go.example.com": {"root": "/relative"}}"#,
                "absolute http(s)",
            ),
            (
                r#"{"go.example.com": {"landing": "https://x.example/"}}"#,
                "unknown field",
            ),
            (r#"{"go.example.com:8787": {}}"#, "not a host name"),
            (r#"["go.example.com"]"#, "not valid"),
        ] {
            let err = Domains::parse(Some(raw), None).unwrap_err();
            assert!(err.contains(words), "{raw}: {err}");
        }
        assert_eq!(Domains::parse(Some("  "), None), Ok(Domains::default()));
    }
}
