//! The optional Workers Analytics Engine dataset (`CLICK_EVENTS`): every counted click
//! as one raw data point, for operators who want raw event queries through the
//! Analytics Engine SQL API (docs/scaling.md). Nothing in the service reads it back,
//! and without the binding nothing is written.

use worker::{AnalyticsEngineDataPointBuilder, Env};

use super::batch::VisitRecord;
use crate::config::CLICK_EVENTS_BINDING;
use crate::log::LogLine;

/// Writes one click: index1 the link's key; blob1 the referrer host ("" for none),
/// blob2 the country ("" when unknown), blob3 the device; double1 1 for a bot. One
/// data point per request, well under the platform's 25 per invocation.
pub fn record(env: &Env, visit: &VisitRecord) {
    let Ok(dataset) = env.analytics_engine(CLICK_EVENTS_BINDING) else {
        return;
    };
    let written = AnalyticsEngineDataPointBuilder::new()
        .indexes([visit.key.as_str()])
        .add_blob(visit.referrer_host.as_deref().unwrap_or_default())
        .add_blob(visit.country.as_deref().unwrap_or_default())
        .add_blob(visit.device.as_str())
        .add_double(f64::from(visit.bot))
        .write_to(&dataset);
    if let Err(e) = written {
        LogLine::error("clicks.event")
            .message("click event was not written")
            .key(&visit.key)
            .cause(e)
            .emit();
    }
}
