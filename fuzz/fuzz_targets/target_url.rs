//! Fuzzes target-URL parsing: any input must be accepted or refused, never panic, and
//! an accepted target must keep every promise the type makes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shortener_domain::target_url::{host_of, TargetUrl, MAX_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(target) = TargetUrl::parse(raw, &["sho.rt"]) {
        let s = target.as_str();
        assert!(s.starts_with("http://") || s.starts_with("https://"));
        assert!(s.len() <= MAX_LEN);
        assert!(!target.host().is_empty());
        // The redirect path's string-only host reading agrees with the URL parser.
        assert_eq!(host_of(s), target.host());
        // Normalization is idempotent: the stored form parses to itself.
        let again = TargetUrl::parse(s, &["sho.rt"]).expect("a stored target parses again");
        assert_eq!(again.as_str(), s);
    }
});
