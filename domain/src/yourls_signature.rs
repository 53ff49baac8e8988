//! YOURLS signatures made from this service's API keys (docs/compat.md): each key's
//! signature token is derived from its id with the instance's secret, so the service
//! can check a plain or a time-limited signature without storing anything a copy of
//! the database would turn into a credential.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::token::token_matches;

/// How long a time-limited signature is accepted either side of its timestamp:
/// YOURLS's `YOURLS_NONCE_LIFE`, 12 hours.
pub const NONCE_LIFE_SECONDS: i64 = 43_200;
/// Hex digits of a signature token (128 bits; YOURLS's own are 10).
const TOKEN_HEX: usize = 32;

/// The YOURLS signature token of the key `key_id` (`root` for `ADMIN_TOKEN`): the
/// first 32 hex digits of HMAC-SHA256(`secret`, `"yourls-signature:" + key_id`).
pub fn token(secret: &[u8], key_id: &str) -> String {
    // HMAC takes a key of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(b"yourls-signature:");
    mac.update(key_id.as_bytes());
    let mut hex = hex(&mac.finalize().into_bytes());
    hex.truncate(TOKEN_HEX);
    hex
}

/// The hash of a time-limited signature (`hash=`; YOURLS's default is MD5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Hash {
    /// `hash=` as sent; absent is MD5. `None` for a hash not offered here.
    pub fn parse(raw: Option<&str>) -> Option<Hash> {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            None | Some("md5") => Some(Hash::Md5),
            Some("sha1") => Some(Hash::Sha1),
            Some("sha256") => Some(Hash::Sha256),
            Some("sha512") => Some(Hash::Sha512),
            _ => None,
        }
    }

    /// The WebCrypto name of the hash (`crypto.subtle.digest`; MD5 is a Workers
    /// extension to the standard). The digest is the runtime's, not the wasm's: MD5,
    /// SHA-1 and SHA-512 compiled in cost about 15 KB of wasm (`twiggy diff`,
    /// bench/history.md) for a path few requests take.
    pub fn webcrypto_name(self) -> &'static str {
        match self {
            Hash::Md5 => "MD5",
            Hash::Sha1 => "SHA-1",
            Hash::Sha256 => "SHA-256",
            Hash::Sha512 => "SHA-512",
        }
    }
}

/// What a time-limited signature hashes: `timestamp . token`, as YOURLS concatenates
/// them. The signature is the hash of this in lower-case hex ([`hex`]).
pub fn timed_input(timestamp: &str, token: &str) -> String {
    format!("{timestamp}{token}")
}

/// Whether `timestamp` (Unix seconds, as sent) is within [`NONCE_LIFE_SECONDS`] of
/// `now_seconds`.
pub fn fresh(timestamp: &str, now_seconds: i64) -> bool {
    timestamp
        .parse::<i64>()
        .is_ok_and(|t| (now_seconds - t).abs() <= NONCE_LIFE_SECONDS)
}

/// Whether a presented signature is `expected`, compared in constant time and
/// case-insensitively (hex).
pub fn matches(presented: &str, expected: &str) -> bool {
    token_matches(&presented.to_ascii_lowercase(), expected)
}

/// `bytes` in lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut hex, byte| {
            // Writing to a String cannot fail.
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_s_token_depends_on_the_secret_and_the_key() {
        let a = token(b"secret", "key_aaaaaaaaaaaa");
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, token(b"secret", "key_aaaaaaaaaaaa"));
        assert_ne!(a, token(b"secret", "key_bbbbbbbbbbbb"));
        assert_ne!(a, token(b"other secret", "key_aaaaaaaaaaaa"));
    }

    #[test]
    fn time_limited_signatures_hash_the_timestamp_then_the_token_in_lower_case_hex() {
        // The digest itself is WebCrypto's; tests/compat-yourls.test.mjs checks each
        // hash against Node's createHash, as PHP's md5()/hash() compute them.
        assert_eq!(timed_input("1700000000", "abc"), "1700000000abc");
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        let names = [Hash::Md5, Hash::Sha1, Hash::Sha256, Hash::Sha512].map(Hash::webcrypto_name);
        assert_eq!(names, ["MD5", "SHA-1", "SHA-256", "SHA-512"]);
    }

    #[test]
    fn the_hash_is_md5_unless_named_and_unknown_ones_are_refused() {
        let table = [
            (None, Some(Hash::Md5)),
            (Some("MD5"), Some(Hash::Md5)),
            (Some("sha1"), Some(Hash::Sha1)),
            (Some("sha256"), Some(Hash::Sha256)),
            (Some("sha512"), Some(Hash::Sha512)),
            (Some("crc32"), None),
        ];
        for (raw, expected) in table {
            assert_eq!(Hash::parse(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn a_timestamp_is_fresh_for_twelve_hours_either_side() {
        let now = 1_700_000_000;
        assert!(fresh("1700000000", now));
        assert!(fresh(&(now - NONCE_LIFE_SECONDS).to_string(), now));
        assert!(fresh(&(now + NONCE_LIFE_SECONDS).to_string(), now));
        assert!(!fresh(&(now - NONCE_LIFE_SECONDS - 1).to_string(), now));
        assert!(!fresh("yesterday", now));
    }

    #[test]
    fn signatures_compare_case_insensitively_and_never_match_an_empty_expectation() {
        assert!(matches("ABCdef", "abcdef"));
        assert!(!matches("abcdef", "abcdeg"));
        assert!(!matches("", ""));
    }
}
