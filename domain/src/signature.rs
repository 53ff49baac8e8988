//! Webhook signatures: HMAC-SHA256 over the timestamp and the body, so a receiver can
//! check who sent a delivery and refuse an old one replayed. The scheme is documented
//! in docs/health.md; this is its one implementation.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header that carries the signature: `t=<unix seconds>,v1=<hex HMAC>`.
pub const SIGNATURE_HEADER: &str = "X-Shortener-Signature";

/// The signature header's value for `body` sent at `unix_seconds` with `secret`: the
/// HMAC-SHA256 of `"<unix_seconds>.<body>"`, in lower-case hex.
pub fn sign(secret: &[u8], unix_seconds: i64, body: &[u8]) -> String {
    format!(
        "t={unix_seconds},v1={}",
        hmac_hex(secret, unix_seconds, body)
    )
}

fn hmac_hex(secret: &[u8], unix_seconds: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_the_timestamp_dot_body() {
        // RFC 4231, test case 2: the primitive itself.
        assert_eq!(hmac_hex(b"Jefe", 0, b"").len(), 64, "hex of a 32-byte MAC");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let rfc: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            rfc,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Computed apart from this code, as a receiver would:
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
        assert_eq!(
            sign(b"s3cret", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
        );
    }

    #[test]
    fn any_change_to_the_body_the_time_or_the_secret_changes_the_signature() {
        let base = sign(b"k", 10, b"body");
        assert_ne!(base, sign(b"k", 11, b"body"));
        assert_ne!(base, sign(b"k", 10, b"bodY"));
        assert_ne!(base, sign(b"K", 10, b"body"));
        assert!(base.starts_with("t=10,v1="));
        assert_eq!(base.len(), "t=10,v1=".len() + 64);
    }
}
