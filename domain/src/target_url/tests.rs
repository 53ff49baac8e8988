//! Target URLs: the table tests of every rule, the special-purpose blocks held to
//! both registries, and the check that the wasm carries no Unicode tables.
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

/// idna_adapter is pinned to its no-Unicode release (Cargo.toml): this parser refuses
/// hosts that need Unicode mapping, and the runtime's own parser maps them instead
/// (`TargetPolicy::to_ascii`; tests/api.test.mjs shows `bücher.example` stored as
/// punycode). If this test fails, the ICU tables (48 KB gzip) are back in the wasm.
#[test]
fn hosts_needing_unicode_tables_are_left_to_the_runtime() {
    for raw in [
        "https://bücher.example/",
        "https://例え.jp/",
        "https://b%C3%BCcher.example/",
    ] {
        assert_eq!(err(raw), TargetUrlError::NeedsUnicode, "{raw:?}");
    }
    // Punycode and plain ASCII hosts need no tables.
    assert_eq!(
        ok("https://xn--bcher-kva.example/"),
        "https://xn--bcher-kva.example/"
    );
    assert_eq!(ok("https://EXAMPLE.com/"), "https://example.com/");
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

fn url_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("http://{v4}/"),
        IpAddr::V6(v6) => format!("http://[{v6}]/"),
    }
}

fn last_of(network: IpAddr, prefix_len: u8) -> IpAddr {
    match network {
        IpAddr::V4(n) => {
            let host = u32::MAX.checked_shr(u32::from(prefix_len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(n) | host))
        }
        IpAddr::V6(n) => {
            let host = u128::MAX.checked_shr(u32::from(prefix_len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(n) | host))
        }
    }
}

#[test]
fn every_block_in_the_table_is_a_network_address_with_a_valid_prefix_and_an_rfc() {
    for &(network, prefix_len, name) in SPECIAL_PURPOSE_BLOCKS {
        let width = if network.is_ipv4() { 32 } else { 128 };
        assert!(prefix_len <= width, "{network}/{prefix_len} {name}");
        assert!(name.contains("RFC"), "{network}/{prefix_len} {name}");
        // No host bits: the address below the network is outside its block.
        let below = match network {
            IpAddr::V4(n) => u32::from(n).checked_sub(1).map(|n| IpAddr::V4(n.into())),
            IpAddr::V6(n) => u128::from(n).checked_sub(1).map(|n| IpAddr::V6(n.into())),
        };
        assert!(
            below.is_none_or(|b| !block_contains(network, prefix_len, b)),
            "{network}/{prefix_len} has host bits"
        );
    }
}

#[test]
fn every_block_in_the_table_is_refused_from_its_first_to_its_last_address() {
    for &(network, prefix_len, name) in SPECIAL_PURPOSE_BLOCKS {
        for ip in [network, last_of(network, prefix_len)] {
            assert_eq!(
                TargetUrl::parse(&url_of(ip), OWN),
                Err(TargetUrlError::PrivateAddress),
                "{ip} in {network}/{prefix_len} {name}"
            );
        }
    }
}

#[test]
fn the_table_holds_every_block_of_both_registries() {
    // Copied from the two IANA Special-Purpose Address Registries (see
    // SPECIAL_PURPOSE_BLOCKS), one row per registry entry, so that a row dropped
    // from the table fails here.
    let registries = [
        "0.0.0.0/8",
        "0.0.0.0/32",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.0.0/29",
        "192.0.0.8/32",
        "192.0.0.9/32",
        "192.0.0.10/32",
        "192.0.0.170/32",
        "192.0.0.171/32",
        "192.0.2.0/24",
        "192.31.196.0/24",
        "192.52.193.0/24",
        "192.88.99.0/24",
        "192.88.99.2/32",
        "192.168.0.0/16",
        "192.175.48.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "::1/128",
        "::/128",
        "::ffff:0:0/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "100:0:0:1::/64",
        "2001::/23",
        "2001::/32",
        "2001:1::1/128",
        "2001:1::2/128",
        "2001:1::3/128",
        "2001:2::/48",
        "2001:3::/32",
        "2001:4:112::/48",
        "2001:10::/28",
        "2001:20::/28",
        "2001:30::/28",
        "2001:db8::/32",
        "2002::/16",
        "2620:4f:8000::/48",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
    ];
    for block in registries {
        let (network, len) = block.split_once('/').unwrap();
        let (network, len): (IpAddr, u8) = (network.parse().unwrap(), len.parse().unwrap());
        assert!(
            SPECIAL_PURPOSE_BLOCKS
                .iter()
                .any(|&(n, l, _)| (n, l) == (network, len)),
            "{block} is missing from SPECIAL_PURPOSE_BLOCKS"
        );
    }
}

#[test]
fn globally_reachable_registry_blocks_are_refused_too() {
    for raw in [
        "http://192.0.0.9/",
        "http://192.0.0.10/",
        "http://192.31.196.1/",
        "http://192.52.193.1/",
        "http://192.175.48.1/",
        "http://[2001:1::1]/",
        "http://[2001:1::2]/",
        "http://[2001:1::3]/",
        "http://[2001:3::1]/",
        "http://[2001:4:112::1]/",
        "http://[2001:20::1]/",
        "http://[2001:30::1]/",
        "http://[2620:4f:8000::1]/",
    ] {
        assert_eq!(err(raw), TargetUrlError::PrivateAddress, "{raw:?}");
    }
}

#[test]
fn public_addresses_just_outside_each_block_are_accepted() {
    for raw in [
        "http://1.0.0.0/",
        "http://9.255.255.255/",
        "http://11.0.0.0/",
        "http://100.63.255.255/",
        "http://100.128.0.0/",
        "http://126.255.255.255/",
        "http://128.0.0.0/",
        "http://169.253.255.255/",
        "http://169.255.0.0/",
        "http://172.15.255.255/",
        "http://172.32.0.0/",
        "http://191.255.255.255/",
        "http://192.0.1.0/",
        "http://192.0.1.255/",
        "http://192.0.3.0/",
        "http://192.31.195.255/",
        "http://192.31.197.0/",
        "http://192.52.192.255/",
        "http://192.52.194.0/",
        "http://192.88.98.255/",
        "http://192.88.100.0/",
        "http://192.167.255.255/",
        "http://192.169.0.0/",
        "http://192.175.47.255/",
        "http://192.175.49.0/",
        "http://198.17.255.255/",
        "http://198.20.0.0/",
        "http://198.51.99.255/",
        "http://198.51.101.0/",
        "http://203.0.112.255/",
        "http://203.0.114.0/",
        "http://223.255.255.255/",
        "http://[2001:200::]/",
        "http://[2001:db7:ffff:ffff:ffff:ffff:ffff:ffff]/",
        "http://[2001:db9::]/",
        "http://[2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff]/",
        "http://[2003::]/",
        "http://[2620:4f:7fff:ffff:ffff:ffff:ffff:ffff]/",
        "http://[2620:4f:8001::]/",
    ] {
        ok(raw);
    }
}

#[test]
fn ipv6_that_reaches_an_ipv4_host_is_judged_by_that_host() {
    for raw in [
        "http://[::ffff:8.8.8.8]/",
        "http://[64:ff9b::8.8.8.8]/",
        "http://[64:ff9b::1.0.0.0]/",
    ] {
        ok(raw);
    }
    for raw in [
        "http://[::ffff:192.0.0.9]/",
        "http://[::ffff:192.88.99.2]/",
        "http://[::ffff:100.64.0.1]/",
        "http://[::ffff:198.18.0.1]/",
        "http://[::ffff:240.0.0.1]/",
        "http://[64:ff9b::192.0.0.170]/",
        "http://[64:ff9b::203.0.113.9]/",
        "http://[64:ff9b::224.0.0.1]/",
        // Other IPv6 forms that carry an IPv4 address are reserved whole.
        "http://[::8.8.8.8]/",
        "http://[64:ff9b:1::808:808]/",
        "http://[2002:808:808::1]/",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    ] {
        assert_eq!(err(raw), TargetUrlError::PrivateAddress, "{raw:?}");
    }
}

#[test]
fn ipv6_outside_global_unicast_is_refused() {
    for raw in [
        "http://[::2]/",
        "http://[::1:0:0:0]/",
        "http://[1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]/",
        "http://[4000::1]/",
        "http://[5f00::1]/",
        "http://[e000::1]/",
        "http://[fe00::1]/",
        "http://[fec0::1]/",
    ] {
        assert_eq!(err(raw), TargetUrlError::PrivateAddress, "{raw:?}");
    }
    ok("http://[2000::1]/");
    ok("http://[3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff]/");
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
    for raw in ["http://exa mple.com/", "http://[::1/", "http://"] {
        assert!(
            matches!(
                err(raw),
                TargetUrlError::Invalid(_) | TargetUrlError::NoHost
            ),
            "{raw:?}"
        );
    }
    // A percent-encoded host may need Unicode mapping: the runtime's parser decides
    // (and refuses this one; tests/api.test.mjs).
    assert_eq!(err("http://ex%00ample.com/"), TargetUrlError::NeedsUnicode);
}
