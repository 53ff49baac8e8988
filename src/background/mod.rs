//! Work that no visitor waits for: the queue consumers, dispatched by the delivering
//! queue's name (`queues.rs`), and the Cron Trigger's upkeep, every scheduled job
//! called from one place (`upkeep.rs`). `src/lib.rs`'s `queue` and `scheduled` entries
//! only hand over to these.

pub mod queues;
pub mod upkeep;
