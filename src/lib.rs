//! qdn-photos: presigned S3 POST uploads, job photo listings and a DynamoDB audit log, served as
//! one AWS Lambda function behind API Gateway. `main.rs` only wires [`app::App`] to the runtime, or
//! runs an operator command ([`cli`]).
//!
//! Imports run one way: `app` → {`auth`, `router`} → `routes` → `context` → {`signing`, `storage`,
//! `audit`, `photo_index`, `tokens`}, and the signing itself is the I/O-free `s3-presign` crate.
//! `cli` (the operator commands of the same binary) and `bucket_check` sit beside the request path.

pub mod app;
pub mod audit;
pub mod auth;
pub mod bucket_check;
pub mod cli;
pub mod clients;
pub mod config;
pub mod context;
pub mod cors;
pub mod error;
pub mod event;
pub mod image_type;
pub mod job;
pub mod logging;
pub mod metrics;
pub mod photo_index;
pub mod pipeline;
pub mod request;
pub mod response;
pub mod router;
pub mod routes;
pub mod signing;
pub mod storage;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;
pub mod tokens;
