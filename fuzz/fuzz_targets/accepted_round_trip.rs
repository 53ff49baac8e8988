//! Fuzzes the promise "everything the service accepts it can store, count and serve":
//! a creation or PATCH body that is accepted holds only values within the domain's
//! ranges, an accepted expiry echoes in a form that parses back to it, and any visitor
//! headers become a visit record that the `visits` table's CHECK constraints accept and
//! that survives the click queue's JSON unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shortener_domain::link_request::{Change, LinkPatch, NewLink, TargetPolicy, MAX_CLICKS_LIMIT};
use shortener_domain::controls::{Controls, Routing};
use shortener_domain::timestamp::Timestamp;
use shortener::clicks::batch::VisitRecord;
use shortener_domain::visitors::DayKey;
use shortener_domain::visit::{
    PendingVisit, COUNTRY_CODE_CHARS, DEVICE_VALUES, IS_BOT_VALUES, REFERRER_HOST_MAX_CHARS,
};

/// The input is split at 0xFF bytes (never part of UTF-8) into a body and up to three
/// headers: User-Agent, Referer, CF-IPCountry. A missing part is an absent header.
fn parts(data: &[u8]) -> (&[u8], [Option<String>; 3]) {
    let mut split = data.split(|&b| b == 0xFF);
    let body = split.next().unwrap_or_default();
    let mut header = || split.next().map(|h| String::from_utf8_lossy(h).into_owned());
    (body, [header(), header(), header()])
}

fn check_max_clicks(n: i64) {
    assert!((1..=MAX_CLICKS_LIMIT).contains(&n), "max_clicks {n}");
}

fn check_expiry(at: Timestamp) {
    assert!((Timestamp::MIN..=Timestamp::MAX).contains(&at), "{at:?}");
    assert_eq!(Timestamp::parse_rfc3339(&at.to_rfc3339()), Ok(at), "{at:?}");
}

fn check_record(record: &VisitRecord) {
    if let Some(host) = &record.referrer_host {
        assert!(host.chars().count() <= REFERRER_HOST_MAX_CHARS, "{record:?}");
    }
    if let Some(country) = &record.country {
        assert_eq!(country.chars().count(), COUNTRY_CODE_CHARS, "{record:?}");
    }
    assert!(DEVICE_VALUES.contains(&record.device.as_str()), "{record:?}");
    assert!(IS_BOT_VALUES.contains(&record.bot), "{record:?}");
    let json = serde_json::to_string(record).expect("a visit record encodes");
    let back: VisitRecord = serde_json::from_str(&json).expect("a visit record decodes");
    assert_eq!(&back, record);
}

fuzz_target!(|data: &[u8]| {
    let (body, [user_agent, referer, country]) = parts(data);
    let policy = TargetPolicy { own_hosts: &["sho.rt"], blocked_hosts: &[], to_ascii: shortener_domain::link_request::ascii_only };
    let now = Timestamp::from_millis(1_795_290_489_000);

    if let Ok(new) = NewLink::from_json(body, &policy, now) {
        // Accepted controls are stored as JSON text and read back (and the routing part
        // through the cached rule): both must come back the same.
        let stored = new.controls.to_json();
        assert_eq!(Controls::from_json(&stored).as_ref(), Ok(&new.controls), "{stored}");
        let routing = new.controls.routing.to_json();
        assert_eq!(Routing::from_json(&routing).as_ref(), Ok(&new.controls.routing), "{routing}");
        if let Some(n) = new.settings.max_clicks {
            check_max_clicks(n);
        }
        if let Some(at) = new.settings.expires_at {
            check_expiry(at);
        }
    }
    if let Ok(patch) = LinkPatch::from_json(body, &policy, now) {
        if let Change::Set(n) = patch.max_clicks {
            check_max_clicks(n);
        }
        if let Change::Set(at) = patch.expires_at {
            check_expiry(at);
        }
    }
    // Any date the parser accepts lies in the range, and its echo reads back to the
    // same second.
    if let Some(Ok(at)) = std::str::from_utf8(body).ok().map(Timestamp::parse_rfc3339) {
        assert!((Timestamp::MIN..=Timestamp::MAX).contains(&at), "{at:?}");
        assert_eq!(Timestamp::parse_rfc3339(&at.to_rfc3339()), Ok(at.truncated_to_second()));
    }

    let pending = PendingVisit {
        key: "abc".into(),
        at: now.millis(),
        user_agent,
        // Any bytes a client's address header could hold: hashed, never stored.
        address: referer.clone(),
        referer,
        country,
        counted: false,
        via: None,
        qr: false,
        campaign: None,
    };
    let record = VisitRecord::new(pending, Some(&DayKey::from_bytes([7; 32])));
    check_record(&record);
});
