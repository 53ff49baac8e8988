//! Clicks folded over a period into one row: a link's month (the Cron job folds its old
//! days into it), and the same shape for any scope. Clicks and bots are summed, the
//! split by dimension is summed per value whatever the dimension (so a dimension added
//! later passes through unchanged), and the visitor sketches are united.

use std::collections::BTreeMap;

use crate::stats::OTHER_VALUE;
use crate::visitors::{MalformedSketch, Sketch};

/// Clicks of a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollup {
    pub clicks: i64,
    pub bots: i64,
    /// `"<dimension prefix>:<value>"` to clicks, as `daily.dims` stores it.
    pub dims: BTreeMap<String, i64>,
    pub visitors: Sketch,
}

/// A stored row whose dims or sketch cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedRollup(pub String);

impl std::fmt::Display for MalformedRollup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a stored rollup is malformed: {}", self.0)
    }
}

impl From<MalformedSketch> for MalformedRollup {
    fn from(e: MalformedSketch) -> MalformedRollup {
        MalformedRollup(e.to_string())
    }
}

impl Rollup {
    /// A rollup from a stored row's columns.
    pub fn parse_stored(
        clicks: i64,
        bots: i64,
        dims: &str,
        visitors: &str,
    ) -> Result<Rollup, MalformedRollup> {
        Ok(Rollup {
            clicks,
            bots,
            dims: serde_json::from_str(dims).map_err(|e| MalformedRollup(format!("dims: {e}")))?,
            visitors: Sketch::parse_stored(visitors)?,
        })
    }

    /// The stored form of the dims.
    pub fn dims_stored(&self) -> String {
        serde_json::to_string(&self.dims).unwrap_or_else(|_| "{}".to_string())
    }

    /// Adds another period's clicks: sums, and the union of visitors.
    pub fn add(&mut self, other: &Rollup) {
        self.clicks += other.clicks;
        self.bots += other.bots;
        for (name, clicks) in &other.dims {
            *self.dims.entry(name.clone()).or_default() += clicks;
        }
        self.visitors.merge(&other.visitors);
    }

    /// Keeps at most `per_dimension` values of each dimension, the busiest first (ties
    /// by name); the clicks of the rest count under that dimension's `~other`. Bounds a
    /// row's size as the daily rows' cap does.
    pub fn cap(&mut self, per_dimension: usize) {
        let mut by_dim: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
        for (name, clicks) in std::mem::take(&mut self.dims) {
            let prefix = name.split_once(':').map_or("", |(p, _)| p).to_string();
            by_dim.entry(prefix).or_default().push((name, clicks));
        }
        for (prefix, mut values) in by_dim {
            let other = format!("{prefix}:{OTHER_VALUE}");
            // The overflow bucket is never one of the kept values: it only grows.
            values.sort_by(|(a, x), (b, y)| {
                (a == &other)
                    .cmp(&(b == &other))
                    .then(y.cmp(x))
                    .then_with(|| a.cmp(b))
            });
            for (i, (name, clicks)) in values.into_iter().enumerate() {
                let name = if i < per_dimension && name != other {
                    name
                } else {
                    other.clone()
                };
                *self.dims.entry(name).or_default() += clicks;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visitors::Register;

    fn day(clicks: i64, dims: &[(&str, i64)], registers: &[(u16, u8)]) -> Rollup {
        let mut visitors = Sketch::default();
        for &(index, rank) in registers {
            visitors.insert(Register { index, rank });
        }
        Rollup {
            clicks,
            bots: 1,
            dims: dims.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            visitors,
        }
    }

    #[test]
    fn adding_days_sums_clicks_and_every_dimension_and_unites_visitors() {
        let mut month = day(3, &[("r:a.example", 2), ("c:DE", 3)], &[(1, 2), (7, 1)]);
        month.add(&day(
            4,
            &[("r:a.example", 1), ("s:qr", 4), ("m:launch", 4)],
            &[(1, 5), (9, 1)],
        ));
        assert_eq!((month.clicks, month.bots), (7, 2));
        assert_eq!(month.dims.get("r:a.example"), Some(&3));
        // Prefixes the fold does not know pass through.
        assert_eq!(month.dims.get("s:qr"), Some(&4));
        assert_eq!(month.dims.get("m:launch"), Some(&4));
        assert_eq!(
            month.visitors,
            day(0, &[], &[(1, 5), (7, 1), (9, 1)]).visitors
        );
    }

    #[test]
    fn capping_keeps_the_busiest_values_of_each_dimension_and_moves_the_rest_to_other() {
        let mut r = day(
            0,
            &[
                ("r:a", 5),
                ("r:b", 1),
                ("r:c", 3),
                ("r:~other", 2),
                ("c:DE", 1),
            ],
            &[],
        );
        r.cap(2);
        let dims: Vec<(&str, i64)> = r.dims.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        assert_eq!(dims, [("c:DE", 1), ("r:a", 5), ("r:c", 3), ("r:~other", 3)]);
    }

    #[test]
    fn a_stored_row_survives_parsing_and_bad_text_is_refused() {
        let r = Rollup::parse_stored(2, 0, r#"{"r:":2}"#, r#"{"5":1}"#).unwrap();
        assert_eq!(r.dims_stored(), r#"{"r:":2}"#);
        assert_eq!(r.visitors.to_stored(), r#"{"5":1}"#);
        assert!(Rollup::parse_stored(0, 0, "[", "{}").is_err());
        assert!(Rollup::parse_stored(0, 0, "{}", r#"{"s1":1}"#).is_err());
    }
}
