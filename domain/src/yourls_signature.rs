//! YOURLS signatures made from this service's API keys (docs/compat.md): each key's
//! signature token is derived from its id with the instance's secret, so the service
//! can check a plain or a time-limited signature without storing anything a copy of
//! the database would turn into a credential.

use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

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

    fn hex(self, input: &[u8]) -> String {
        match self {
            Hash::Md5 => hex(&Md5::digest(input)),
            Hash::Sha1 => hex(&Sha1::digest(input)),
            Hash::Sha256 => hex(&Sha256::digest(input)),
            Hash::Sha512 => hex(&Sha512::digest(input)),
        }
    }
}

/// A time-limited signature: `hash(timestamp . token)` in lower-case hex, as YOURLS
/// computes it.
pub fn timed(hash: Hash, timestamp: &str, token: &str) -> String {
    hash.hex(format!("{timestamp}{token}").as_bytes())
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

fn hex(bytes: &[u8]) -> String {
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
    fn time_limited_signatures_are_the_hash_of_timestamp_and_token() {
        // As PHP's md5("1700000000abc") and sha1("1700000000abc") compute them.
        assert_eq!(
            timed(Hash::Md5, "1700000000", "abc"),
            "cd914fd8d6df064f1d57d60df13e34f3"
        );
        assert_eq!(
            timed(Hash::Sha1, "1700000000", "abc"),
            "2476450e0dd1a6239d253dfe963e18872c85e62f"
        );
        assert_eq!(timed(Hash::Md5, "0", "").len(), 32);
        assert_eq!(timed(Hash::Sha512, "0", "").len(), 128);
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
