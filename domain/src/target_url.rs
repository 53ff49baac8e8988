//! Target URLs: the http(s) address a short link forwards to, parsed and normalized once.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
    /// A host the parser here cannot map without Unicode tables (see Cargo.toml):
    /// [`crate::link_request::TargetPolicy::to_ascii`] maps it first.
    NeedsUnicode,
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
            Self::NeedsUnicode => {
                f.write_str("target_url host is not a valid internationalized domain name")
            }
            Self::Scheme(s) => write!(f, "target_url must use http or https, not '{s}'"),
            Self::NoHost => f.write_str("target_url must have a host"),
            Self::Credentials => f.write_str("target_url must not contain a user name or password"),
            Self::Localhost => f.write_str("target_url must not point to localhost"),
            Self::NotPublicHost => f.write_str(
                "target_url host must be a public domain name (with a dot) or a public IP address",
            ),
            Self::PrivateAddress => f.write_str(
                "target_url must not point to a loopback, private, link-local, unspecified or other special-purpose or reserved IP address",
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
            // Only a host with non-ASCII (or percent-encoded) characters can need the
            // Unicode tables; any other IDNA failure is plain ASCII junk.
            url::ParseError::IdnaError if !raw.is_ascii() || raw.contains('%') => {
                TargetUrlError::NeedsUnicode
            }
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

const fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

const fn v6(segments: [u16; 8]) -> IpAddr {
    let [a, b, c, d, e, f, g, h] = segments;
    IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
}

/// Where the IANA Address Space registry puts what is not Global Unicast (2000::/3).
const NOT_GLOBAL_UNICAST: &str =
    "Reserved by the IETF or not unicast: outside Global Unicast 2000::/3 (RFC 4291 §2.4)";

/// Every address block a target may not point to, as (network, prefix length, name with
/// the RFC that assigned it).
///
/// The rows are, in order and in full:
/// - every block of the IANA IPv4 Special-Purpose Address Registry,
///   <https://www.iana.org/assignments/iana-ipv4-special-registry/iana-ipv4-special-registry.xhtml>;
/// - every block of the IANA IPv6 Special-Purpose Address Registry,
///   <https://www.iana.org/assignments/iana-ipv6-special-registry/iana-ipv6-special-registry.xhtml>;
/// - what other IANA registries reserve: IPv4 multicast (IANA IPv4 Multicast Address
///   Space Registry), and in IPv6 the deprecated IPv4-compatible and site-local forms,
///   multicast, and everything outside Global Unicast 2000::/3 (IANA Internet Protocol
///   Version 6 Address Space: reserved by the IETF, or not unicast).
///
/// Every registry block is refused whole, also those the registries mark "globally
/// reachable" (192.0.0.9/32, 192.0.0.10/32, 192.31.196.0/24, 192.52.193.0/24,
/// 192.175.48.0/24, 2001:1::1/128, 2001:1::2/128, 2001:1::3/128, 2001:3::/32,
/// 2001:4:112::/48, 2001:20::/28, 2001:30::/28, 2620:4f:8000::/48): they are anycast
/// service addresses and infrastructure (PCP, TURN, DNS-SD, AS112, AMT, ORCHIDv2, drone
/// IDs), never a page a short link should lead to; the README promises that reserved
/// ranges are refused, and one rule without exceptions is the one a reader can check.
///
/// Two blocks are judged by the IPv4 address they carry instead: an IPv4-mapped address
/// (::ffff:0:0/96) is how a dual-stack socket names an IPv4 host, and a NAT64 translator
/// sends the well-known prefix (64:ff9b::/96, globally reachable in the registry) on to
/// its IPv4 host; a connection to either reaches that IPv4 address, so it is refused
/// exactly when that address is. Their rows stay for completeness: their first and last
/// addresses carry 0.0.0.0 and 255.255.255.255, both refused.
///
/// The registries grow: when one of them adds a block, add its row here and to
/// `the_table_holds_every_block_of_both_registries`.
#[rustfmt::skip]
pub const SPECIAL_PURPOSE_BLOCKS: &[(IpAddr, u8, &str)] = &[
    // IANA IPv4 Special-Purpose Address Registry.
    (v4(0, 0, 0, 0),                            8,   "\"This network\" (RFC 791 §3.2)"),
    (v4(0, 0, 0, 0),                            32,  "\"This host on this network\" (RFC 1122 §3.2.1.3)"),
    (v4(10, 0, 0, 0),                           8,   "Private-Use (RFC 1918)"),
    (v4(100, 64, 0, 0),                         10,  "Shared Address Space (RFC 6598)"),
    (v4(127, 0, 0, 0),                          8,   "Loopback (RFC 1122 §3.2.1.3)"),
    (v4(169, 254, 0, 0),                        16,  "Link Local (RFC 3927)"),
    (v4(172, 16, 0, 0),                         12,  "Private-Use (RFC 1918)"),
    (v4(192, 0, 0, 0),                          24,  "IETF Protocol Assignments (RFC 6890 §2.1)"),
    (v4(192, 0, 0, 0),                          29,  "IPv4 Service Continuity Prefix (RFC 7335)"),
    (v4(192, 0, 0, 8),                          32,  "IPv4 dummy address (RFC 7600)"),
    (v4(192, 0, 0, 9),                          32,  "Port Control Protocol Anycast (RFC 7723)"),
    (v4(192, 0, 0, 10),                         32,  "Traversal Using Relays around NAT Anycast (RFC 8155)"),
    (v4(192, 0, 0, 170),                        32,  "NAT64/DNS64 Discovery (RFC 8880, RFC 7050 §2.2)"),
    (v4(192, 0, 0, 171),                        32,  "NAT64/DNS64 Discovery (RFC 8880, RFC 7050 §2.2)"),
    (v4(192, 0, 2, 0),                          24,  "Documentation (TEST-NET-1) (RFC 5737)"),
    (v4(192, 31, 196, 0),                       24,  "AS112-v4 (RFC 7535)"),
    (v4(192, 52, 193, 0),                       24,  "AMT (RFC 7450)"),
    (v4(192, 88, 99, 0),                        24,  "Deprecated (6to4 Relay Anycast) (RFC 7526)"),
    (v4(192, 88, 99, 2),                        32,  "6a44-relay anycast address (RFC 6751)"),
    (v4(192, 168, 0, 0),                        16,  "Private-Use (RFC 1918)"),
    (v4(192, 175, 48, 0),                       24,  "Direct Delegation AS112 Service (RFC 7534)"),
    (v4(198, 18, 0, 0),                         15,  "Benchmarking (RFC 2544)"),
    (v4(198, 51, 100, 0),                       24,  "Documentation (TEST-NET-2) (RFC 5737)"),
    (v4(203, 0, 113, 0),                        24,  "Documentation (TEST-NET-3) (RFC 5737)"),
    (v4(240, 0, 0, 0),                          4,   "Reserved (RFC 1112 §4)"),
    (v4(255, 255, 255, 255),                    32,  "Limited Broadcast (RFC 8190, RFC 919 §7)"),
    // IANA IPv4 Multicast Address Space Registry.
    (v4(224, 0, 0, 0),                          4,   "Multicast (RFC 5771)"),
    // IANA IPv6 Special-Purpose Address Registry.
    (v6([0, 0, 0, 0, 0, 0, 0, 1]),              128, "Loopback Address (RFC 4291)"),
    (v6([0, 0, 0, 0, 0, 0, 0, 0]),              128, "Unspecified Address (RFC 4291)"),
    (v6([0, 0, 0, 0, 0, 0xffff, 0, 0]),         96,  "IPv4-mapped Address (RFC 4291)"),
    (v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0]),      96,  "IPv4-IPv6 Translat. (RFC 6052)"),
    (v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0]),      48,  "IPv4-IPv6 Translat. (RFC 8215)"),
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0]),          64,  "Discard-Only Address Block (RFC 6666)"),
    (v6([0x100, 0, 0, 1, 0, 0, 0, 0]),          64,  "Dummy IPv6 Prefix (RFC 9780)"),
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0]),         23,  "IETF Protocol Assignments (RFC 2928)"),
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0]),         32,  "TEREDO (RFC 4380, RFC 8190)"),
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 1]),         128, "Port Control Protocol Anycast (RFC 7723)"),
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 2]),         128, "Traversal Using Relays around NAT Anycast (RFC 8155)"),
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 3]),         128, "DNS-SD Service Registration Protocol Anycast Address (RFC 9665)"),
    (v6([0x2001, 2, 0, 0, 0, 0, 0, 0]),         48,  "Benchmarking (RFC 5180, RFC Errata 1752)"),
    (v6([0x2001, 3, 0, 0, 0, 0, 0, 0]),         32,  "AMT (RFC 7450)"),
    (v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0]),     48,  "AS112-v6 (RFC 7535)"),
    (v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0]),      28,  "Deprecated (previously ORCHID) (RFC 4843)"),
    (v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0]),      28,  "ORCHIDv2 (RFC 7343)"),
    (v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0]),      28,  "Drone Remote ID Protocol Entity Tags (DETs) Prefix (RFC 9374)"),
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]),     32,  "Documentation (RFC 3849)"),
    (v6([0x2002, 0, 0, 0, 0, 0, 0, 0]),         16,  "6to4 (RFC 3056)"),
    (v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0]), 48,  "Direct Delegation AS112 Service (RFC 7534)"),
    (v6([0x3fff, 0, 0, 0, 0, 0, 0, 0]),         20,  "Documentation (RFC 9637)"),
    (v6([0x5f00, 0, 0, 0, 0, 0, 0, 0]),         16,  "Segment Routing (SRv6) SIDs (RFC 9602)"),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0]),         7,   "Unique-Local (RFC 4193, RFC 8190)"),
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0]),         10,  "Link-Local Unicast (RFC 4291)"),
    // IANA Internet Protocol Version 6 Address Space.
    (v6([0, 0, 0, 0, 0, 0, 0, 0]),              96,  "IPv4-compatible Address, deprecated (RFC 4291 §2.5.5.1)"),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0]),         10,  "Site-Local Unicast, deprecated (RFC 3879)"),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0]),         8,   "Multicast (RFC 4291 §2.7)"),
    (v6([0, 0, 0, 0, 0, 0, 0, 0]),              3,   NOT_GLOBAL_UNICAST),
    (v6([0x4000, 0, 0, 0, 0, 0, 0, 0]),         2,   NOT_GLOBAL_UNICAST),
    (v6([0x8000, 0, 0, 0, 0, 0, 0, 0]),         1,   NOT_GLOBAL_UNICAST),
];

/// True when `ip` lies in the block `network`/`prefix_len` (of the same family).
fn block_contains(network: IpAddr, prefix_len: u8, ip: IpAddr) -> bool {
    let host_bits = |bits: u32| bits.saturating_sub(u32::from(prefix_len));
    match (network, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            // A /0 shifts by the full width, which `checked_shl` turns into a zero mask.
            let mask = u32::MAX.checked_shl(host_bits(32)).unwrap_or(0);
            (u32::from(net) ^ u32::from(ip)) & mask == 0
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            let mask = u128::MAX.checked_shl(host_bits(128)).unwrap_or(0);
            (u128::from(net) ^ u128::from(ip)) & mask == 0
        }
        _ => false,
    }
}

/// The name of the first block of [`SPECIAL_PURPOSE_BLOCKS`] that holds `ip`, if any.
/// An address there is refused as a target, except where [`SPECIAL_PURPOSE_BLOCKS`]
/// says an IPv6 address is judged by the IPv4 address it carries.
pub fn special_purpose_block(ip: IpAddr) -> Option<&'static str> {
    SPECIAL_PURPOSE_BLOCKS
        .iter()
        .find(|(network, prefix_len, _)| block_contains(*network, *prefix_len, ip))
        .map(|(_, _, name)| *name)
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    special_purpose_block(IpAddr::V4(ip)).is_none()
}

/// The IPv4 host a connection to `ip` reaches: the address carried by an IPv4-mapped
/// address or by the NAT64 well-known prefix (see [`SPECIAL_PURPOSE_BLOCKS`]).
fn ipv4_reached_through(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    match ip.segments() {
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => {
            Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)))
        }
        _ => None,
    }
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    match ipv4_reached_through(ip) {
        Some(v4) => is_public_v4(v4),
        None => special_purpose_block(IpAddr::V6(ip)).is_none(),
    }
}

#[cfg(test)]
mod tests;
