//! Link health checks: the safe fetch of a target (`probe.rs`), one check recorded
//! with its consequences (`check.rs`), the scheduled batch (`schedule.rs`) and the
//! signed notification of a link that died or recovered (`webhook.rs`). The rules
//! themselves (classification, states, schedule) are in `domain::health`.

mod check;
mod probe;
mod schedule;
mod webhook;

pub use check::{Checked, Checker};
pub use probe::MAX_REQUESTS_PER_CHECK;
pub use schedule::run_scheduled;
pub use webhook::{dispatch, Notice};

/// The signed delivery every webhook shares (`crate::events` sends through it too).
pub mod signed {
    pub(crate) use super::webhook::{deliver_to, send, worth_retrying};
}

/// The queue consumer's side of queued notices (`background::queues`).
pub mod queued {
    pub use super::webhook::consume;
}
