//! `setup-bucket`: merges what the service needs into a bucket that is already in use. Each
//! S3 call here replaces a whole configuration (CORS rules, notification targets, lifecycle
//! rules), so the plan starts from what was read and adds to it: every other rule and target is
//! written back as it was read. It changes only what `check-bucket` finds missing with
//! [`Remedy::SetupBucket`], so a second run finds nothing to do.

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketVersioningStatus,
    CorsConfiguration, CorsRule, Event, ExpirationStatus, FilterRule, FilterRuleName,
    LambdaFunctionConfiguration, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, NotificationConfiguration, NotificationConfigurationFilter,
    S3KeyFilter, VersioningConfiguration,
};
use aws_sdk_s3::Client;

use crate::domain::job::{ARCHIVES_PREFIX, ARCHIVE_DAYS};
use crate::ops::bucket_check::{findings, Needs, Remedy, Setting, UPLOADS_PREFIX};
use crate::ops::bucket_settings::{code_of, BucketSettings};

pub const LIFECYCLE_RULE_ID: &str = "qdn-photos-noncurrent-versions";
pub const ARCHIVES_RULE_ID: &str = "qdn-photos-export-archives";
pub const NOTIFICATION_ID: &str = "qdn-photos-pipeline";

/// The bucket as `setup-bucket` leaves it: the dashboard's origin and the pipeline are known.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub origin: &'a str,
    pub pipeline_arn: &'a str,
}

/// One configuration written whole: what was there plus what the service needs.
#[derive(Debug, Clone)]
pub enum Change {
    EnableVersioning,
    Cors(Vec<CorsRule>),
    Notification(NotificationConfiguration),
    Lifecycle(Vec<LifecycleRule>),
}

#[derive(Debug, Clone)]
pub struct Planned {
    pub setting: Setting,
    /// One line for the operator: what changes and what is kept.
    pub what: String,
    pub change: Change,
}

impl Change {
    /// The settings as S3 holds them once this change is written.
    pub fn apply_to(&self, s: &mut BucketSettings) {
        match self {
            Change::EnableVersioning => s.versioning = Ok(Some("Enabled".into())),
            Change::Cors(rules) => s.cors = Ok(Some(rules.clone())),
            Change::Notification(config) => s.notification = Ok(Some(config.clone())),
            Change::Lifecycle(rules) => s.lifecycle = Ok(Some(rules.clone())),
        }
    }
}

/// The changes that make `check-bucket`'s setup-bucket findings hold, nothing else. Each starts
/// from what the ones before it leave: two lifecycle changes each write the whole rule list.
pub fn plan(s: &BucketSettings, needs: &Needs, target: Target) -> Vec<Planned> {
    let mut now = s.clone();
    let mut changes = Vec::new();
    for finding in findings(s, needs) {
        if finding.remedy != Some(Remedy::SetupBucket) {
            continue;
        }
        if let Some(planned) = planned(finding.setting, &now, needs, target) {
            planned.change.apply_to(&mut now);
            changes.push(planned);
        }
    }
    changes
}

/// The bucket's lifecycle rules with `rule` in place of any earlier rule of its id; how many
/// others were kept.
fn with_rule(s: &BucketSettings, rule: LifecycleRule) -> Option<(Vec<LifecycleRule>, usize)> {
    let mut rules = s.lifecycle.clone().ok()?.unwrap_or_default();
    rules.retain(|r| r.id() != rule.id());
    let kept = rules.len();
    rules.push(rule);
    Some((rules, kept))
}

fn planned(setting: Setting, s: &BucketSettings, needs: &Needs, target: Target) -> Option<Planned> {
    let (what, change) = match setting {
        Setting::Versioning => {
            let was = s.versioning.clone().ok()?;
            (
                format!("{} → Enabled", was.as_deref().unwrap_or("never enabled")),
                Change::EnableVersioning,
            )
        }
        Setting::Cors => {
            let mut rules = s.cors.clone().ok()?.unwrap_or_default();
            let kept = rules.len();
            rules.push(cors_rule(target.origin));
            (
                format!(
                    "add a rule: {} may POST uploads and GET photos; {kept} existing rule(s) kept",
                    target.origin
                ),
                Change::Cors(rules),
            )
        }
        Setting::Notification => {
            let config = s
                .notification
                .clone()
                .ok()?
                .unwrap_or_else(|| NotificationConfiguration::builder().build());
            let ours = |t: &LambdaFunctionConfiguration| {
                t.id() == Some(NOTIFICATION_ID) || t.lambda_function_arn() == target.pipeline_arn
            };
            let all = config.lambda_function_configurations();
            let replaced = all.iter().filter(|t| ours(t)).count();
            let mut lambdas: Vec<_> = all.iter().filter(|t| !ours(t)).cloned().collect();
            let kept = lambdas.len()
                + config.topic_configurations().len()
                + config.queue_configurations().len();
            lambdas.push(notification(target.pipeline_arn));
            let merged = NotificationConfiguration::builder()
                .set_topic_configurations(Some(config.topic_configurations().to_vec()))
                .set_queue_configurations(Some(config.queue_configurations().to_vec()))
                .set_lambda_function_configurations(Some(lambdas))
                .set_event_bridge_configuration(config.event_bridge_configuration().cloned())
                .build();
            let replacing = match replaced {
                0 => String::new(),
                n => format!(" (replacing the pipeline's {n} narrower one(s))"),
            };
            (
                format!(
                    "add s3:ObjectCreated:* under {UPLOADS_PREFIX} → {}{replacing}; {kept} other target(s) kept",
                    target.pipeline_arn
                ),
                Change::Notification(merged),
            )
        }
        Setting::NoncurrentVersions => {
            let days = i32::try_from(needs.retention_days).ok()?;
            let (rules, kept) = with_rule(s, lifecycle_rule(days))?;
            (
                format!(
                    "add rule `{LIFECYCLE_RULE_ID}`: noncurrent versions under {UPLOADS_PREFIX} \
                     expire after {days} days (the audit's retention); {kept} other rule(s) kept"
                ),
                Change::Lifecycle(rules),
            )
        }
        Setting::ArchiveExpiry => {
            let (rules, kept) = with_rule(s, archives_rule())?;
            (
                format!(
                    "add rule `{ARCHIVES_RULE_ID}`: archives under {ARCHIVES_PREFIX} expire after \
                     {ARCHIVE_DAYS} days (as GET /exports says), their noncurrent versions a day \
                     later; {kept} other rule(s) kept"
                ),
                Change::Lifecycle(rules),
            )
        }
        _ => return None,
    };
    Some(Planned {
        setting,
        what,
        change,
    })
}

/// The template's own rule for a bucket it creates.
fn cors_rule(origin: &str) -> CorsRule {
    CorsRule::builder()
        .id("qdn-photos")
        .allowed_origins(origin)
        .allowed_methods("POST")
        .allowed_methods("GET")
        .allowed_headers("content-type")
        .expose_headers("ETag")
        .expose_headers("Location")
        .max_age_seconds(3000)
        .build()
        .expect("origins and methods are set")
}

fn notification(pipeline_arn: &str) -> LambdaFunctionConfiguration {
    let prefix = FilterRule::builder()
        .name(FilterRuleName::Prefix)
        .value(UPLOADS_PREFIX)
        .build();
    LambdaFunctionConfiguration::builder()
        .id(NOTIFICATION_ID)
        .lambda_function_arn(pipeline_arn)
        .events(Event::S3ObjectCreated)
        .filter(
            NotificationConfigurationFilter::builder()
                .key(S3KeyFilter::builder().filter_rules(prefix).build())
                .build(),
        )
        .build()
        .expect("arn and events are set")
}

/// Noncurrent versions under `jobs/` go once the audit no longer keeps their record.
fn lifecycle_rule(days: i32) -> LifecycleRule {
    LifecycleRule::builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(
            LifecycleRuleFilter::builder()
                .prefix(UPLOADS_PREFIX)
                .build(),
        )
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(days)
                .build(),
        )
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(1)
                .build(),
        )
        .build()
        .expect("status is set")
}

/// Archives under `exports/` go when `GET /exports` stops handing them out; a version left
/// behind (a withdrawn archive's delete marker) a day later.
fn archives_rule() -> LifecycleRule {
    LifecycleRule::builder()
        .id(ARCHIVES_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(
            LifecycleRuleFilter::builder()
                .prefix(ARCHIVES_PREFIX)
                .build(),
        )
        .expiration(
            LifecycleExpiration::builder()
                .days(i32::try_from(ARCHIVE_DAYS).expect("a week fits"))
                .build(),
        )
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(1)
                .build(),
        )
        .build()
        .expect("status is set")
}

/// Writes each planned configuration; stops at the first S3 refuses, naming it.
pub async fn apply(s3: &Client, bucket: &str, changes: &[Planned]) -> Result<(), String> {
    for planned in changes {
        let answer = match &planned.change {
            Change::EnableVersioning => {
                let enabled = VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build();
                let put = s3.put_bucket_versioning().versioning_configuration(enabled);
                done(put.bucket(bucket).send().await)
            }
            Change::Cors(rules) => {
                let config = CorsConfiguration::builder()
                    .set_cors_rules(Some(rules.clone()))
                    .build()
                    .expect("rules are set");
                done(
                    s3.put_bucket_cors()
                        .cors_configuration(config)
                        .bucket(bucket)
                        .send()
                        .await,
                )
            }
            Change::Notification(config) => {
                let put = s3
                    .put_bucket_notification_configuration()
                    .notification_configuration(config.clone());
                done(put.bucket(bucket).send().await)
            }
            Change::Lifecycle(rules) => {
                let config = BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules.clone()))
                    .build()
                    .expect("rules are set");
                let put = s3
                    .put_bucket_lifecycle_configuration()
                    .lifecycle_configuration(config);
                done(put.bucket(bucket).send().await)
            }
        };
        answer.map_err(|code| {
            format!("{}: S3 refused the change ({code})", planned.setting.name())
        })?;
    }
    Ok(())
}

/// An S3 answer reduced to whether it took, or its error code.
fn done<T, E: aws_sdk_s3::error::ProvideErrorMetadata>(answer: Result<T, E>) -> Result<(), String> {
    answer.map(drop).map_err(|e| code_of(&e))
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::types::QueueConfiguration;

    use super::*;
    use crate::ops::bucket_check::tests::{
        archives_kept_a_week, complete, cors_rule, lambda, needs, noncurrent, notifying, rule,
        ORIGIN, PIPELINE,
    };

    const TARGET: Target = Target {
        origin: ORIGIN,
        pipeline_arn: PIPELINE,
    };

    /// The settings as S3 holds them after `changes` (what `apply` writes).
    fn after(s: &BucketSettings, changes: &[Planned]) -> BucketSettings {
        let mut s = s.clone();
        for c in changes {
            c.change.apply_to(&mut s);
        }
        s
    }

    /// A reused bucket: unversioned, another site's CORS rule, an SQS queue notified of `in/`,
    /// another function notified of `exports/`, a rule that expires `tmp/`.
    fn in_use() -> BucketSettings {
        let queue = QueueConfiguration::builder()
            .id("ingest")
            .queue_arn("arn:aws:sqs:eu-west-1:123456789012:ingest")
            .events(Event::S3ObjectCreated)
            .build()
            .unwrap();
        let mut notification = notifying(vec![lambda(
            "arn:aws:lambda:eu-west-1:123456789012:function:exports",
            &[Event::S3ObjectRemoved],
            "exports/",
            "",
        )]);
        notification.queue_configurations = Some(vec![queue]);
        BucketSettings {
            versioning: Ok(None),
            cors: Ok(Some(vec![cors_rule(
                &["https://www.example.com"],
                &["GET"],
                &[],
            )])),
            notification: Ok(Some(notification)),
            lifecycle: Ok(Some(vec![rule("tmp", "tmp/")
                .expiration(LifecycleExpiration::builder().days(2).build())
                .build()
                .unwrap()])),
            ..complete()
        }
    }

    #[test]
    fn what_is_missing_is_added_and_everything_else_kept_as_it_was() {
        let before = in_use();
        let changes = plan(&before, &needs(), TARGET);
        let settings: Vec<_> = changes.iter().map(|c| c.setting).collect();
        assert_eq!(
            settings,
            [
                Setting::Versioning,
                Setting::Cors,
                Setting::Notification,
                Setting::NoncurrentVersions,
                Setting::ArchiveExpiry
            ]
        );
        let now = after(&before, &changes);
        let (was, is) = (
            before.cors.unwrap().unwrap(),
            now.cors.clone().unwrap().unwrap(),
        );
        assert_eq!((is.len(), &is[0]), (2, &was[0]));
        let (was, is) = (
            before.notification.unwrap().unwrap(),
            now.notification.clone().unwrap().unwrap(),
        );
        assert_eq!(is.queue_configurations(), was.queue_configurations());
        assert_eq!(
            is.lambda_function_configurations()[0],
            was.lambda_function_configurations()[0]
        );
        assert_eq!(is.lambda_function_configurations().len(), 2);
        let (was, is) = (
            before.lifecycle.unwrap().unwrap(),
            now.lifecycle.clone().unwrap().unwrap(),
        );
        // Both lifecycle changes land: the second starts from the first.
        assert_eq!((is.len(), &is[0]), (3, &was[0]));
        let ids: Vec<_> = is.iter().filter_map(|r| r.id()).collect();
        assert_eq!(ids, ["tmp", LIFECYCLE_RULE_ID, ARCHIVES_RULE_ID]);
        assert!(
            findings(&now, &needs()).iter().all(|f| f.ok),
            "{:?}",
            findings(&now, &needs())
        );
        assert!(
            plan(&now, &needs(), TARGET).is_empty(),
            "a second run changes nothing"
        );
    }

    #[test]
    fn the_pipelines_own_narrower_target_is_replaced_not_doubled() {
        // S3 refuses two targets whose filters overlap for the same event.
        let mut s = complete();
        s.notification = Ok(Some(notifying(vec![lambda(
            PIPELINE,
            &[Event::S3ObjectCreatedPut],
            "jobs/",
            "",
        )])));
        let changes = plan(&s, &needs(), TARGET);
        assert_eq!(changes.len(), 1);
        assert!(changes[0].what.contains("replacing"), "{}", changes[0].what);
        let now = after(&s, &changes);
        let targets = now.notification.unwrap().unwrap();
        assert_eq!(targets.lambda_function_configurations().len(), 1);
        assert_eq!(
            targets.lambda_function_configurations()[0].id(),
            Some(NOTIFICATION_ID)
        );
    }

    #[test]
    fn what_it_cannot_fix_or_read_it_leaves_alone() {
        let mut s = complete();
        s.public_access_block = Ok(None);
        s.lifecycle = Ok(Some(vec![
            rule("short", "jobs/")
                .noncurrent_version_expiration(noncurrent(30))
                .build()
                .unwrap(),
            archives_kept_a_week(),
        ]));
        s.cors = Ok(Some(vec![cors_rule(&["*"], &["GET"], &[])]));
        s.versioning = Err("NotImplemented".into());
        assert!(plan(&s, &needs(), TARGET).is_empty());
    }
}
