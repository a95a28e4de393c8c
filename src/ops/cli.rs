//! The operator commands of the same binary (the Lambda runtime never passes arguments):
//!
//! ```text
//! qdn-photos tokens create --name NAME --jobs '*'|JOB[,JOB…] [--days N]
//! qdn-photos tokens list
//! qdn-photos tokens revoke ID|name:NAME
//! qdn-photos check-bucket [--bucket NAME] [--origin https://dash.example.com] [--pipeline-arn ARN] [--retention-days N]
//! qdn-photos setup-bucket [--bucket NAME] --origin https://dash.example.com --pipeline-arn ARN [--dry-run]
//! qdn-photos import [--bucket NAME] [--prefix jobs/] [--dry-run]
//! qdn-photos reprocess --job JOB [--bucket NAME]
//! qdn-photos redrive [--queue-url URL]     (the pipeline's on-failure queue, PIPELINE_FAILURES_QUEUE_URL)
//! qdn-photos export --job JOB [--out JOB.zip] [--bucket NAME]   (originals, manifest, contact sheet)
//! qdn-photos verify-export FILE.zip        (every file against the manifest; exit 1 if any differ)
//! qdn-photos pipeline-standin        (make dev: S3 notifications for Garage, which has none)
//! qdn-photos hostile-corpus DIR [--edge]   (dev: tests/hostile/ rebuilt; --edge: the costliest files inside the budgets)
//! qdn-photos thumbnail IN.jpg OUT.jpg [ORIENTATION]   (the pipeline's thumbnail of a local file)
//! ```
//!
//! They use the usual SDK configuration (credentials chain, `AWS_REGION`, `AWS_ENDPOINT_URL_*`),
//! so the same command works against the local stack and against AWS. Token, import and reprocess
//! commands need `AUDIT_TABLE`; a command without `--bucket` takes `UPLOADS_BUCKET`.

use crate::evidence::archive;
use crate::ops::bucket_check::{findings, Finding, Needs, Remedy};
use crate::ops::bucket_settings::read_settings;
use crate::ops::bucket_setup::{apply, plan, Target};
use crate::ops::{export, import, redrive, tokens};
use crate::pipeline::config::PipelineConfig;
use crate::pipeline::context::PipelineContext;
use crate::store::clients::{load_sdk_config, s3_client, CallBudget};

/// What a command reports on failure: a line for the operator.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

pub const USAGE: &str = "usage:
  qdn-photos tokens create --name NAME --jobs '*'|JOB[,JOB...] [--days N]
  qdn-photos tokens list
  qdn-photos tokens revoke ID|name:NAME
  qdn-photos check-bucket [--bucket NAME] [--origin URL] [--pipeline-arn ARN] [--retention-days N]
  qdn-photos setup-bucket [--bucket NAME] --origin URL --pipeline-arn ARN [--retention-days N] [--dry-run]
  qdn-photos import [--bucket NAME] [--prefix jobs/] [--dry-run]
  qdn-photos reprocess --job JOB [--bucket NAME]
  qdn-photos redrive [--queue-url URL]
  qdn-photos export --job JOB [--out JOB.zip] [--bucket NAME]
  qdn-photos verify-export FILE.zip
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
        [command @ ("import" | "reprocess"), rest @ ..] => {
            let (dry_run, rest) = switch(rest, "--dry-run");
            let prefix = if *command == "import" {
                let flags = Flags::parse(&rest, &["--bucket", "--prefix"])?;
                let prefix = flags.get("--prefix").unwrap_or("jobs/").to_owned();
                if !prefix.starts_with("jobs/") {
                    return Err("--prefix must start with jobs/".into());
                }
                (flags.get("--bucket").map(str::to_owned), prefix)
            } else {
                let flags = Flags::parse(&rest, &["--bucket", "--job"])?;
                let job = crate::domain::job::JobId::parse(flags.required("--job")?)?;
                (flags.get("--bucket").map(str::to_owned), job.prefix())
            };
            let (bucket, prefix) = (bucket_or_env(prefix.0)?, prefix.1);
            let (ctx, _) = operator_pipeline().await?;
            let storage = ctx
                .bucket_for(&bucket)
                .ok_or("UPLOADS_BUCKET names another bucket")?;
            let summary = import::walk(&ctx, &storage, &prefix, dry_run).await?;
            let verb = if dry_run { "would see" } else { "done" };
            println!(
                "{command} s3://{bucket}/{prefix}: {verb}: {}",
                summary.line()
            );
            Ok(0)
        }
        ["redrive", rest @ ..] => {
            let flags = Flags::parse(rest, &["--queue-url"])?;
            let queue_url = match flags.get("--queue-url") {
                Some(url) => url.to_owned(),
                None => env("PIPELINE_FAILURES_QUEUE_URL")?,
            };
            let (ctx, sdk) = operator_pipeline().await?;
            let done = redrive::run(&ctx, &aws_sdk_sqs::Client::new(&sdk), &queue_url).await?;
            println!(
                "redrive: {} event(s) processed and deleted, {} left in the queue",
                done.recorded, done.left
            );
            Ok(i32::from(done.left > 0))
        }
        ["export", rest @ ..] => {
            let flags = Flags::parse(rest, &["--job", "--out", "--bucket"])?;
            let job = crate::domain::job::JobId::parse(flags.required("--job")?)?;
            let out = flags
                .get("--out")
                .map_or_else(|| format!("{job}.zip").into(), std::path::PathBuf::from);
            let bucket = bucket_or_env(flags.get("--bucket").map(str::to_owned))?;
            let (ctx, _) = operator_pipeline().await?;
            let storage = ctx
                .bucket_for(&bucket)
                .ok_or("UPLOADS_BUCKET names another bucket")?;
            let now = s3_presign::UtcTime::from_system_time(std::time::SystemTime::now());
            let done = archive::write(&ctx.index, &storage, &bucket, &job, &out, now).await?;
            println!(
                "{}: {} photo(s), {} bytes of originals; manifest.json SHA-256 {} (hand it over with the archive)",
                out.display(),
                done.photos,
                done.bytes,
                done.manifest_sha256
            );
            Ok(0)
        }
        ["verify-export", path] => export::verify_file(std::path::Path::new(path)),
        ["check-bucket", rest @ ..] => {
            let flags = Flags::parse(
                rest,
                &["--bucket", "--origin", "--pipeline-arn", "--retention-days"],
            )?;
            let bucket = bucket_or_env(flags.get("--bucket").map(str::to_owned))?;
            let needs = Needs {
                bucket: &bucket,
                origin: flags.get("--origin"),
                pipeline_arn: flags.get("--pipeline-arn"),
                retention_days: retention_days(&flags)?,
            };
            let s3 = operator_s3().await;
            let found = findings(&read_settings(&s3, &bucket).await, &needs);
            print_findings(&format!("bucket {bucket}:"), &found, &needs);
            let missing = found.iter().filter(|f| !f.ok).count();
            if missing > 0 {
                println!("{missing} setting(s) to fix: the commands are above; docs/deploy.md explains each.");
            }
            Ok(i32::from(missing > 0))
        }
        ["setup-bucket", rest @ ..] => {
            let (dry_run, rest) = switch(rest, "--dry-run");
            let flags = Flags::parse(
                &rest,
                &["--bucket", "--origin", "--pipeline-arn", "--retention-days"],
            )?;
            let bucket = bucket_or_env(flags.get("--bucket").map(str::to_owned))?;
            let target = Target {
                origin: flags.required("--origin")?,
                pipeline_arn: flags.required("--pipeline-arn")?,
            };
            let needs = Needs {
                bucket: &bucket,
                origin: Some(target.origin),
                pipeline_arn: Some(target.pipeline_arn),
                retention_days: retention_days(&flags)?,
            };
            let s3 = operator_s3().await;
            let changes = plan(&read_settings(&s3, &bucket).await, &needs, target);
            println!("setup of bucket {bucket}:");
            for c in &changes {
                let verb = if dry_run { "would" } else { "change" };
                println!("  {verb:<8}{:<22}{}", c.setting.name(), c.what);
            }
            if changes.is_empty() {
                println!("  nothing to change: versioning, CORS, the pipeline's notification, noncurrent and archive expiry are set up");
            } else if dry_run {
                println!("dry run: nothing changed; run again without --dry-run to make the {} change(s)", changes.len());
                return Ok(0);
            } else {
                apply(&s3, &bucket, &changes).await?;
                println!(
                    "{} change(s) made; every other rule and target kept as it was",
                    changes.len()
                );
            }
            // What the bucket looks like now, setup-bucket's part and the rest.
            let found = findings(&read_settings(&s3, &bucket).await, &needs);
            print_findings(&format!("bucket {bucket} now:"), &found, &needs);
            let unfixed = found
                .iter()
                .filter(|f| f.remedy == Some(Remedy::SetupBucket))
                .count();
            Ok(i32::from(unfixed > 0))
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
        ["hostile-corpus", dir, rest @ ..] => {
            // tests/hostile/: the review's hostile files, rebuilt from their definitions; with
            // --edge, the costliest files inside every budget (for make bench).
            use crate::dev::hostile_images::{corpus, edge_cases};
            let files = match rest {
                [] => corpus(),
                ["--edge"] => edge_cases(),
                _ => return Err(USAGE.into()),
            };
            std::fs::create_dir_all(dir)?;
            for (name, bytes) in files {
                std::fs::write(std::path::Path::new(dir).join(name), &bytes)?;
                println!("{dir}/{name}: {} bytes", bytes.len());
            }
            Ok(0)
        }
        #[cfg(feature = "dev")]
        ["pipeline-standin"] => {
            // The pipeline role's own configuration, as the pipeline function reads it; the bucket
            // to watch is the one `make dev` serves.
            let config = PipelineConfig::from_env(&crate::config::Env::process())?;
            let bucket = env("UPLOADS_BUCKET")?;
            // The pipeline's own budget: this stands in for S3 invoking the function.
            let sdk = load_sdk_config(&config.common.region, CallBudget::Function).await;
            let ctx = PipelineContext::from_sdk_config(config, &sdk);
            let interval = std::time::Duration::from_secs(1);
            // And for Lambda's SQS event source, where the stack has an export queue.
            if let Ok(queue_url) = env("EXPORT_QUEUE_URL") {
                let exports =
                    crate::exports::ExportsConfig::from_env(&crate::config::Env::process())?;
                let exports = crate::exports::ExportsContext::from_sdk_config(exports, &sdk);
                let sqs = aws_sdk_sqs::Client::new(&sdk);
                tokio::select! {
                    never = crate::dev::standin::run(&ctx, &bucket, interval) => never,
                    never = crate::dev::standin::run_exports(&exports, &sqs, &queue_url) => never,
                }
            } else {
                crate::dev::standin::run(&ctx, &bucket, interval).await
            }
        }
        _ => Err(USAGE.into()),
    }
}

/// One line per finding, and under a failing one what to run.
fn print_findings(heading: &str, found: &[Finding], needs: &Needs) {
    println!("{heading}");
    for f in found {
        let state = if f.ok { "ok" } else { "MISSING" };
        println!("  {state:<8}{:<22}{}", f.setting.name(), f.detail);
        if let Some(remedy) = f.remedy {
            println!("  {:<30}fix: {}", "", remedy.command(needs));
        }
    }
}

/// `--retention-days`, else the function's `AUDIT_RETENTION_DAYS`, else the template's default.
fn retention_days(flags: &Flags) -> Result<u64, CliError> {
    let text = match flags.get("--retention-days") {
        Some(days) => days.to_owned(),
        None => std::env::var("AUDIT_RETENTION_DAYS").unwrap_or_else(|_| "400".into()),
    };
    text.parse()
        .map_err(|_| format!("the audit retention must be a number of days, not `{text}`").into())
}

/// The operator's S3 client: the usual SDK chain; path-style where the local stack needs it.
async fn operator_s3() -> aws_sdk_s3::Client {
    let sdk = load_sdk_config(&region(), CallBudget::Operator).await;
    let path_style = std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true" || v == "1");
    s3_client(&sdk, path_style)
}

pub fn region() -> String {
    std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into())
}

/// `--bucket`, else `UPLOADS_BUCKET`.
/// The pipeline role's own configuration, checks and clients, as its function has them, with an
/// operator's SDK budget (and that SDK configuration, for other clients).
async fn operator_pipeline() -> Result<(PipelineContext, aws_config::SdkConfig), CliError> {
    let config = PipelineConfig::from_env(&crate::config::Env::process())?;
    let sdk = load_sdk_config(&config.common.region, CallBudget::Operator).await;
    Ok((PipelineContext::from_sdk_config(config, &sdk), sdk))
}

fn bucket_or_env(flag: Option<String>) -> Result<String, CliError> {
    flag.map_or_else(|| env("UPLOADS_BUCKET"), Ok)
}

pub fn env(name: &str) -> Result<String, CliError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set").into())
}

/// Whether the valueless `name` is among `words`, and the words without it.
fn switch<'a>(words: &[&'a str], name: &str) -> (bool, Vec<&'a str>) {
    let rest: Vec<&str> = words.iter().copied().filter(|w| *w != name).collect();
    (rest.len() < words.len(), rest)
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
        assert_eq!(
            switch(&["--job", "j", "--dry-run"], "--dry-run"),
            (true, vec!["--job", "j"])
        );
        assert_eq!(
            switch(&["--job", "j"], "--dry-run"),
            (false, vec!["--job", "j"])
        );
    }
}
