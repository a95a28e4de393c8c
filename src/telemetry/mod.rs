//! Logs and metrics, shared by every role.

pub mod logging;
pub mod metrics;
