//! Configuration from environment variables (names are a contract: see docs/operations.md).
//! Each role reads its own (`api::config`, `pipeline::config`) through [`Env`]; what both read is
//! [`CommonConfig`]. This module knows no role. Parsed once at cold start: any missing or
//! invalid setting stops the start with an error naming it.

use crate::telemetry::metrics::MetricsTarget;

/// The audit record must outlive every grant it speaks for (7 days at most), reach past the invoice
/// cycle in which field work is disputed (net 30–60), and cover CloudTrail's 90-day event history,
/// the other record of who touched the bucket, so the two can always be read side by side.
pub const MIN_AUDIT_RETENTION_DAYS: u64 = 90;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid configuration: {}: {}",
            self.variable, self.problem
        )
    }
}

impl std::error::Error for ConfigError {}

/// A bad setting stops the cold start with one log line naming it.
pub fn stop<T>(err: ConfigError) -> T {
    tracing::error!(variable = err.variable, "{err}");
    eprintln!("{err}");
    std::process::exit(1)
}

pub fn err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// The settings as a role reads them (from the process environment, or from a map in tests):
/// trimmed, and empty counts as unset.
pub struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl<'a> Env<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Env(lookup)
    }

    /// The process environment.
    pub fn process() -> Env<'static> {
        fn var(name: &str) -> Option<String> {
            std::env::var(name).ok()
        }
        Env(&var)
    }

    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or_else(|| err(name, "is required"))
    }

    /// A whole number from 1 to `max`, `default` when unset.
    pub fn number(&self, name: &'static str, default: u64, max: u64) -> Result<u64, ConfigError> {
        self.number_from(name, 1, default, max)
    }

    /// A whole number from `min` to `max`; `default` when unset.
    pub fn number_from(
        &self,
        name: &'static str,
        min: u64,
        default: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| err(name, format!("must be a whole number from {min} to {max}"))),
        }
    }

    /// A bucket name, checked; `None` when unset.
    pub fn bucket(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        match self.get(name) {
            Some(bucket) if !is_bucket_name(&bucket) => {
                Err(err(name, "is not a valid S3 bucket name"))
            }
            bucket => Ok(bucket),
        }
    }
}

/// What both roles read: where the record is, the region, and where metrics go.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    pub audit_table: String,
    pub region: String,
    pub force_path_style: bool,
    /// How long audit rows are kept before DynamoDB's TTL may remove them.
    pub audit_retention_days: u64,
    /// CloudWatch metrics (EMF on stdout) when `METRICS_NAMESPACE` is set; none otherwise.
    pub metrics: Option<MetricsTarget>,
}

impl CommonConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let audit_table = env.required("AUDIT_TABLE")?;
        let table_ok = (3..=255).contains(&audit_table.len())
            && audit_table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !table_ok {
            return Err(err("AUDIT_TABLE", "is not a valid DynamoDB table name"));
        }
        let region = env.required("AWS_REGION")?;
        if !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(err("AWS_REGION", "is not a region name"));
        }
        let force_path_style = match env.get("S3_FORCE_PATH_STYLE").as_deref() {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(_) => return Err(err("S3_FORCE_PATH_STYLE", "must be true or false")),
        };
        let audit_retention_days = env.number("AUDIT_RETENTION_DAYS", 400, 36_500)?;
        if audit_retention_days < MIN_AUDIT_RETENTION_DAYS {
            return Err(err(
                "AUDIT_RETENTION_DAYS",
                format!("must be at least {MIN_AUDIT_RETENTION_DAYS} (see SECURITY.md)"),
            ));
        }
        let metrics = match env.get("METRICS_NAMESPACE") {
            None => None,
            Some(namespace) if is_metrics_namespace(&namespace) => Some(MetricsTarget::new(
                namespace,
                // Set by Lambda; `local` under cargo lambda or in tests.
                env.get("AWS_LAMBDA_FUNCTION_NAME")
                    .unwrap_or_else(|| "local".into()),
            )),
            Some(_) => {
                return Err(err(
                    "METRICS_NAMESPACE",
                    "must be 1-255 characters of letters, digits and . - _ / # :, not starting with AWS/",
                ))
            }
        };
        Ok(CommonConfig {
            audit_table,
            region,
            force_path_style,
            audit_retention_days,
            metrics,
        })
    }
}

/// CloudWatch's namespace rules; `AWS/` is reserved for AWS's own metrics.
fn is_metrics_namespace(ns: &str) -> bool {
    (1..=255).contains(&ns.len())
        && !ns.starts_with("AWS/")
        && ns
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_/#: ".contains(&b))
}

pub fn is_bucket_name(name: &str) -> bool {
    let edge_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && edge_ok(name.as_bytes().first())
        && edge_ok(name.as_bytes().last())
        && !name.contains("..")
}
