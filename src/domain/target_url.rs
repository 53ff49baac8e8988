//! Target URLs: the http(s) address a short link forwards to, parsed and normalized once.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Raw input longer than this is refused before the parser sees it.
pub const MAX_RAW_LEN: usize = 8 * 1024;
/// Longest stored target, after normalization. Browsers and proxies handle this length.
pub const MAX_LEN: usize = 2048;

/// An absolute http(s) URL with a public host and no credentials, in WHATWG serialization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl(Url);

/// Why a string is not an acceptable target. Each message names the rule that was broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetUrlError {
    RawTooLong(usize),
    Empty,
    NotAbsolute,
    Invalid(String),
    Scheme(String),
    NoHost,
    Credentials,
    Localhost,
    NotPublicHost,
    PrivateAddress,
    OwnHost,
    TooLong(usize),
    Blocked(String),
}

impl std::fmt::Display for TargetUrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RawTooLong(n) => write!(f, "target_url is {n} bytes; at most {MAX_RAW_LEN} are accepted"),
            Self::Empty => f.write_str("target_url must not be empty"),
            Self::NotAbsolute => f.write_str(
                "target_url must be an absolute URL starting with http:// or https://",
            ),
            Self::Invalid(why) => write!(f, "target_url is not a valid URL: {why}"),
            Self::Scheme(s) => write!(f, "target_url must use http or https, not '{s}'"),
            Self::NoHost => f.write_str("target_url must have a host"),
            Self::Credentials => f.write_str("target_url must not contain a user name or password"),
            Self::Localhost => f.write_str("target_url must not point to localhost"),
            Self::NotPublicHost => f.write_str(
                "target_url host must be a public domain name (with a dot) or a public IP address",
            ),
            Self::PrivateAddress => f.write_str(
                "target_url must not point to a loopback, private, link-local or unspecified address",
            ),
            Self::OwnHost => f.write_str("target_url must not point to this shortener itself"),
            Self::TooLong(n) => write!(f, "target_url is {n} bytes once normalized; at most {MAX_LEN} are accepted"),
            Self::Blocked(host) => write!(f, "target_url host '{host}' is blocked on this service"),
        }
    }
}

impl TargetUrl {
    /// Parses `raw` as a target. `own_hosts` are the host names this service answers on
    /// (from `BASE_URL` and the request); a target on any of them would loop.
    pub fn parse(raw: &str, own_hosts: &[&str]) -> Result<TargetUrl, TargetUrlError> {
        if raw.len() > MAX_RAW_LEN {
            return Err(TargetUrlError::RawTooLong(raw.len()));
        }
        if raw.trim().is_empty() {
            return Err(TargetUrlError::Empty);
        }
        // The WHATWG parser strips leading/trailing C0 controls and spaces and removes tabs
        // and newlines anywhere, exactly as a browser would before following the link, so
        // " JaVa\tScript:..." is seen with its real scheme and refused below.
        let url = Url::parse(raw).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => TargetUrlError::NotAbsolute,
            other => TargetUrlError::Invalid(other.to_string()),
        })?;
        match url.scheme() {
            "http" | "https" => {}
            other => return Err(TargetUrlError::Scheme(other.to_string())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetUrlError::Credentials);
        }
        let own: Vec<String> = own_hosts.iter().map(|h| normalize_host(h)).collect();
        match url.host() {
            None => return Err(TargetUrlError::NoHost),
            Some(Host::Domain(domain)) => {
                let domain = normalize_host(domain);
                if domain.is_empty() {
                    return Err(TargetUrlError::NoHost);
                }
                if own.contains(&domain) {
                    return Err(TargetUrlError::OwnHost);
                }
                check_domain(&domain)?;
            }
            Some(Host::Ipv4(ip)) => {
                if !is_public_v4(ip) {
                    return Err(TargetUrlError::PrivateAddress);
                }
                if own.contains(&ip.to_string()) {
                    return Err(TargetUrlError::OwnHost);
                }
            }
            Some(Host::Ipv6(ip)) => {
                if !is_public_v6(ip) {
                    return Err(TargetUrlError::PrivateAddress);
                }
                if own.contains(&format!("[{ip}]")) {
                    return Err(TargetUrlError::OwnHost);
                }
            }
        }
        let len = url.as_str().len();
        if len > MAX_LEN {
            return Err(TargetUrlError::TooLong(len));
        }
        Ok(TargetUrl(url))
    }

    /// The normalized serialization, as stored and sent in `Location`.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host as serialized (punycode for internationalized names).
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// Refuses a target whose host is on the operator's blocklist.
    pub fn check_blocklist(&self, blocked: &[String]) -> Result<(), TargetUrlError> {
        if host_is_blocked(self.host(), blocked) {
            return Err(TargetUrlError::Blocked(self.host().to_string()));
        }
        Ok(())
    }
}

/// True when `host` or one of its parent domains is in `blocked` (lower-case names
/// without a trailing dot): blocking `example.com` blocks `www.example.com` too.
pub fn host_is_blocked(host: &str, blocked: &[String]) -> bool {
    let host = host.trim_end_matches('.');
    blocked.iter().any(|b| {
        host.eq_ignore_ascii_case(b)
            || (host.len() > b.len()
                && host.to_ascii_lowercase().ends_with(b.as_str())
                && host.as_bytes().get(host.len() - b.len() - 1) == Some(&b'.'))
    })
}

/// The host of a stored (already normalized) target, by string slicing only: the
/// redirect path checks the blocklist without parsing a URL.
pub fn host_of(target: &str) -> &str {
    let rest = target.split_once("://").map_or(target, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// Host names compare case-insensitively and without the root's trailing dot.
fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn check_domain(domain: &str) -> Result<(), TargetUrlError> {
    if domain == "localhost" || domain.ends_with(".localhost") {
        return Err(TargetUrlError::Localhost);
    }
    // Single-label names only resolve on private networks; `.local` is mDNS and
    // `.internal` is reserved for private use (ICANN, 2024).
    if !domain.contains('.')
        || domain.ends_with(".local")
        || domain.ends_with(".internal")
        || domain.ends_with(".home.arpa")
    {
        return Err(TargetUrlError::NotPublicHost);
    }
    Ok(())
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network", incl. 0.0.0.0
        || a == 10                             // private
        || a == 127                            // loopback
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 169 && b == 254)              // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 168)              // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 224) // multicast, reserved and broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    let [s0, s1, s2, s3, s4, s5, ..] = seg;
    // Deprecated IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) both embed an IPv4.
    let embeds_v4 = (s0, s1, s2, s3, s4, s5) == (0, 0, 0, 0, 0, 0)
        || (s0, s1, s2, s3, s4, s5) == (0x64, 0xff9b, 0, 0, 0, 0);
    if embeds_v4 {
        let [.., hi, lo] = seg;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return !ip.is_unspecified() && !ip.is_loopback() && is_public_v4(v4);
    }
    !((s0 & 0xfe00) == 0xfc00     // unique local
        || (s0 & 0xffc0) == 0xfe80 // link-local
        || (s0 & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s0 & 0xff00) == 0xff00 // multicast
        || (s0 == 0x2001 && s1 == 0x0db8)) // documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &[&str] = &["sho.rt", "127.0.0.1"];

    fn ok(raw: &str) -> String {
        match TargetUrl::parse(raw, OWN) {
            Ok(t) => t.as_str().to_string(),
            Err(e) => panic!("{raw:?} was refused: {e}"),
        }
    }

    fn err(raw: &str) -> TargetUrlError {
        match TargetUrl::parse(raw, OWN) {
            Ok(t) => panic!("{raw:?} was accepted as {}", t.as_str()),
            Err(e) => e,
        }
    }

    #[test]
    fn ordinary_http_and_https_urls_are_accepted_and_normalized() {
        let cases = [
            ("https://example.com", "https://example.com/"),
            (
                "HTTPS://Example.COM/Path?q=1#frag",
                "https://example.com/Path?q=1#frag",
            ),
            ("http://example.com:80/a", "http://example.com/a"),
            ("https://example.com:8443/a", "https://example.com:8443/a"),
            ("  https://example.com/a b  ", "https://example.com/a%20b"),
            ("https://example.com/a/../b", "https://example.com/b"),
            ("https://8.8.8.8/", "https://8.8.8.8/"),
            ("https://[2606:4700::1111]/", "https://[2606:4700::1111]/"),
            ("https://sub.example.co.uk/x", "https://sub.example.co.uk/x"),
        ];
        for (raw, want) in cases {
            assert_eq!(ok(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn internationalized_hosts_are_stored_as_punycode() {
        assert_eq!(
            ok("https://bücher.example/"),
            "https://xn--bcher-kva.example/"
        );
        assert_eq!(ok("https://例え.jp/"), "https://xn--r8jz45g.jp/");
    }

    #[test]
    fn non_http_schemes_are_refused_however_they_are_spelled() {
        for raw in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "   javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "\u{0}javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "vbscript:msgbox(1)",
            "intent://scan/#Intent;scheme=zxing;end",
            "ftp://example.com/file",
            "ws://example.com/",
            "mailto:a@example.com",
        ] {
            assert!(matches!(err(raw), TargetUrlError::Scheme(_)), "{raw:?}");
        }
    }

    #[test]
    fn relative_and_scheme_less_urls_are_refused() {
        for raw in [
            "example.com",
            "//example.com/x",
            "/path",
            "?q=1",
            "www.example.com/a",
        ] {
            assert_eq!(err(raw), TargetUrlError::NotAbsolute, "{raw:?}");
        }
        assert_eq!(err(""), TargetUrlError::Empty);
        assert_eq!(err(" \t "), TargetUrlError::Empty);
    }

    #[test]
    fn credentials_are_refused() {
        for raw in [
            "https://user@example.com/",
            "https://user:pass@example.com/",
            "https://:pass@example.com/",
        ] {
            assert_eq!(err(raw), TargetUrlError::Credentials, "{raw:?}");
        }
    }

    #[test]
    fn loopback_private_link_local_and_unspecified_addresses_are_refused_in_every_spelling() {
        for raw in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://017700000001/",
            "http://10.0.0.1/",
            "http://172.16.5.4/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0/",
            "http://0/",
            "http://100.64.0.1/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://[::1]/",
            "http://[::]/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::10.0.0.1]/",
            "http://[fc00::1]/",
            "http://[fd12:3456::1]/",
            "http://[fe80::1]/",
            "http://[ff02::1]/",
        ] {
            assert_eq!(err(raw), TargetUrlError::PrivateAddress, "{raw:?}");
        }
    }

    #[test]
    fn public_neighbours_of_private_ranges_are_accepted() {
        for raw in [
            "http://172.15.0.1/",
            "http://172.32.0.1/",
            "http://11.0.0.1/",
            "http://100.128.0.1/",
            "http://[::ffff:8.8.8.8]/",
        ] {
            ok(raw);
        }
    }

    #[test]
    fn localhost_and_non_public_names_are_refused() {
        for raw in [
            "http://localhost/",
            "http://LOCALHOST:8787/",
            "http://localhost./",
            "http://api.localhost/",
        ] {
            assert_eq!(err(raw), TargetUrlError::Localhost, "{raw:?}");
        }
        for raw in [
            "http://intranet/",
            "http://printer.local/",
            "http://db.internal/",
        ] {
            assert_eq!(err(raw), TargetUrlError::NotPublicHost, "{raw:?}");
        }
    }

    #[test]
    fn the_services_own_host_is_refused_in_every_spelling() {
        for raw in [
            "https://sho.rt/abc",
            "https://SHO.RT/abc",
            "https://sho.rt./abc",
            "http://sho.rt:8080/abc",
        ] {
            assert_eq!(err(raw), TargetUrlError::OwnHost, "{raw:?}");
        }
        // Own hosts given with a trailing dot or in upper case still match.
        assert_eq!(
            TargetUrl::parse("https://sho.rt/", &["SHO.RT."]),
            Err(TargetUrlError::OwnHost)
        );
        ok("https://sub.sho.rt/abc");
    }

    #[test]
    fn length_limits_apply_before_and_after_normalization() {
        let path = "a".repeat(MAX_LEN - "https://example.com/".len());
        assert_eq!(ok(&format!("https://example.com/{path}")).len(), MAX_LEN);
        assert_eq!(
            err(&format!("https://example.com/{path}b")),
            TargetUrlError::TooLong(MAX_LEN + 1)
        );
        // Normalization can lengthen: a space becomes %20.
        let spaces = " x".repeat(1000);
        assert!(matches!(
            err(&format!("https://example.com/{spaces}")),
            TargetUrlError::TooLong(_)
        ));
        let huge = format!("https://example.com/{}", "a".repeat(MAX_RAW_LEN));
        assert!(matches!(err(&huge), TargetUrlError::RawTooLong(_)));
    }

    #[test]
    fn blocked_hosts_and_their_subdomains_are_refused() {
        let blocked = vec!["evil.example".to_string(), "bad.test".to_string()];
        for raw in [
            "https://evil.example/",
            "https://EVIL.example./x",
            "https://www.evil.example/",
            "http://a.b.bad.test:8080/",
        ] {
            let target = TargetUrl::parse(raw, OWN).unwrap();
            assert!(
                matches!(
                    target.check_blocklist(&blocked),
                    Err(TargetUrlError::Blocked(_))
                ),
                "{raw}"
            );
        }
        for raw in [
            "https://notevil.example/",
            "https://evil.example.org/",
            "https://example.com/",
        ] {
            assert!(
                TargetUrl::parse(raw, OWN)
                    .unwrap()
                    .check_blocklist(&blocked)
                    .is_ok(),
                "{raw}"
            );
        }
    }

    #[test]
    fn host_of_reads_the_host_of_a_normalized_target() {
        let cases = [
            ("https://example.com/", "example.com"),
            ("https://example.com:8443/a?b#c", "example.com"),
            ("http://sub.example.com?x", "sub.example.com"),
            ("https://[2606:4700::1111]:443/", "[2606:4700::1111]"),
            ("https://example.com#frag", "example.com"),
        ];
        for (target, host) in cases {
            assert_eq!(host_of(target), host, "{target}");
        }
    }

    #[test]
    fn malformed_hosts_are_invalid_not_accepted() {
        for raw in [
            "http://exa mple.com/",
            "http://[::1/",
            "http://ex%00ample.com/",
            "http://",
        ] {
            assert!(
                matches!(
                    err(raw),
                    TargetUrlError::Invalid(_) | TargetUrlError::NoHost
                ),
                "{raw:?}"
            );
        }
    }
}
