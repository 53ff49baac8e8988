//! Click recording, end to end: the per-isolate window that coalesces visits, the
//! optional queue transport and its consumer, the D1 write, and the one wire format
//! they share (`batch`). Click-limited links use the same record and writer.

pub mod analytics;
pub mod batch;
pub mod events;
pub mod maintenance;
pub mod queue;
pub mod visitors;
pub mod window;
pub mod writer;

pub use queue::consume;
pub use window::{collect, flush_after_window};
pub use writer::{Admission, ClickWriter};
