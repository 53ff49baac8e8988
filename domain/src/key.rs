//! Short-link keys: the path segment that names a link, generated or chosen by its creator.

use super::random::{random_string, RandomUnavailable};

/// Length of a generated key: 31^8 ≈ 8.5 × 10^11 keys.
pub const GENERATED_LEN: usize = 8;
/// Bounds on any key, generated or custom.
pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 64;

/// Words that name the service's own routes, files crawlers ask for, or future routes.
/// Some cannot pass the character rule anyway; they are listed so the intent is on record.
pub const RESERVED: &[&str] = &[
    "admin",
    "api",
    "assets",
    "bulk",
    "dashboard",
    "docs",
    "export",
    "favicon.ico",
    "health",
    "healthz",
    "import",
    "openapi.json",
    "robots.txt",
    "static",
    "url",
    "www",
];

/// A valid, lower-cased key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

/// Why a string is not an acceptable key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    Length(usize),
    Characters,
    Reserved(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Length(n) => write!(
                f,
                "custom_key must be {MIN_LEN} to {MAX_LEN} characters long, got {n}"
            ),
            KeyError::Characters => f.write_str(
                "custom_key may contain only letters a-z, digits 0-9, '_' and '-' (case-insensitive)",
            ),
            KeyError::Reserved(word) => write!(f, "custom_key '{word}' is reserved"),
        }
    }
}

impl Key {
    /// Parses a key, from a request path or a creator's `custom_key`. Keys are
    /// case-insensitive, so the result is lower-cased. Reserved words are refused, so a
    /// path such as `/admin` is never looked up in storage.
    pub fn parse(raw: &str) -> Result<Key, KeyError> {
        let len = raw.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Err(KeyError::Length(len));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(KeyError::Characters);
        }
        let key = raw.to_ascii_lowercase();
        if RESERVED.contains(&key.as_str()) {
            return Err(KeyError::Reserved(key));
        }
        Ok(Key(key))
    }

    /// Draws a fresh key of `len` symbols from the CSPRNG. `len` is normally
    /// [`GENERATED_LEN`]; a deployment may lower it only for collision tests.
    pub fn generate(len: usize) -> Result<Key, RandomUnavailable> {
        loop {
            let candidate = random_string(len.clamp(MIN_LEN, MAX_LEN))?;
            if !RESERVED.contains(&candidate.as_str()) {
                return Ok(Key(candidate));
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_keys_are_lower_cased() {
        assert_eq!(Key::parse("AbC").unwrap().as_str(), "abc");
        assert_eq!(Key::parse("My_Link-2").unwrap().as_str(), "my_link-2");
    }

    #[test]
    fn keys_outside_the_length_bounds_are_rejected() {
        let cases = [
            ("", false),
            ("ab", false),
            ("abc", true),
            (&"a".repeat(64), true),
            (&"a".repeat(65), false),
        ];
        for (raw, ok) in cases {
            assert_eq!(Key::parse(raw).is_ok(), ok, "{raw:?}");
        }
    }

    #[test]
    fn keys_with_characters_outside_the_set_are_rejected() {
        for raw in [
            "abc+", "a.bc", "a/bc", "a bc", "abc%41", "ábc", "ab\u{0}c", "..", "../etc", "a😀c",
            "abc\n",
        ] {
            assert!(Key::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn reserved_words_are_refused_in_any_case() {
        for raw in [
            "admin",
            "ADMIN",
            "url",
            "api",
            "docs",
            "healthz",
            "static",
            "dashboard",
        ] {
            assert!(
                matches!(Key::parse(raw), Err(KeyError::Reserved(_))),
                "{raw}"
            );
        }
        assert!(Key::parse("openapi.json").is_err());
        assert!(Key::parse("favicon.ico").is_err());
        assert!(Key::parse("robots.txt").is_err());
        assert!(Key::parse("admins").is_ok());
    }

    #[test]
    fn generated_keys_are_eight_symbols_of_the_alphabet() {
        for _ in 0..200 {
            let key = Key::generate(GENERATED_LEN).unwrap();
            assert_eq!(key.as_str().len(), 8);
            assert!(key
                .as_str()
                .bytes()
                .all(|b| super::super::random::ALPHABET.contains(&b)));
            assert_eq!(Key::parse(key.as_str()).unwrap(), key);
        }
    }

    #[test]
    fn errors_explain_the_rule() {
        assert!(KeyError::Length(2).to_string().contains("3 to 64"));
        assert!(KeyError::Reserved("api".into())
            .to_string()
            .contains("reserved"));
    }
}
