//! Code for tests, benches, fuzzing and `make dev` only, behind the `dev` feature: never in the
//! Lambda zip (`cargo lambda build` builds without it).

pub mod api_events;
pub mod hostile_images;
pub mod s3_events;
pub mod standin;
pub mod test_images;
