//! Which analytics shard holds a link's aggregates: a stable hash of its key, so every
//! writer and reader agrees without asking anyone.

/// Shards an instance may have (`ANALYTICS_SHARDS`): bindings `ANALYTICS`,
/// `ANALYTICS_1`, ... `ANALYTICS_63`.
pub const MAX_SHARDS: u32 = 64;

/// The shard of `key` among `shards` (FNV-1a, 64-bit: stable across builds and
/// platforms, unlike std's randomly seeded hasher).
pub fn shard_of(key: &str, shards: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % u64::from(shards.clamp(1, MAX_SHARDS))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shard_holds_everything() {
        for key in ["abc", "zzzzzzzz", "my-link_2"] {
            assert_eq!(shard_of(key, 1), 0);
            assert_eq!(shard_of(key, 0), 0);
        }
    }

    #[test]
    fn a_key_always_lands_on_the_same_shard() {
        // Fixed values: a change here would move every link's history.
        assert_eq!(shard_of("abc", 4), shard_of("abc", 4));
        assert_eq!(shard_of("", 7), (0xcbf2_9ce4_8422_2325u64 % 7) as u32);
    }

    #[test]
    fn keys_spread_over_the_shards() {
        let mut counts = [0u32; 8];
        for i in 0..8000 {
            counts[shard_of(&format!("key{i}"), 8) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&n| (800..1200).contains(&n)),
            "{counts:?}"
        );
    }

    #[test]
    fn more_shards_than_allowed_are_clamped() {
        assert!(shard_of("abc", 1000) < MAX_SHARDS);
    }
}
