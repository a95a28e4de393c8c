//! qdn-photos: presigned S3 uploads, job photo listings and a DynamoDB audit log, served as one
//! AWS Lambda binary in three roles (the HTTP API, the S3-event photo pipeline and the evidence
//! exports), plus the operator commands. `main.rs` only picks the role. `docs/layout.md` maps
//! the tree.
//!
//! Imports run one way: `domain` and `telemetry` import nothing of the crate; `config` only
//! `telemetry`; `store` → `domain`; `api` and `pipeline` → `store`, `domain`, `config`,
//! `telemetry`, never each other; `evidence` (the export archive, its writer and its check) →
//! `store`, `domain`; `ops` → all of those; `exports` → `evidence`, `store`, `domain`, `config`;
//! `dev` (feature `dev`) → anything.
//! The signing itself is the I/O-free `s3-presign` crate.

pub mod api;
pub mod config;
#[cfg(any(test, feature = "dev"))]
pub mod dev;
pub mod domain;
pub mod evidence;
pub mod exports;
pub mod ops;
pub mod pipeline;
pub mod store;
pub mod telemetry;
