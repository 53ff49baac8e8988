//! A short link as a source writes it (`https://bit.ly/spring-sale`, `bit.ly/3xYz`,
//! `chauncey.ly/documentation`, a bare `spring-sale`), split into the host it lived on
//! and its key, taken whole: a key with several path segments (Shlink's
//! `events/2025`) stays as it is, so the row is refused with the reason instead of
//! landing under its last segment.

/// The host (lower case, when the source gave one) and the key of a short link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortLink {
    pub domain: Option<String>,
    pub key: String,
}

impl ShortLink {
    /// Reads a short link given as a URL (with or without its scheme) or as a bare key.
    /// A value is a URL when it has a scheme, or when its first segment is a host name
    /// (holds a dot) followed by a path: `bit.ly/abc` is a URL, `events/2025` a key.
    pub fn parse(raw: &str) -> ShortLink {
        let raw = raw.trim();
        let (rest, had_scheme) = match raw.split_once("://") {
            Some((_, rest)) => (rest, true),
            None => (raw, false),
        };
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        match rest.split_once('/') {
            Some((host, path)) if had_scheme || host.contains('.') => ShortLink {
                domain: Some(host.to_ascii_lowercase()).filter(|h| !h.is_empty()),
                key: path.trim_matches('/').to_string(),
            },
            None if had_scheme => ShortLink {
                domain: Some(rest.to_ascii_lowercase()),
                key: String::new(),
            },
            _ => ShortLink {
                domain: None,
                key: rest.trim_matches('/').to_string(),
            },
        }
    }
}

/// Why a key read from a source cannot be a key here, when the reason is one only the
/// source's shape explains (the service names every other reason itself).
pub fn unfit_key(key: &str) -> Option<String> {
    key.contains('/').then(|| {
        format!("the short code '{key}' has several path segments; a key here is one segment and may contain only letters a-z, digits 0-9, '_' and '-'")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(raw: &str) -> (Option<&'static str>, String) {
        let l = ShortLink::parse(raw);
        (l.domain.map(|d| &*Box::leak(d.into_boxed_str())), l.key)
    }

    #[test]
    fn a_short_link_yields_its_host_and_its_whole_path_as_the_key() {
        let cases = [
            ("https://bit.ly/3xYzAbC", (Some("bit.ly"), "3xYzAbC")),
            ("bit.ly/spring-sale", (Some("bit.ly"), "spring-sale")),
            (
                "https://Go.Example.com/events/2025/",
                (Some("go.example.com"), "events/2025"),
            ),
            ("https://s.test/abc?utm=1#x", (Some("s.test"), "abc")),
            ("https://s.test/abc/?x=1", (Some("s.test"), "abc")),
            ("spring-sale", (None, "spring-sale")),
            ("events/2025", (None, "events/2025")),
        ];
        for (raw, (domain, key)) in cases {
            assert_eq!(parts(raw), (domain, key.to_string()), "{raw}");
        }
    }

    #[test]
    fn a_key_of_several_segments_is_named_as_unfit() {
        assert!(unfit_key("events/2025")
            .unwrap()
            .contains("several path segments"));
        assert_eq!(unfit_key("spring-sale"), None);
    }
}
