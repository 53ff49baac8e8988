//! Fuzzes the JSON bodies of creation and PATCH: never a panic, and an accepted body
//! honours the field rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shortener_domain::link_request::{LinkPatch, NewLink, TargetPolicy};
use shortener_domain::timestamp::Timestamp;

fuzz_target!(|data: &[u8]| {
    let policy = TargetPolicy { own_hosts: &["sho.rt"], blocked_hosts: &[], to_ascii: shortener_domain::link_request::ascii_only };
    let now = Timestamp::from_millis(1_795_290_489_000);
    if let Ok(new) = NewLink::from_json(data, &policy, now) {
        assert!(new.settings.max_clicks.is_none_or(|n| n >= 1));
        assert!(new.settings.expires_at.is_none_or(|t| t > now));
        assert!(!(new.reuse && new.custom_key.is_some()));
    }
    let _ = LinkPatch::from_json(data, &policy, now);
});
