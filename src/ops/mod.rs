//! The operator commands of the same binary (the Lambda runtime never passes arguments).

pub mod bucket_check;
pub mod cli;
pub mod import;
pub mod redrive;
pub mod tokens;
