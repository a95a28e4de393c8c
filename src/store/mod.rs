//! S3, DynamoDB and the export queue behind typed calls. Knows the domain's names and nothing of HTTP: every
//! failure is a [`StoreError`](error::StoreError), which each role turns into its own answer.

pub mod audit;
pub mod clients;
pub mod error;
pub mod export_queue;
pub mod index;
pub mod keys;
pub mod quota;
pub mod records;
pub mod storage;
pub mod tokens;
