//! The in-isolate tier in front of KV: a bounded map of key -> redirect rule. An entry
//! lives at most `KV_CACHE_TTL_SECONDS`, and KV's own read cache is that long too, so
//! the two together keep within the staleness bound documented for KV alone (see
//! `config.rs`). A deactivation or edit handled by this isolate clears the entry at
//! once; other isolates see it when their entry expires.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::config::{CACHE_MISS_WINDOW_SECONDS, KV_CACHE_TTL_SECONDS};
use crate::domain::link::RedirectRule;
use crate::domain::timestamp::Timestamp;

/// Entries kept per isolate: about a few MB at most, whatever the traffic.
const MAX_ENTRIES: usize = 10_000;
const TTL_MS: i64 = KV_CACHE_TTL_SECONDS as i64 * 1000;

const MISS_WINDOW_MS: i64 = CACHE_MISS_WINDOW_SECONDS as i64 * 1000;

thread_local! {
    static RULES: RefCell<HashMap<String, (RedirectRule, Timestamp)>> = RefCell::new(HashMap::new());
    /// Cache misses per key: how many, and when the window of the first one ends.
    static MISSES: RefCell<HashMap<String, (u32, Timestamp)>> = RefCell::new(HashMap::new());
}

/// Records a cache miss of `key` that D1 answered, and tells whether the rule should now
/// be cached: on the `needed`-th miss within the window. The admission keeps links seen
/// once (most links) from costing a KV write and a re-check read each; a link visited
/// again is cached on its next miss. Bounded like the rules: a full map starts over.
pub fn admit(key: &str, now: Timestamp, needed: u32) -> bool {
    if needed <= 1 {
        return true;
    }
    MISSES.with(|misses| {
        let mut misses = misses.borrow_mut();
        if misses.len() >= MAX_ENTRIES && !misses.contains_key(key) {
            misses.retain(|_, (_, until)| now < *until);
            if misses.len() >= MAX_ENTRIES {
                misses.clear();
            }
        }
        let until = Timestamp::from_millis(now.millis() + MISS_WINDOW_MS);
        let entry = misses.entry(key.to_string()).or_insert((0, until));
        if now >= entry.1 {
            *entry = (0, until);
        }
        entry.0 += 1;
        let admitted = entry.0 >= needed;
        if admitted {
            misses.remove(key);
        }
        admitted
    })
}

/// The rule for `key` if this isolate read it less than the TTL ago.
pub fn get(key: &str, now: Timestamp) -> Option<RedirectRule> {
    RULES.with(|rules| {
        let rules = rules.borrow();
        let (rule, fresh_until) = rules.get(key)?;
        (now < *fresh_until).then(|| rule.clone())
    })
}

/// Remembers a rule just read from KV or D1.
pub fn put(key: &str, rule: &RedirectRule, now: Timestamp) {
    RULES.with(|rules| {
        let mut rules = rules.borrow_mut();
        if rules.len() >= MAX_ENTRIES && !rules.contains_key(key) {
            rules.retain(|_, (_, fresh_until)| now < *fresh_until);
            // Still full of live entries: start over rather than track recency.
            if rules.len() >= MAX_ENTRIES {
                rules.clear();
            }
        }
        let fresh_until = Timestamp::from_millis(now.millis() + TTL_MS);
        rules.insert(key.to_string(), (rule.clone(), fresh_until));
    });
}

/// Forgets `key`: its link was deactivated or changed here.
pub fn forget(key: &str) {
    RULES.with(|rules| rules.borrow_mut().remove(key));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(target: &str) -> RedirectRule {
        RedirectRule {
            target: target.into(),
            version: 1,
            status: None,
            forward_query: true,
            expires_at: None,
            metered: false,
            controls: Default::default(),
            dead: None,
        }
    }

    #[test]
    fn entries_expire_after_the_kv_cache_ttl_and_can_be_forgotten() {
        let t0 = Timestamp::from_millis(1_000_000);
        put("mem-a", &rule("https://a.example/"), t0);
        assert_eq!(get("mem-a", t0).unwrap().target, "https://a.example/");
        let later = Timestamp::from_millis(t0.millis() + TTL_MS - 1);
        assert!(get("mem-a", later).is_some());
        assert!(get("mem-a", Timestamp::from_millis(t0.millis() + TTL_MS)).is_none());
        put("mem-b", &rule("https://b.example/"), t0);
        forget("mem-b");
        assert!(get("mem-b", t0).is_none());
    }

    #[test]
    fn a_rule_is_admitted_on_its_nth_miss_within_the_window() {
        let t0 = Timestamp::from_millis(5_000_000);
        assert!(admit("adm-one", t0, 1));
        assert!(!admit("adm-two", t0, 2));
        assert!(admit("adm-two", t0, 2));
        // Admitted keys start counting again (their cache entry may expire later).
        assert!(!admit("adm-two", t0, 2));
        // A miss after the window counts as a first one.
        assert!(!admit("adm-late", t0, 2));
        let later = Timestamp::from_millis(t0.millis() + MISS_WINDOW_MS);
        assert!(!admit("adm-late", later, 2));
        assert!(admit("adm-late", later, 2));
        assert!(!admit("adm-three", t0, 3));
        assert!(!admit("adm-three", t0, 3));
        assert!(admit("adm-three", t0, 3));
    }

    #[test]
    fn the_miss_map_stays_bounded() {
        let t0 = Timestamp::from_millis(0);
        for i in 0..(MAX_ENTRIES + 10) {
            admit(&format!("miss-{i}"), t0, 2);
        }
        assert!(MISSES.with(|m| m.borrow().len()) <= MAX_ENTRIES);
    }

    #[test]
    fn the_map_stays_bounded() {
        let t0 = Timestamp::from_millis(0);
        for i in 0..(MAX_ENTRIES + 10) {
            put(&format!("bound-{i}"), &rule("https://a.example/"), t0);
        }
        assert!(RULES.with(|r| r.borrow().len()) <= MAX_ENTRIES);
        assert!(get(&format!("bound-{}", MAX_ENTRIES + 9), t0).is_some());
    }
}
