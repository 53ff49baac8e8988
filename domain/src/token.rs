//! The operator's bearer token, compared without leaking where a guess went wrong.

use sha2::{Digest, Sha256};

/// True when `presented` equals `expected`. Both are hashed first so the comparison
/// always runs over 32 bytes, whatever their lengths, and every byte is examined
/// before answering, so timing reveals neither the length nor a matching prefix.
pub fn token_matches(presented: &str, expected: &str) -> bool {
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    diff == 0 && !expected.is_empty()
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches() {
        assert!(token_matches("s3cret-token", "s3cret-token"));
        for wrong in ["", "s3cret-toke", "s3cret-tokenn", "S3CRET-TOKEN", "x"] {
            assert!(!token_matches(wrong, "s3cret-token"), "{wrong:?}");
        }
        assert!(
            !token_matches("", ""),
            "an empty configured token matches nothing"
        );
    }

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer   abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
