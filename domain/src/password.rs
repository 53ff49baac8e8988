//! Link passwords: the stored hash's format, the password a request may set, and the
//! signed cookie that remembers a visitor who gave the right one. The key derivation
//! itself (PBKDF2) runs in the platform's WebCrypto (the worker's `webcrypto`); everything
//! here is plain computation, tested natively.

use std::fmt::Write;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::request::LinkRequestError;

/// PBKDF2-HMAC-SHA256 iterations. Workers' WebCrypto refuses more than 100,000, so this
/// is the most the platform allows (OWASP's 2023 advice is 600,000 for this PRF; the
/// gap is covered by the attempt limits, which bound online guessing, and by the hash
/// never leaving D1, KV and this service). One derivation costs a few ms of CPU, paid
/// only on a password attempt: a remembered visitor is checked by one HMAC.
pub const PBKDF2_ITERATIONS: u32 = 100_000;
/// Salt bytes per password (128 bits, NIST SP 800-132's minimum).
pub const SALT_BYTES: usize = 16;
/// Derived key bytes (the PRF's output size).
pub const HASH_BYTES: usize = 32;
/// A password is 1 to this many characters.
pub const MAX_PASSWORD_CHARS: usize = 128;

const SCHEME: &str = "pbkdf2-sha256";

/// A stored password: `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`. The
/// iteration count is stored so that a later change of [`PBKDF2_ITERATIONS`] leaves
/// existing passwords valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

impl PasswordHash {
    pub fn encode(&self) -> String {
        format!(
            "{SCHEME}${}${}${}",
            self.iterations,
            hex(&self.salt),
            hex(&self.hash)
        )
    }

    pub fn parse(raw: &str) -> Option<PasswordHash> {
        let mut parts = raw.split('$');
        if parts.next()? != SCHEME {
            return None;
        }
        let iterations = parts.next()?.parse().ok().filter(|n| *n >= 1)?;
        let salt = unhex(parts.next()?)?;
        let hash = unhex(parts.next()?)?;
        if parts.next().is_some() || salt.len() != SALT_BYTES || hash.len() != HASH_BYTES {
            return None;
        }
        Some(PasswordHash {
            iterations,
            salt,
            hash,
        })
    }

    /// True when `derived` (the key derived from a candidate with this salt and count)
    /// is this hash. Constant time in the bytes compared: no early exit a timing could
    /// measure.
    pub fn matches(&self, derived: &[u8]) -> bool {
        derived.len() == self.hash.len()
            && derived
                .iter()
                .zip(&self.hash)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Parses a `password` field: 1 to [`MAX_PASSWORD_CHARS`] characters, as sent (not
/// trimmed: spaces may be part of it).
pub fn parse_password(value: &Value) -> Result<String, LinkRequestError> {
    let field = "password";
    let raw = value.as_str().ok_or(LinkRequestError::WrongType {
        field,
        expected: "a string or null",
    })?;
    let chars = raw.chars().count();
    if chars == 0 || chars > MAX_PASSWORD_CHARS {
        return Err(LinkRequestError::Invalid {
            field,
            why: format!("must be 1 to {MAX_PASSWORD_CHARS} characters, got {chars}"),
        });
    }
    Ok(raw.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(raw: &str) -> Option<Vec<u8>> {
    if !raw.len().is_multiple_of(2) {
        return None;
    }
    raw.as_bytes()
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

/// HMAC-SHA256 (RFC 2104) over the SHA-256 the service already carries: a few lines,
/// synchronous, and no second crypto crate in the wasm.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    let hashed;
    let key = if key.len() > BLOCK {
        hashed = Sha256::digest(key);
        hashed.as_slice()
    } else {
        key
    };
    for (slot, byte) in block.iter_mut().zip(key) {
        *slot = *byte;
    }
    let pad = |with: u8| block.map(|b| b ^ with);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The message a remember cookie signs: the link (by the key its cookie is scoped to),
/// the password it was given for (changing the password voids every cookie), and when
/// the cookie stops counting.
fn cookie_message(key: &str, password_hash: &str, expires_secs: i64) -> String {
    format!("{key}\n{password_hash}\n{expires_secs}")
}

/// The value of the cookie that remembers a right password for link `key` until
/// `expires_secs` (epoch seconds): `<expires>.<hex HMAC>`.
pub fn remember_cookie(secret: &str, key: &str, password_hash: &str, expires_secs: i64) -> String {
    let mac = hmac_sha256(
        secret.as_bytes(),
        cookie_message(key, password_hash, expires_secs).as_bytes(),
    );
    format!("{expires_secs}.{}", hex(&mac))
}

/// True when `value` is a cookie [`remember_cookie`] made for this link and password
/// with this secret, and it has not run out at `now_secs`.
pub fn cookie_is_valid(
    secret: &str,
    key: &str,
    password_hash: &str,
    value: &str,
    now_secs: i64,
) -> bool {
    let Some((expires, mac)) = value.split_once('.') else {
        return false;
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return false;
    };
    if expires <= now_secs {
        return false;
    }
    let Some(mac) = unhex(mac) else {
        return false;
    };
    let expected = hmac_sha256(
        secret.as_bytes(),
        cookie_message(key, password_hash, expires).as_bytes(),
    );
    mac.len() == expected.len()
        && mac
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_4231_vectors() {
        // Test case 2 of RFC 4231.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn a_stored_hash_round_trips_and_junk_is_refused() {
        let h = PasswordHash {
            iterations: PBKDF2_ITERATIONS,
            salt: vec![7; SALT_BYTES],
            hash: vec![9; HASH_BYTES],
        };
        assert_eq!(PasswordHash::parse(&h.encode()), Some(h.clone()));
        assert!(h.encode().starts_with("pbkdf2-sha256$100000$0707"));
        for junk in [
            "",
            "plain",
            "pbkdf2-sha256$0$00$00",
            "pbkdf2-sha1$100000$07070707070707070707070707070707$09",
            &format!("{}$x", h.encode()),
        ] {
            assert_eq!(PasswordHash::parse(junk), None, "{junk}");
        }
        assert!(h.matches(&[9; HASH_BYTES]));
        assert!(!h.matches(&[8; HASH_BYTES]));
        assert!(!h.matches(&[9; 31]));
    }

    #[test]
    fn a_cookie_holds_for_its_link_and_password_until_it_runs_out() {
        let c = remember_cookie("s3cret", "abc", "hash-1", 2_000);
        assert!(cookie_is_valid("s3cret", "abc", "hash-1", &c, 1_999));
        assert!(!cookie_is_valid("s3cret", "abc", "hash-1", &c, 2_000));
        assert!(!cookie_is_valid("other", "abc", "hash-1", &c, 1_000));
        assert!(!cookie_is_valid("s3cret", "abd", "hash-1", &c, 1_000));
        assert!(!cookie_is_valid("s3cret", "abc", "hash-2", &c, 1_000));
        let forged = c.replacen("2000", "9999", 1);
        assert!(!cookie_is_valid("s3cret", "abc", "hash-1", &forged, 1_000));
        assert!(!cookie_is_valid(
            "s3cret", "abc", "hash-1", "garbage", 1_000
        ));
    }

    #[test]
    fn a_password_is_one_to_128_characters() {
        assert_eq!(parse_password(&Value::from(" a b ")).unwrap(), " a b ");
        assert!(parse_password(&Value::from("")).is_err());
        assert!(parse_password(&Value::from("x".repeat(129))).is_err());
        assert!(parse_password(&Value::from(5))
            .unwrap_err()
            .is_malformed_body());
    }
}
