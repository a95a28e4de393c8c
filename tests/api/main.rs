//! The integration suite, one binary: the real handler against the local stack (Garage for S3,
//! moto for DynamoDB), started by `make test`. Pure properties of the request path run here too.

mod lambda;
mod support;

mod access;
mod audit_log;
mod batch_grants;
mod cli;
mod completions;
mod concurrency;
mod dashboard;
mod deployed;
mod errors;
mod events;
mod export;
mod fair_use;
mod import;
mod integrity;
mod logs;
mod ordering;
mod outages;
mod photos;
mod pipeline;
mod properties;
mod put_uploads;
mod removal;
mod runtime_logs;
mod uploads;
