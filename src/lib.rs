pub mod endpoint;
pub mod post_policy;
pub mod presign_get;
pub mod sigv4;
pub mod utc;
