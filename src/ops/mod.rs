//! The operator commands of the same binary (the Lambda runtime never passes arguments).

pub mod bucket_check;
pub mod bucket_settings;
pub mod bucket_setup;
pub mod cli;
pub mod export;
pub mod import;
pub mod redrive;
pub mod tokens;
