//! The names every layer speaks: jobs, upload keys, image types, callers. No I/O, no HTTP, no AWS.

pub mod caller;
pub mod content_hash;
pub mod image_type;
pub mod job;
