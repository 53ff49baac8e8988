//! Fuzzes key and secret parsing: never a panic, and whatever is accepted is in the
//! normal form that storage and the CHECK constraints expect.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shortener_domain::key::{Key, MAX_LEN, MIN_LEN, RESERVED};
use shortener_domain::secret::SecretKey;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(key) = Key::parse(raw) {
        let k = key.as_str();
        assert!((MIN_LEN..=MAX_LEN).contains(&k.len()));
        assert!(k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'));
        assert!(!RESERVED.contains(&k));
        assert_eq!(Key::parse(k).expect("normal form parses"), key);
    }
    if let Ok(secret) = SecretKey::parse(raw) {
        assert_eq!(secret.hash().as_str().len(), 64);
        assert_eq!(SecretKey::parse(secret.as_str()).expect("normal form parses"), secret);
    }
});
