//! qdn-photos: presigned S3 POST uploads, job photo listings and a DynamoDB audit log, served as
//! one AWS Lambda function behind API Gateway. `main.rs` only wires [`app::App`] to the runtime.

pub mod app;
pub mod audit;
pub mod auth;
pub mod clients;
pub mod config;
pub mod endpoint;
pub mod error;
pub mod post_policy;
pub mod presign_get;
pub mod request;
pub mod response;
pub mod router;
pub mod routes;
pub mod sigv4;
pub mod storage;
pub mod utc;
pub mod validate;
