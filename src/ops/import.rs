//! `qdn-photos import --bucket B [--prefix jobs/] [--dry-run]` and `qdn-photos reprocess --job J`:
//! the pipeline's own check over what a bucket already holds, object by object. `import` registers
//! the photos stored before this service (`jobs/{job}/{uuid4}.jpg`, no grant: recorded as
//! `provenance: imported`, with the object's own time and version, and never removed when
//! refused); `reprocess` re-runs the check over one job's objects (an event that never arrived).
//!
//! Both are idempotent and resumable: a version already recorded is not checked again (an
//! interrupted listing is finished), so a second run changes nothing and a run killed midway
//! finishes on the next. A key recorded under another version is left alone (it changed after it
//! was recorded: the record keeps what was checked).

use std::collections::BTreeMap;

use crate::domain::job::{JobId, UploadKey};
use crate::ops::cli::CliError;
use crate::pipeline::context::PipelineContext;
use crate::pipeline::process::{self, Candidate, Outcome};
use crate::store::records::sequencer_order;
use crate::store::storage::{ListedObject as Listed, Storage};

/// What the walk does with one listed object, before any I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Check(JobId, UploadKey),
    /// Not a photo key of any job (a thumbnail, another tool's file): never touched.
    Skip(&'static str),
}

pub fn plan(key: &str) -> Plan {
    let Some(job) = key
        .strip_prefix("jobs/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|job| JobId::parse(job).ok())
    else {
        return Plan::Skip("not under jobs/{job}/");
    };
    match UploadKey::parse_stored(&job, key) {
        Some(upload) => Plan::Check(job, upload),
        None => Plan::Skip("not a {uuid}.{ext} photo key"),
    }
}

/// The candidate a listed object makes: the current version (from its HEAD), ordered by the time
/// S3 stored it (no event, so no sequencer of S3's).
fn candidate(job: JobId, key: UploadKey, listed: &Listed, version: Option<String>) -> Candidate {
    Candidate {
        job,
        key,
        size: listed.size,
        etag: listed.etag.clone(),
        version_id: version,
        sequencer: sequencer_order(&format!("{:X}", listed.last_modified * 1000)),
        via: "import".into(),
    }
}

/// Counts by outcome, for the summary.
#[derive(Debug, Default)]
pub struct Summary(BTreeMap<String, usize>);

impl Summary {
    fn add(&mut self, what: &str) {
        *self.0.entry(what.to_owned()).or_default() += 1;
    }

    pub fn line(&self) -> String {
        let total: usize = self.0.values().sum();
        let parts: Vec<String> = self.0.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!("{total} object(s): {}", parts.join(", "))
    }
}

/// Walks `prefix` of the storage's bucket, checking each photo key through the pipeline role's
/// `ctx`; a progress line per object on stderr. `dry_run`: says what it would check, writes
/// nothing.
pub async fn walk(
    ctx: &PipelineContext,
    storage: &Storage,
    prefix: &str,
    dry_run: bool,
) -> Result<Summary, CliError> {
    let objects = storage.list(prefix).await?;
    let total = objects.len();
    let mut summary = Summary::default();
    for (i, listed) in objects.iter().enumerate() {
        let what = match plan(&listed.key) {
            Plan::Skip(why) => format!("skipped ({why})"),
            Plan::Check(job, key) if dry_run => {
                if ctx.index.any_version_recorded(&job, &key).await? {
                    "already recorded".into()
                } else if key.is_granted() {
                    "would check (issued by this service)".into()
                } else {
                    "would import".into()
                }
            }
            Plan::Check(job, key) => {
                let version = storage.version_of(key.as_str()).await?;
                let candidate = candidate(job, key, listed, version);
                let this_version = ctx
                    .index
                    .object_record(
                        &candidate.job,
                        &candidate.key,
                        candidate.version_id.as_deref(),
                        &candidate.sequencer,
                    )
                    .await?;
                if this_version.is_none()
                    && ctx
                        .index
                        .any_version_recorded(&candidate.job, &candidate.key)
                        .await?
                {
                    "left alone (recorded under another version)".into()
                } else {
                    let spec = &ctx.config.thumbnail;
                    let id = format!("import-{}", uuid::Uuid::now_v7());
                    let outcome = process::check(ctx, spec, storage, &candidate, &id).await?;
                    match outcome {
                        Outcome::Listed { .. } if !candidate.key.is_granted() => "imported".into(),
                        other => other.label(),
                    }
                }
            }
        };
        eprintln!("[{}/{total}] {}: {what}", i + 1, listed.key);
        summary.add(&what);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_keys_of_any_uuid_are_checked_and_everything_else_is_skipped() {
        let v4 = "jobs/j-1/3f2c1b8e-9d4a-4c2b-8e1f-0a9b8c7d6e5f.jpg";
        let v7 = "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.png";
        for key in [v4, v7] {
            assert!(
                matches!(plan(key), Plan::Check(job, k) if job.as_str() == "j-1" && k.as_str() == key)
            );
        }
        for other in [
            "thumbs/jobs/j-1/x.jpg/null.jpg",
            "jobs/j-1/notes.txt",
            "jobs/../x.jpg",
            "jobs/j-1/sub/3f2c1b8e-9d4a-4c2b-8e1f-0a9b8c7d6e5f.jpg",
            "uploads/3f2c1b8e-9d4a-4c2b-8e1f-0a9b8c7d6e5f.jpg",
        ] {
            assert!(matches!(plan(other), Plan::Skip(_)), "{other}");
        }
    }

    #[test]
    fn a_listed_object_is_ordered_by_when_s3_stored_it() {
        let job = JobId::parse("j").unwrap();
        let key = |k: &str| UploadKey::parse_stored(&job, k).unwrap();
        let k = "jobs/j/3f2c1b8e-9d4a-4c2b-8e1f-0a9b8c7d6e5f.jpg";
        let at = |secs| Listed {
            key: k.into(),
            size: 1,
            etag: None,
            last_modified: secs,
        };
        let earlier = candidate(job.clone(), key(k), &at(1_700_000_000), None);
        let later = candidate(job.clone(), key(k), &at(1_700_000_001), Some("v".into()));
        assert!(earlier.sequencer < later.sequencer);
        assert_eq!(later.version_id.as_deref(), Some("v"));
        let mut summary = Summary::default();
        summary.add("imported");
        summary.add("imported");
        summary.add("rejected: not_declared_type");
        assert_eq!(
            summary.line(),
            "3 object(s): 2 imported, 1 rejected: not_declared_type"
        );
    }
}
