//! Which of the instance's domains a link lives on, and a link's full name: its domain
//! and its key. A key is unique within its domain, so `go.example.com/docs` and
//! `sho.rt/docs` are two links.

use std::borrow::Cow;
use std::fmt;

use super::key::{Key, MAX_LEN};

/// The longest host name (RFC 1035 §2.3.4, as text without the final dot).
pub const MAX_HOST_LEN: usize = 253;

/// A domain a link can live on: the instance's primary domain (`BASE_URL`'s host, or
/// any host not listed in `DOMAINS`), or a listed host. The primary is stored as '',
/// so changing `BASE_URL` never orphans a link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Domain(Option<String>);

/// A string that is not a host name a domain can have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadHost(pub String);

impl fmt::Display for BadHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a host name: letters a-z, digits, '-' and '.', at most {MAX_HOST_LEN} characters, in ASCII (punycode for other scripts)",
            self.0
        )
    }
}

/// Lower-cases and checks a host name as a domain is listed: ASCII labels of letters,
/// digits and '-', 1 to 63 characters each, no port, no trailing dot. Unicode hosts
/// are listed in punycode (`xn--`), as the request's `Host` carries them.
pub fn parse_host(raw: &str) -> Result<String, BadHost> {
    let host = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = host.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    if host.is_empty() || host.len() > MAX_HOST_LEN || !labels_ok {
        return Err(BadHost(raw.to_string()));
    }
    Ok(host)
}

impl Domain {
    /// The instance's primary domain.
    pub fn primary() -> Domain {
        Domain(None)
    }

    /// A listed domain, by its host name (already checked by [`parse_host`]).
    pub fn named(host: String) -> Domain {
        Domain(Some(host))
    }

    /// Reads `links.domain` back: '' is the primary domain.
    pub fn from_stored(stored: &str) -> Result<Domain, BadHost> {
        if stored.is_empty() {
            Ok(Domain::primary())
        } else {
            parse_host(stored).map(Domain::named)
        }
    }

    pub fn is_primary(&self) -> bool {
        self.0.is_none()
    }

    /// The host of a listed domain; `None` for the primary.
    pub fn host(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// As stored in `links.domain` and `link_aliases.domain`: '' for the primary.
    pub fn stored(&self) -> &str {
        self.0.as_deref().unwrap_or_default()
    }
}

/// A link's full name: the domain it lives on and its key there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkName {
    pub domain: Domain,
    pub key: Key,
}

impl LinkName {
    pub fn new(domain: Domain, key: Key) -> LinkName {
        LinkName { domain, key }
    }

    /// A key on the primary domain.
    pub fn primary(key: Key) -> LinkName {
        LinkName::new(Domain::primary(), key)
    }

    /// The name the caches and the statistics know a link by: its key on the primary
    /// domain (as before domains existed, so cached rules and queued clicks stay
    /// valid), `host/key` on another. Keys cannot contain '/', so the two never meet.
    pub fn qualified(&self) -> Cow<'_, str> {
        match self.domain.host() {
            None => Cow::Borrowed(self.key.as_str()),
            Some(host) => Cow::Owned(format!("{host}/{}", self.key.as_str())),
        }
    }

    /// Reads a qualified name back (see [`LinkName::qualified`]).
    pub fn parse_qualified(raw: &str) -> Option<LinkName> {
        if raw.len() > MAX_HOST_LEN + 1 + MAX_LEN {
            return None;
        }
        match raw.rsplit_once('/') {
            None => Key::parse(raw).ok().map(LinkName::primary),
            Some((host, key)) => Some(LinkName::new(
                Domain::named(parse_host(host).ok().filter(|h| h == host)?),
                Key::parse(key).ok()?,
            )),
        }
    }
}

impl fmt::Display for LinkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.qualified())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Key {
        Key::parse(k).unwrap()
    }

    #[test]
    fn host_names_are_lower_cased_and_checked() {
        assert_eq!(parse_host("Go.Example.COM").unwrap(), "go.example.com");
        assert_eq!(parse_host("go.example.com.").unwrap(), "go.example.com");
        assert_eq!(parse_host("localhost").unwrap(), "localhost");
        assert_eq!(
            parse_host("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            ".",
            "go..example",
            "go.example.com:8787",
            "go/example",
            "-go.example",
            "go-.example",
            "bücher.example",
            "go example",
            "https://go.example",
            &"a".repeat(64),
            &format!("{}.com", "a.".repeat(126)),
        ] {
            assert!(parse_host(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_primary_domain_is_stored_as_the_empty_string() {
        assert_eq!(Domain::primary().stored(), "");
        assert_eq!(Domain::from_stored("").unwrap(), Domain::primary());
        let go = Domain::from_stored("go.example.com").unwrap();
        assert_eq!(go.host(), Some("go.example.com"));
        assert_eq!(go.stored(), "go.example.com");
        assert!(Domain::from_stored("Not A Host").is_err());
    }

    #[test]
    fn a_primary_link_is_qualified_by_its_key_alone_and_others_by_their_host() {
        let primary = LinkName::primary(key("abc"));
        assert_eq!(primary.qualified(), "abc");
        let named = LinkName::new(Domain::named("go.example.com".into()), key("abc"));
        assert_eq!(named.qualified(), "go.example.com/abc");
        assert_ne!(primary.qualified(), named.qualified());
        for name in [primary, named] {
            assert_eq!(LinkName::parse_qualified(&name.qualified()), Some(name));
        }
    }

    #[test]
    fn junk_is_not_a_qualified_name() {
        for raw in [
            "",
            "ab",
            "/abc",
            "go.example.com/",
            "Go.Example.com/abc",
            "go.example.com/a/bc",
            "go example/abc",
            "go.example.com/admin",
        ] {
            assert_eq!(LinkName::parse_qualified(raw), None, "{raw:?}");
        }
    }
}
