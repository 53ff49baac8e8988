//! Secret admin keys: `<key>_<random>`, shown once to a link's creator and stored only as a hash.

use std::fmt::Write;

use sha2::{Digest, Sha256};

use super::key::{Key, MAX_LEN};
use super::random::{random_string, RandomUnavailable, ALPHABET};

/// Random symbols in a secret: 27 × log2(31) ≈ 133.8 bits, above the 128 required.
pub const RANDOM_LEN: usize = 27;

/// A secret in its normal (lower-case) form: freshly generated, or presented in an admin
/// URL with the shape of an issued one. It is never stored or logged; only its hash is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKey(String);

/// The SHA-256 of a secret, as 64 lowercase hex digits: the only form that is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHash(String);

/// A presented secret that cannot be one this service issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedSecret;

impl SecretKey {
    /// Generates the secret for the link named `key`.
    pub fn generate(key: &Key) -> Result<SecretKey, RandomUnavailable> {
        Ok(SecretKey(format!("{key}_{}", random_string(RANDOM_LEN)?)))
    }

    /// Parses a secret from a request path after checking that it has the shape of an
    /// issued one, so that junk never reaches storage. Secrets are issued in lower case;
    /// accepting any case loses nothing because the alphabet has no upper-case symbols.
    pub fn parse(raw: &str) -> Result<SecretKey, MalformedSecret> {
        if raw.len() > MAX_LEN + 1 + RANDOM_LEN {
            return Err(MalformedSecret);
        }
        let lower = raw.to_ascii_lowercase();
        let (key, random) = lower.rsplit_once('_').ok_or(MalformedSecret)?;
        Key::parse(key).map_err(|_| MalformedSecret)?;
        if random.len() != RANDOM_LEN || !random.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(MalformedSecret);
        }
        Ok(SecretKey(lower))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.0)
    }
}

/// SHA-256 of `s` as 64 lowercase hex digits.
pub fn sha256_hex(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            // Writing to a String cannot fail.
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

impl SecretHash {
    fn of(secret: &str) -> SecretHash {
        SecretHash(sha256_hex(secret))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    #[test]
    fn a_secret_starts_with_its_key_and_carries_enough_randomness() {
        let secret = SecretKey::generate(&key("my_link")).unwrap();
        let (prefix, random) = secret.as_str().rsplit_once('_').unwrap();
        assert_eq!(prefix, "my_link");
        assert_eq!(random.len(), RANDOM_LEN);
        assert!((RANDOM_LEN as f64) * (ALPHABET.len() as f64).log2() >= 128.0);
    }

    #[test]
    fn a_generated_secret_is_accepted_and_hashes_the_same_when_presented() {
        let secret = SecretKey::generate(&key("abc-def")).unwrap();
        assert_eq!(
            SecretKey::parse(secret.as_str()).unwrap().hash(),
            secret.hash()
        );
        let upper = secret.as_str().to_ascii_uppercase();
        assert_eq!(SecretKey::parse(&upper).unwrap(), secret);
    }

    #[test]
    fn two_secrets_for_the_same_key_differ() {
        let k = key("abc");
        assert_ne!(
            SecretKey::generate(&k).unwrap(),
            SecretKey::generate(&k).unwrap()
        );
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            SecretHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn malformed_secrets_are_rejected_before_hashing() {
        let good_random = "a".repeat(RANDOM_LEN);
        let cases = [
            String::new(),
            "nounderscore".to_string(),
            format!("ab_{good_random}"), // key too short
            format!("abc_{}", "a".repeat(RANDOM_LEN - 1)), // random too short
            format!("abc_{}", "a".repeat(RANDOM_LEN + 1)),
            format!("abc_{}0", "a".repeat(RANDOM_LEN - 1)), // '0' is not in the alphabet
            format!("a.c_{good_random}"),
            format!("{}_{good_random}", "a".repeat(65)),
            format!("abc_{good_random}/.."),
            "abc_".to_string(),
            "_".repeat(100),
        ];
        for raw in cases {
            assert_eq!(SecretKey::parse(&raw), Err(MalformedSecret), "{raw:?}");
        }
        assert!(SecretKey::parse(&format!("a_b-c_{good_random}")).is_ok());
    }
}
