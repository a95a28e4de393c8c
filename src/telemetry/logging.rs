//! The log subscriber: Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`, then
//! `RUST_LOG`; `AWS_LAMBDA_LOG_FORMAT=JSON`) as lambda_http's default, with the runtime crates
//! pinned at INFO whatever the level asks: at TRACE, lambda_runtime logs each raw event, and an
//! event carries the caller's `Authorization` header (a bearer token, or a JWT passed through
//! API Gateway's authorizer).

use lambda_http::tracing::subscriber::filter::{Directive, EnvFilter};
use lambda_http::tracing::subscriber::fmt;

/// Crates whose TRACE/DEBUG output may contain a request or response as it is.
const PINNED: [&str; 3] = ["lambda_runtime", "lambda_runtime_api_client", "lambda_http"];

/// The filter for `level` (a `RUST_LOG`-style string), with the runtime crates held at INFO.
pub fn filter(level: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in PINNED {
        // Added last, so it replaces any directive the level string gave the same target.
        if let Ok(directive) = format!("{target}=info").parse::<Directive>() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let builder = fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter(&level));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_crates_stay_at_info_whatever_the_level_asks() {
        for level in [
            "trace",
            "lambda_runtime=trace,trace",
            "debug,lambda_http=trace",
        ] {
            let text = filter(level).to_string();
            for target in PINNED {
                assert!(text.contains(&format!("{target}=info")), "{level}: {text}");
                assert!(
                    !text.contains(&format!("{target}=trace")),
                    "{level}: {text}"
                );
            }
        }
    }
}
