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

use crate::ops::bucket_check::{findings, read_settings};
use crate::ops::tokens;
use crate::store::clients::{load_sdk_config, s3_client};

/// What a command reports on failure: a line for the operator.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

pub const USAGE: &str = "usage:
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

async fn run(args: &[String]) -> Result<i32, CliError> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["tokens", rest @ ..] => tokens::run(rest).await,
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
                println!("{missing} protection(s) missing: see docs/deploy.md (CreateBucket=false, a reused bucket).");
            }
            Ok(i32::from(missing > 0))
        }
        ["thumbnail", input, output, rest @ ..] => {
            let bytes = std::fs::read(input)?;
            let kind = crate::domain::image_type::KNOWN_IMAGE_TYPES
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
                .map_err(|e| format!("no thumbnail: {e}"))?;
            std::fs::write(output, &thumb.jpeg)?;
            println!(
                "{output}: {}x{}, {} bytes",
                thumb.width,
                thumb.height,
                thumb.jpeg.len()
            );
            Ok(0)
        }
        #[cfg(feature = "dev")]
        ["pipeline-standin"] => {
            use crate::pipeline::config::PipelineConfig;
            use crate::pipeline::context::PipelineContext;
            // The pipeline role's own configuration, as the pipeline function reads it; the bucket
            // to watch is the one `make dev` serves.
            let config = PipelineConfig::from_env(&crate::config::Env::process())?;
            let bucket = env("UPLOADS_BUCKET")?;
            let sdk = load_sdk_config(&config.common.region).await;
            let s3 = s3_client(&sdk, config.common.force_path_style);
            let ctx = PipelineContext::from_sdk_config(config, &sdk);
            crate::dev::standin::run(&ctx, &s3, &bucket, std::time::Duration::from_secs(1)).await
        }
        _ => Err(USAGE.into()),
    }
}

pub fn region() -> String {
    std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into())
}

pub fn env(name: &str) -> Result<String, CliError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set").into())
}

/// `--flag value` pairs, each flag known and at most once.
pub struct Flags<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Flags<'a> {
    pub fn parse(words: &[&'a str], known: &[&str]) -> Result<Self, CliError> {
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

    pub fn get(&self, flag: &str) -> Option<&'a str> {
        self.0.iter().find(|(f, _)| *f == flag).map(|(_, v)| *v)
    }

    pub fn required(&self, flag: &str) -> Result<&'a str, CliError> {
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
}
