//! The operator commands of the same binary (the Lambda runtime never passes arguments):
//!
//! ```text
//! qdn-photos tokens create --name NAME --jobs '*'|JOB[,JOB…] [--days N]
//! qdn-photos tokens list
//! qdn-photos tokens revoke ID|name:NAME
//! qdn-photos check-bucket [--bucket NAME] [--origin https://dash.example.com]
//! qdn-photos pipeline-standin        (make dev: S3 notifications for Garage, which has none)
//! qdn-photos thumbnail IN.jpg OUT.jpg [ORIENTATION]   (the pipeline's thumbnail of a local file)
//! ```
//!
//! They use the usual SDK configuration (credentials chain, `AWS_REGION`, `AWS_ENDPOINT_URL_*`),
//! so the same command works against the local stack and against AWS. Token commands need
//! `AUDIT_TABLE`; `check-bucket` takes `UPLOADS_BUCKET` when `--bucket` is not given.

use std::time::SystemTime;

use crate::auth::JobScope;
use crate::bucket_check::{findings, read_settings};
use crate::clients::{dynamodb_client, load_sdk_config, s3_client};
use crate::tokens::{TokenRecord, TokenStore};
use s3_presign::UtcTime;

const USAGE: &str = "usage:
  qdn-photos tokens create --name NAME --jobs '*'|JOB[,JOB...] [--days N]
  qdn-photos tokens list
  qdn-photos tokens revoke ID|name:NAME
  qdn-photos check-bucket [--bucket NAME] [--origin https://dash.example.com]
  qdn-photos pipeline-standin
  qdn-photos thumbnail IN OUT [ORIENTATION]";

/// Runs the command in `args` (without the program name); returns the process exit code.
pub async fn main(args: &[String]) -> i32 {
    match run(args).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("qdn-photos: {err}");
            2
        }
    }
}

async fn run(args: &[String]) -> Result<i32, lambda_http::Error> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["tokens", "create", rest @ ..] => {
            let flags = Flags::parse(rest, &["--name", "--jobs", "--days"])?;
            let name = flags.required("--name")?;
            if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
                return Err("--name must be 1-128 printable characters".into());
            }
            let scope =
                JobScope::parse(flags.required("--jobs")?).map_err(|e| format!("--jobs: {e}"))?;
            let days = flags
                .get("--days")
                .map(|d| {
                    d.parse::<u64>()
                        .map_err(|_| "--days must be a whole number")
                })
                .transpose()?;
            let created = token_store()
                .await?
                .create(name, &scope, days, SystemTime::now())
                .await?;
            println!("{}", created.token);
            eprintln!(
                "Created token {} for {} on jobs {}{}. It is shown only now: hand it over, then forget it.",
                created.record.id,
                created.record.principal(),
                scope,
                created.record.expires_at.map(|t| format!(", expiring {}", utc_text(t))).unwrap_or_default(),
            );
            Ok(0)
        }
        ["tokens", "list"] => {
            println!(
                "{:<14}{:<24}{:<10}{:<22}{:<22}JOBS",
                "ID", "PRINCIPAL", "STATE", "CREATED", "EXPIRES"
            );
            let now = SystemTime::now();
            for (_, record) in token_store().await?.list().await? {
                println!("{}", list_line(&record, now));
            }
            Ok(0)
        }
        ["tokens", "revoke", which] => {
            let revoked = token_store()
                .await?
                .revoke(which, SystemTime::now())
                .await?;
            for record in &revoked {
                println!("revoked {} ({})", record.id, record.principal());
            }
            eprintln!(
                "Warm functions may accept a revoked token for up to 60 s (the lookup cache)."
            );
            Ok(0)
        }
        ["check-bucket", rest @ ..] => {
            let flags = Flags::parse(rest, &["--bucket", "--origin"])?;
            let bucket = match flags.get("--bucket") {
                Some(bucket) => bucket.to_owned(),
                None => env("UPLOADS_BUCKET")?,
            };
            let sdk = load_sdk_config(&region()).await;
            let path_style =
                std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true" || v == "1");
            let settings = read_settings(&s3_client(&sdk, path_style), &bucket).await;
            let found = findings(&settings, flags.get("--origin"));
            println!("bucket {bucket}:");
            for f in &found {
                println!(
                    "  {:<8}{:<22}{}",
                    if f.ok { "ok" } else { "MISSING" },
                    f.setting,
                    f.detail
                );
            }
            let missing = found.iter().filter(|f| !f.ok).count();
            if missing > 0 {
                println!("{missing} protection(s) missing: see README, \"Reusing a bucket\".");
            }
            Ok(i32::from(missing > 0))
        }
        ["thumbnail", input, output, rest @ ..] => {
            let bytes = std::fs::read(input)?;
            let kind = crate::image_type::KNOWN_IMAGE_TYPES
                .iter()
                .copied()
                .find(|t| t.matches_magic(&bytes))
                .ok_or("not an image type this service stores")?;
            let orientation = match rest {
                [] => crate::pipeline::photo_metadata::read(&bytes).orientation,
                [o] => o.parse().map_err(|_| "ORIENTATION must be 1 to 8")?,
                _ => return Err(USAGE.into()),
            };
            let spec = crate::pipeline::thumbnail::ThumbnailSpec::DEFAULT;
            let thumb = crate::pipeline::thumbnail::make(&bytes, kind, orientation, &spec)
                .map_err(|e| format!("no thumbnail: {}", e.status()))?;
            std::fs::write(output, &thumb.jpeg)?;
            println!(
                "{output}: {}x{}, {} bytes",
                thumb.width,
                thumb.height,
                thumb.jpeg.len()
            );
            Ok(0)
        }
        ["pipeline-standin"] => {
            let config = crate::config::Config::from_env()?;
            let sdk = load_sdk_config(&config.region).await;
            let s3 = s3_client(&sdk, config.force_path_style);
            let ctx = crate::context::Context::from_sdk_config(config, &sdk)?;
            crate::pipeline::standin::run(&ctx, &s3, std::time::Duration::from_secs(1)).await
        }
        _ => Err(USAGE.into()),
    }
}

fn list_line(record: &TokenRecord, now: SystemTime) -> String {
    let state = match (record.revoked_at, record.is_valid_at(now)) {
        (Some(_), _) => "revoked",
        (None, false) => "expired",
        (None, true) => "active",
    };
    format!(
        "{:<14}{:<24}{:<10}{:<22}{:<22}{}",
        record.id,
        record.principal(),
        state,
        utc_text(record.created_at),
        record
            .expires_at
            .map(utc_text)
            .unwrap_or_else(|| "never".into()),
        record.scope,
    )
}

async fn token_store() -> Result<TokenStore, lambda_http::Error> {
    let table = env("AUDIT_TABLE")?;
    let sdk = load_sdk_config(&region()).await;
    Ok(TokenStore::new(dynamodb_client(&sdk), table, 0))
}

fn utc_text(unix_secs: u64) -> String {
    UtcTime::from_unix_secs(unix_secs).rfc3339()
}

fn region() -> String {
    std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into())
}

fn env(name: &str) -> Result<String, lambda_http::Error> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set").into())
}

/// `--flag value` pairs, each flag known and at most once.
struct Flags<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Flags<'a> {
    fn parse(words: &[&'a str], known: &[&str]) -> Result<Self, lambda_http::Error> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        let mut rest = words.iter();
        while let Some(flag) = rest.next() {
            if !known.contains(flag) || pairs.iter().any(|(f, _)| f == flag) {
                return Err(format!("unexpected `{flag}`\n{USAGE}").into());
            }
            let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
            pairs.push((flag, value));
        }
        Ok(Flags(pairs))
    }

    fn get(&self, flag: &str) -> Option<&'a str> {
        self.0.iter().find(|(f, _)| *f == flag).map(|(_, v)| *v)
    }

    fn required(&self, flag: &str) -> Result<&'a str, lambda_http::Error> {
        self.get(flag)
            .ok_or_else(|| format!("{flag} is required\n{USAGE}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_known_single_and_valued() {
        let f = Flags::parse(&["--name", "alice", "--jobs", "*"], &["--name", "--jobs"]).unwrap();
        assert_eq!(
            (f.get("--name"), f.get("--jobs")),
            (Some("alice"), Some("*"))
        );
        assert!(f.required("--days").is_err());
        assert!(Flags::parse(&["--name"], &["--name"]).is_err());
        assert!(Flags::parse(&["--name", "a", "--name", "b"], &["--name"]).is_err());
        assert!(Flags::parse(&["--secret", "x"], &["--name"]).is_err());
    }

    #[test]
    fn a_listed_token_shows_its_state() {
        let record = TokenRecord {
            id: "0123456789ab".into(),
            name: "alice".into(),
            scope: JobScope::All,
            created_at: 1_795_432_800,
            expires_at: Some(1_795_432_900),
            revoked_at: None,
        };
        let at = |s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s);
        let line = list_line(&record, at(1_795_432_850));
        assert!(line.starts_with("0123456789ab  user:alice"), "{line}");
        assert!(
            line.contains("active") && line.contains("2026-11-23T11:20:00Z") && line.ends_with('*')
        );
        assert!(list_line(&record, at(1_795_432_900)).contains("expired"));
        let revoked = TokenRecord {
            revoked_at: Some(1),
            ..record
        };
        assert!(list_line(&revoked, at(0)).contains("revoked"));
    }
}
