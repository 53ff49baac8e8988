//! The current time, from the runtime: the one place that asks it.

use worker::Date;

use crate::domain::timestamp::Timestamp;

/// Now. `Date::now()` is whole milliseconds, so the cast loses nothing.
pub fn now() -> Timestamp {
    Timestamp::from_millis(Date::now().as_millis() as i64)
}
