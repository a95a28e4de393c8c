//! The photo pipeline: the same binary as the API, run as a second function on the bucket's
//! `s3:ObjectCreated:*` events for `jobs/` (see `main.rs` for how the role is chosen).

pub mod photo_metadata;
pub mod s3_event;
#[cfg(any(test, feature = "test-util"))]
pub mod test_images;
pub mod thumbnail;
