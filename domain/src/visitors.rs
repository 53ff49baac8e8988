//! Unique visitors without identifiers: a visitor is a keyed hash of (client address,
//! User-Agent, link) under a key that lives one UTC day, counted in a HyperLogLog
//! sketch. Only a sketch entry (25 bits of the hash and a rank) leaves the isolate; the
//! address, the User-Agent and the hash never do, and once the day's key is deleted no
//! one can compute a visitor's entry again.
//!
//! Why written here and not taken from a crate: the sketch is merged inside D1's upsert
//! of the daily row (a per-entry `MAX` over a JSON object), so that a flush stays one row
//! write and concurrent isolates cannot lose each other's visitors; the crates on
//! crates.io keep their registers private and hash the items themselves. The worker needs
//! a keyed entry and an estimate from what SQL returns ([`Tally`]); [`Sketch`] is the
//! same register set in memory, for the tests and for merging outside SQL.
//!
//! Two forms, as in HyperLogLog++: sparse (distinct 25-bit entries, counted by linear
//! counting over 2^25 indices: exact in practice up to [`SPARSE_MAX`]) and dense (4,096
//! registers, estimated with Ertl's improved raw estimator, "New cardinality estimation
//! algorithms for HyperLogLog sketches", 2017: unbiased over the whole range without
//! empirical tables). Standard error of the dense form: 1.04 / sqrt(4,096) = 1.6%
//! ([`RELATIVE_ERROR`]).

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::random::RandomUnavailable;

/// Index bits: 2^12 = 4,096 registers.
pub const PRECISION: u32 = 12;
/// Registers in a sketch.
pub const REGISTERS: usize = 1 << PRECISION;
/// The largest rank a register holds: the hash's remaining 52 bits all zero, plus one.
pub const MAX_RANK: u8 = (64 - PRECISION + 1) as u8;
/// The standard error of an estimate, 1.04 / sqrt(REGISTERS). Three times it (4.9%)
/// bounds an estimate of a large count in all but about 3 in 1,000 cases; counts up to a
/// few hundred are within one or two of exact (tested below).
pub const RELATIVE_ERROR: f64 = 0.01625;
/// Index bits of the sparse form's entries: 2^25 indices, so small counts are exact.
pub const SPARSE_PRECISION: u32 = 25;
/// The sparse form is kept while it holds at most this many entries; one more and the
/// sketch turns dense. Stored, a sparse entry takes about 14 bytes and a dense register
/// about 9, so at this size both forms are about the same.
pub const SPARSE_MAX: usize = 2_048;

/// The secret of one UTC day: 32 random bytes, never derived from anything that
/// outlives the day (so it cannot be made again once deleted).
#[derive(Clone, PartialEq, Eq)]
pub struct DayKey([u8; 32]);

impl std::fmt::Debug for DayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DayKey(..)")
    }
}

/// A stored day key that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedDayKey;

impl std::fmt::Display for MalformedDayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a day key must be 64 hex digits")
    }
}

impl DayKey {
    /// A new key from the platform CSPRNG.
    pub fn generate() -> Result<DayKey, RandomUnavailable> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| RandomUnavailable)?;
        Ok(DayKey(bytes))
    }

    /// A key from fixed bytes (tests, and a key read back from storage).
    pub const fn from_bytes(bytes: [u8; 32]) -> DayKey {
        DayKey(bytes)
    }

    /// The key as stored: 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A key read back from storage.
    pub fn parse_hex(raw: &str) -> Result<DayKey, MalformedDayKey> {
        let raw = raw.as_bytes();
        if raw.len() != 64 {
            return Err(MalformedDayKey);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(raw.chunks(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| MalformedDayKey)?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| MalformedDayKey)?;
        }
        Ok(DayKey(bytes))
    }
}

/// What one visit adds to a sketch: the top [`SPARSE_PRECISION`] bits of the visitor's
/// hash and the rank of the rest (one more than its leading zeros). This is the sparse
/// form's entry; [`Entry::register`] is the dense register it falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub index: u32,
    pub rank: u8,
}

/// One register of the dense form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Register {
    pub index: u16,
    pub rank: u8,
}

/// Bits of the sparse index below the dense index.
const BELOW: u32 = SPARSE_PRECISION - PRECISION;

impl Entry {
    /// The entry of a 64-bit hash.
    pub fn of_hash(hash: u64) -> Entry {
        let index = (hash >> (64 - SPARSE_PRECISION)) as u32;
        let rest = hash << SPARSE_PRECISION;
        let rank = (rest.leading_zeros().min(64 - SPARSE_PRECISION) + 1) as u8;
        Entry { index, rank }
    }

    /// Index and rank in one integer, `index * 64 + rank`, as a click record carries it.
    pub fn packed(self) -> u64 {
        u64::from(self.index) << 6 | u64::from(self.rank)
    }

    /// The dense register this entry falls in, with the rank the whole hash would give
    /// it there: the same as [`Register::of_hash`] of the hash. The SQL that turns a
    /// stored sparse sketch dense (`clicks::analytics`) spells this out.
    pub fn register(self) -> Register {
        let index = (self.index >> BELOW) as u16;
        let low = self.index & ((1 << BELOW) - 1);
        let rank = if low == 0 {
            BELOW as u8 + self.rank
        } else {
            (low.leading_zeros() - (32 - BELOW) + 1) as u8
        };
        Register { index, rank }
    }
}

impl Register {
    /// The register of a 64-bit hash: the top [`PRECISION`] bits pick the register, the
    /// rank is one more than the number of leading zeros of the rest.
    pub fn of_hash(hash: u64) -> Register {
        let index = (hash >> (64 - PRECISION)) as u16;
        let rest = hash << PRECISION;
        let rank = (rest.leading_zeros().min(64 - PRECISION) + 1) as u8;
        Register { index, rank }
    }
}

/// The sketch entry of a visitor of `link` on the day of `key`. Fields are separated by
/// a zero byte, which none of them can hold in a header, so two different triples never
/// hash the same input.
pub fn visitor_entry(key: &DayKey, address: &str, user_agent: &str, link: &str) -> Entry {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key.0) else {
        // HMAC takes a key of any length; this branch cannot be reached.
        return Entry { index: 0, rank: 1 };
    };
    for (i, part) in [address, user_agent, link].into_iter().enumerate() {
        if i > 0 {
            mac.update(&[0]);
        }
        mac.update(part.as_bytes());
    }
    let digest = mac.finalize().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    Entry::of_hash(u64::from_be_bytes(first))
}

/// What a stored sketch (or the union of several) tells the estimate: the number of
/// distinct sparse entries, or how many dense registers hold each rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tally {
    Sparse(u32),
    Dense(Vec<(u8, u32)>),
}

impl Tally {
    /// The estimated number of distinct visitors.
    pub fn estimate(&self) -> u64 {
        match self {
            Tally::Sparse(entries) => linear_count(*entries),
            Tally::Dense(histogram) => estimate(histogram),
        }
    }
}

/// Linear counting over the 2^25 sparse indices: `m ln(m / empty)`. Two visitors share
/// an index with probability about n² / 2^26 (under 1 in 16 at 2,048), and the formula
/// already expects that, so the answer is the exact count in practice.
fn linear_count(entries: u32) -> u64 {
    let m = (1u64 << SPARSE_PRECISION) as f64;
    let empty = (m - f64::from(entries)).max(1.0);
    (m * (m / empty).ln()).round() as u64
}

/// The estimated number of distinct visitors from a dense register histogram: how many
/// of the [`REGISTERS`] registers hold each rank (`(rank, registers)` pairs; rank 0, the
/// empty registers, may be left out: it is what the others leave).
pub fn estimate(histogram: &[(u8, u32)]) -> u64 {
    let q = (64 - PRECISION) as usize;
    let m = REGISTERS as f64;
    let mut counts = vec![0f64; q + 2];
    let mut filled = 0f64;
    for &(rank, registers) in histogram {
        if rank == 0 {
            continue;
        }
        let slot = usize::from(rank).min(q + 1);
        if let Some(c) = counts.get_mut(slot) {
            *c += f64::from(registers);
        }
        filled += f64::from(registers);
    }
    if filled == 0.0 {
        return 0;
    }
    if let Some(c) = counts.get_mut(0) {
        *c = (m - filled).max(0.0);
    }
    let top = counts.get(q + 1).copied().unwrap_or(0.0);
    let mut z = m * tau(1.0 - top / m);
    for k in (1..=q).rev() {
        z = 0.5 * (z + counts.get(k).copied().unwrap_or(0.0));
    }
    z += m * sigma(counts.first().copied().unwrap_or(0.0) / m);
    let alpha_inf = 1.0 / (2.0 * std::f64::consts::LN_2);
    (alpha_inf * m * m / z).round() as u64
}

/// Ertl's σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k-1), for the empty registers' share.
fn sigma(x: f64) -> f64 {
    if x >= 1.0 {
        return f64::INFINITY;
    }
    let (mut x, mut y, mut z) = (x, 1.0, x);
    loop {
        let previous = z;
        x *= x;
        z += x * y;
        y += y;
        if z == previous {
            return z;
        }
    }
}

/// Ertl's τ(x) = (1 - x - Σ_{k≥1} (1 - x^(2^-k))^2 2^-k) / 3, for the full registers.
fn tau(x: f64) -> f64 {
    if x <= 0.0 || x >= 1.0 {
        return 0.0;
    }
    let (mut x, mut y, mut z) = (x, 1.0, 1.0 - x);
    loop {
        let previous = z;
        x = x.sqrt();
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == previous {
            return z / 3.0;
        }
    }
}

/// A sketch in memory, the same register set the daily row stores: sparse (the
/// distinct entries) while it holds at most [`SPARSE_MAX`], dense (one rank per register)
/// after. Merging two sketches is their union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sketch {
    Sparse(BTreeMap<u32, u8>),
    Dense(Vec<u8>),
}

impl Default for Sketch {
    fn default() -> Sketch {
        Sketch::Sparse(BTreeMap::new())
    }
}

impl Sketch {
    /// Counts one visit: an entry keeps the larger rank.
    pub fn insert(&mut self, entry: Entry) {
        match self {
            Sketch::Sparse(map) => {
                let rank = map.entry(entry.index).or_insert(0);
                *rank = (*rank).max(entry.rank);
                if map.len() > SPARSE_MAX {
                    self.densify();
                }
            }
            Sketch::Dense(ranks) => raise(ranks, entry.register()),
        }
    }

    fn densify(&mut self) {
        if let Sketch::Sparse(map) = self {
            let mut ranks = vec![0u8; REGISTERS];
            for (&index, &rank) in map.iter() {
                raise(&mut ranks, Entry { index, rank }.register());
            }
            *self = Sketch::Dense(ranks);
        }
    }

    /// The union of two sketches. A visitor counted in both is counted once.
    pub fn merge(&mut self, other: &Sketch) {
        match other {
            Sketch::Sparse(map) => {
                for (&index, &rank) in map {
                    self.insert(Entry { index, rank });
                }
            }
            Sketch::Dense(theirs) => {
                self.densify();
                if let Sketch::Dense(ours) = self {
                    for (mine, &rank) in ours.iter_mut().zip(theirs) {
                        *mine = (*mine).max(rank);
                    }
                }
            }
        }
    }

    /// What the estimate needs of this sketch.
    pub fn tally(&self) -> Tally {
        match self {
            Sketch::Sparse(map) => Tally::Sparse(map.len() as u32),
            Sketch::Dense(ranks) => {
                let mut by_rank: BTreeMap<u8, u32> = BTreeMap::new();
                for &rank in ranks.iter().filter(|&&r| r > 0) {
                    *by_rank.entry(rank).or_default() += 1;
                }
                Tally::Dense(by_rank.into_iter().collect())
            }
        }
    }

    /// The estimated number of distinct visitors counted.
    pub fn estimate(&self) -> u64 {
        self.tally().estimate()
    }
}

fn raise(ranks: &mut [u8], register: Register) {
    if let Some(slot) = ranks.get_mut(usize::from(register.index)) {
        *slot = (*slot).max(register.rank);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn key(seed: u8) -> DayKey {
        DayKey::from_bytes([seed; 32])
    }

    /// Visitor `i` of a day: an address and a User-Agent from a small set, as real
    /// traffic repeats them.
    fn visitor(i: u32) -> (String, String) {
        (
            format!(
                "{}.{}.{}.{}",
                10 + i % 200,
                (i / 200) % 256,
                (i / 51_200) % 256,
                i % 7
            ),
            format!("Mozilla/5.0 (model {})", i % 13),
        )
    }

    fn sketch_of(key: &DayKey, visitors: std::ops::Range<u32>, link: &str) -> Sketch {
        let mut sketch = Sketch::default();
        for i in visitors {
            let (address, agent) = visitor(i);
            sketch.insert(visitor_entry(key, &address, &agent, link));
        }
        sketch
    }

    fn relative_error(estimate: u64, exact: u64) -> f64 {
        (estimate as f64 - exact as f64).abs() / exact as f64
    }

    #[test]
    fn an_empty_sketch_counts_nobody() {
        assert_eq!(Sketch::default().estimate(), 0);
        assert_eq!(estimate(&[]), 0);
    }

    #[test]
    fn a_visitor_who_comes_again_is_counted_once() {
        let mut sketch = Sketch::default();
        for _ in 0..1000 {
            sketch.insert(visitor_entry(&key(1), "192.0.2.1", "curl", "abc"));
        }
        assert_eq!(sketch.estimate(), 1);
    }

    #[test]
    fn the_same_visitor_of_another_link_or_day_falls_elsewhere() {
        let here = visitor_entry(&key(1), "192.0.2.1", "ua", "abc");
        assert_ne!(here, visitor_entry(&key(2), "192.0.2.1", "ua", "abc"));
        assert_ne!(here, visitor_entry(&key(1), "192.0.2.1", "ua", "abd"));
        // The separator keeps ("a", "bc") and ("ab", "c") apart.
        assert_ne!(
            visitor_entry(&key(1), "a", "bc", "x"),
            visitor_entry(&key(1), "ab", "c", "x")
        );
    }

    #[test]
    fn small_counts_are_exact() {
        // Every count up to the sparse form's limit, under five day keys.
        for seed in 0..5u8 {
            let mut sketch = Sketch::default();
            for n in 1..=SPARSE_MAX as u32 {
                let (address, agent) = visitor(n + 7919 * u32::from(seed));
                sketch.insert(visitor_entry(&key(seed), &address, &agent, "abc"));
                assert_eq!(sketch.estimate(), u64::from(n), "key {seed}");
            }
            assert!(matches!(sketch, Sketch::Sparse(_)));
        }
    }

    #[test]
    fn a_large_count_is_within_three_standard_errors_and_the_mean_within_one() {
        // 120,000 distinct visitors (checked distinct below), under eight day keys.
        let exact = 120_000u32;
        let distinct: HashSet<(String, String)> = (0..exact).map(visitor).collect();
        assert_eq!(distinct.len(), exact as usize);
        let mut total = 0.0;
        for seed in 0..8 {
            let error = relative_error(
                sketch_of(&key(seed), 0..exact, "abc").estimate(),
                u64::from(exact),
            );
            assert!(error <= 3.0 * RELATIVE_ERROR, "key {seed}: {error}");
            total += error;
        }
        assert!(total / 8.0 <= RELATIVE_ERROR, "mean {}", total / 8.0);
    }

    #[test]
    fn the_estimate_is_unbiased_across_the_range_where_the_forms_meet() {
        // Around 2.5 x REGISTERS the classic estimator switches to linear counting and
        // is off by several percent; this one is not.
        for exact in [1_000u32, 5_000, 10_000, 20_000, 40_000] {
            let estimate = sketch_of(&key(3), 0..exact, "abc").estimate();
            let error = relative_error(estimate, u64::from(exact));
            assert!(error <= 3.0 * RELATIVE_ERROR, "{exact}: {estimate}");
        }
    }

    #[test]
    fn merge_is_the_union_and_overlap_is_counted_once() {
        let k = key(9);
        let mut monday = sketch_of(&k, 0..30_000, "abc");
        let tuesday = sketch_of(&k, 20_000..50_000, "abc");
        let union = sketch_of(&k, 0..50_000, "abc");
        monday.merge(&tuesday);
        assert_eq!(monday, union);
        assert!(relative_error(monday.estimate(), 50_000) <= 3.0 * RELATIVE_ERROR);
        // Merging is commutative and idempotent.
        let mut other = tuesday.clone();
        other.merge(&sketch_of(&k, 0..30_000, "abc"));
        other.merge(&tuesday);
        assert_eq!(other, monday);
    }

    #[test]
    fn a_small_sketch_stays_sparse_and_merging_into_a_dense_one_agrees() {
        let k = key(4);
        let small = sketch_of(&k, 0..100, "abc");
        assert!(matches!(small, Sketch::Sparse(_)));
        let big = sketch_of(&k, 0..10_000, "abc");
        assert!(matches!(big, Sketch::Dense(_)));
        let mut sparse_then_big = small.clone();
        sparse_then_big.merge(&big);
        let mut big_then_sparse = big.clone();
        big_then_sparse.merge(&small);
        assert_eq!(sparse_then_big, big_then_sparse);
        assert_eq!(sparse_then_big, big);
        // Two sparse halves whose union passes the limit turn dense, as one would.
        let mut first = sketch_of(&k, 0..1_500, "abc");
        first.merge(&sketch_of(&k, 1_500..3_000, "abc"));
        assert_eq!(first, sketch_of(&k, 0..3_000, "abc"));
    }

    #[test]
    fn an_entry_falls_in_the_register_its_whole_hash_would() {
        for hash in [
            0u64,
            1,
            u64::MAX,
            1 << 51,
            1 << 38,
            1 << 39,
            0x0123_4567_89ab_cdef,
            0xfff0_0000_0000_0001,
        ] {
            assert_eq!(
                Entry::of_hash(hash).register(),
                Register::of_hash(hash),
                "{hash:#x}"
            );
        }
        let zero = Register::of_hash(0);
        assert_eq!((zero.index, zero.rank), (0, MAX_RANK));
        assert_eq!(Register::of_hash(1 << 51).rank, 1);
        assert_eq!(Register::of_hash(1).rank, 52);
        let e = Entry::of_hash(u64::MAX);
        assert_eq!((e.index, e.rank), ((1 << 25) - 1, 1));
        assert_eq!(e.packed(), ((1u64 << 25) - 1) * 64 + 1);
        assert!(Entry::of_hash(0).rank < 64);
    }

    #[test]
    fn a_day_key_survives_its_stored_form_and_odd_text_is_refused() {
        let k = DayKey::from_bytes([0xab; 32]);
        assert_eq!(DayKey::parse_hex(&k.to_hex()), Ok(k.clone()));
        assert_eq!(k.to_hex().len(), 64);
        for bad in ["", "ab", &"zz".repeat(32), &"é".repeat(32), &"a".repeat(65)] {
            assert_eq!(DayKey::parse_hex(bad), Err(MalformedDayKey), "{bad:?}");
        }
        assert_ne!(DayKey::generate().ok(), DayKey::generate().ok());
        assert_eq!(format!("{k:?}"), "DayKey(..)");
    }
}
