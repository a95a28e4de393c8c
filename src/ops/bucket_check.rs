//! `check-bucket`: judges an existing bucket's settings (for `CreateBucket=false`) against what
//! the template gives a bucket it creates and what the pipeline depends on. Pure: the settings
//! are read by [`crate::ops::bucket_settings`], so every judgement is tested without a server.
//! Each failing finding says what to run; `setup-bucket` fixes the ones it can merge
//! ([`crate::ops::bucket_setup`]) with these same predicates.

use aws_sdk_s3::types::{
    CorsRule, Event, ExpirationStatus, FilterRuleName, LambdaFunctionConfiguration, LifecycleRule,
    NotificationConfiguration, TransitionStorageClass,
};
use serde_json::Value;

use crate::domain::job::{ARCHIVES_PREFIX, ARCHIVE_DAYS};
use crate::ops::bucket_settings::BucketSettings;

/// Where uploads live: the pipeline's notification and the lifecycle rules are judged for it.
pub const UPLOADS_PREFIX: &str = "jobs/";

/// What the service needs of the bucket; the unknown parts are judged leniently and said so.
#[derive(Debug, Clone, Copy)]
pub struct Needs<'a> {
    pub bucket: &'a str,
    /// The dashboard's origin (`--origin`).
    pub origin: Option<&'a str>,
    /// The stack's `PipelineFunctionArn` output (`--pipeline-arn`).
    pub pipeline_arn: Option<&'a str>,
    /// The audit's retention (`AuditRetentionDays`): photos must not expire before their record.
    pub retention_days: u64,
}

impl Needs<'_> {
    /// The command that merges the missing settings in (`setup-bucket`).
    pub fn setup_command(&self) -> String {
        format!(
            "qdn-photos setup-bucket --bucket {} --origin {} --pipeline-arn {}",
            self.bucket,
            self.origin.unwrap_or("ORIGIN"),
            self.pipeline_arn
                .unwrap_or("ARN (the stack's PipelineFunctionArn output)")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub setting: Setting,
    pub ok: bool,
    pub detail: String,
    /// What fixes it, when it is not ok.
    pub remedy: Option<Remedy>,
}

/// What an operator does about a failing finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// `setup-bucket` merges the setting in (versioning, CORS, notification, the two lifecycle rules).
    SetupBucket,
    BlockPublicAccess,
    Encrypt,
    AddTlsStatement,
    /// A rule someone else wrote: `setup-bucket` never removes one.
    EditLifecycle,
    EditCors,
    /// The setting could not be read.
    ReadAccess,
}

impl Remedy {
    /// The command (or the step) that fixes it, for `needs`'s bucket.
    pub fn command(self, needs: &Needs) -> String {
        let bucket = needs.bucket;
        match self {
            Remedy::SetupBucket => needs.setup_command(),
            Remedy::BlockPublicAccess => format!(
                "aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration \
                 BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
            ),
            Remedy::Encrypt => format!(
                "aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration \
                 '{{\"Rules\":[{{\"ApplyServerSideEncryptionByDefault\":{{\"SSEAlgorithm\":\"AES256\"}}}}]}}'"
            ),
            Remedy::AddTlsStatement => format!(
                "add the DenyInsecureTransport statement of docs/deploy.md to the bucket policy \
                 (aws s3api get-bucket-policy --bucket {bucket}, then put-bucket-policy)"
            ),
            Remedy::EditLifecycle => format!(
                "change or remove that rule (aws s3api get-bucket-lifecycle-configuration --bucket {bucket}, \
                 then put-bucket-lifecycle-configuration); setup-bucket never removes a rule"
            ),
            Remedy::EditCors => format!(
                "remove `*` from that rule's AllowedOrigins (aws s3api get-bucket-cors --bucket {bucket}, \
                 then put-bucket-cors), then run setup-bucket"
            ),
            Remedy::ReadAccess => {
                "run with credentials that may read the bucket's configuration (s3:GetBucket*, \
                 s3:GetLifecycleConfiguration), against S3 itself"
                    .into()
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Versioning,
    PublicAccessBlock,
    DefaultEncryption,
    TlsOnlyPolicy,
    Cors,
    Notification,
    Expiry,
    NoncurrentVersions,
    ArchiveExpiry,
}

impl Setting {
    pub fn name(self) -> &'static str {
        match self {
            Setting::Versioning => "versioning",
            Setting::PublicAccessBlock => "public access block",
            Setting::DefaultEncryption => "default encryption",
            Setting::TlsOnlyPolicy => "TLS-only policy",
            Setting::Cors => "CORS",
            Setting::Notification => "notification",
            Setting::Expiry => "expiry of jobs/",
            Setting::NoncurrentVersions => "noncurrent versions",
            Setting::ArchiveExpiry => "expiry of exports/",
        }
    }
}

/// One finding per protection the uploads bucket relies on (see SECURITY.md), in a fixed order.
pub fn findings(s: &BucketSettings, needs: &Needs) -> Vec<Finding> {
    let judged = [
        (Setting::Versioning, judge(&s.versioning, versioning)),
        (
            Setting::PublicAccessBlock,
            judge(&s.public_access_block, public_access_block),
        ),
        (
            Setting::DefaultEncryption,
            judge(&s.default_encryption, |a| match a {
                Some(algorithm) => Ok(algorithm.clone()),
                None => Err(("none configured".into(), Remedy::Encrypt)),
            }),
        ),
        (
            Setting::TlsOnlyPolicy,
            judge(&s.policy, |p| match p {
                Some(policy) if denies_insecure_transport(policy) => {
                    Ok("plain HTTP is denied".into())
                }
                _ => Err((
                    "no statement denies s3:* when aws:SecureTransport is false".into(),
                    Remedy::AddTlsStatement,
                )),
            }),
        ),
        (
            Setting::Cors,
            judge(&s.cors, |rules| cors(rules.as_deref(), needs.origin)),
        ),
        (
            Setting::Notification,
            judge(&s.notification, |config| {
                notification(config.as_ref(), needs.pipeline_arn)
            }),
        ),
        (
            Setting::Expiry,
            judge(&s.lifecycle, |rules| {
                expiry(rules.as_deref().unwrap_or_default(), needs.retention_days)
            }),
        ),
        (
            Setting::NoncurrentVersions,
            judge(&s.lifecycle, |rules| {
                noncurrent_versions(rules.as_deref().unwrap_or_default(), needs.retention_days)
            }),
        ),
        (
            Setting::ArchiveExpiry,
            judge(&s.lifecycle, |rules| {
                archive_expiry(rules.as_deref().unwrap_or_default())
            }),
        ),
    ];
    judged
        .into_iter()
        .map(|(setting, verdict)| {
            let (detail, remedy) = match verdict {
                Ok(detail) => (detail, None),
                Err((detail, remedy)) => (detail, Some(remedy)),
            };
            Finding {
                setting,
                ok: remedy.is_none(),
                detail,
                remedy,
            }
        })
        .collect()
}

/// What holds, or what is wrong and its remedy.
type Verdict = Result<String, (String, Remedy)>;

fn judge<T>(reading: &Result<Option<T>, String>, rule: impl Fn(&Option<T>) -> Verdict) -> Verdict {
    match reading {
        Ok(value) => rule(value),
        Err(code) => Err((format!("could not be read ({code})"), Remedy::ReadAccess)),
    }
}

fn versioning(status: &Option<String>) -> Verdict {
    match status.as_deref() {
        Some("Enabled") => Ok("enabled".into()),
        other => Err((
            format!(
                "{}: a replayed grant would overwrite a photo's bytes",
                other.unwrap_or("never enabled")
            ),
            Remedy::SetupBucket,
        )),
    }
}

fn public_access_block(flags: &Option<[bool; 4]>) -> Verdict {
    match flags {
        Some(flags) if flags.iter().all(|f| *f) => Ok("all four settings on".into()),
        _ => Err((
            "not all four settings on: an ACL or policy could make photos public".into(),
            Remedy::BlockPublicAccess,
        )),
    }
}

fn cors(rules: Option<&[CorsRule]>, origin: Option<&str>) -> Verdict {
    let Some(rules) = rules else {
        return Err((
            "no rules: browsers cannot POST uploads".into(),
            Remedy::SetupBucket,
        ));
    };
    if rules
        .iter()
        .any(|r| r.allowed_origins().iter().any(|o| o.contains('*')))
    {
        // Any web page could then read photo URLs' answers: a rule to remove, not to add to.
        return Err(("a rule allows any origin (`*`)".into(), Remedy::EditCors));
    }
    match origin {
        None => Ok("rules name exact origins (pass --origin to check yours)".into()),
        Some(origin) if cors_allows(rules, origin) => {
            Ok(format!("{origin} may POST uploads and GET photos"))
        }
        Some(origin) => Err((
            format!(
                "{origin} may not both POST uploads (with a content-type header) and GET photos"
            ),
            Remedy::SetupBucket,
        )),
    }
}

/// Whether some rule lets `origin` POST the upload form (whose preflight asks for
/// `content-type`) and some rule lets it GET photos. S3 uses the first rule that matches, and
/// other rules never stop a later one from matching.
pub fn cors_allows(rules: &[CorsRule], origin: &str) -> bool {
    let allows = |method: &str, header: Option<&str>| {
        rules.iter().any(|r| {
            r.allowed_origins().iter().any(|o| o == origin)
                && r.allowed_methods().iter().any(|m| m == method)
                && header.is_none_or(|h| {
                    r.allowed_headers()
                        .iter()
                        .any(|a| a == "*" || a.eq_ignore_ascii_case(h))
                })
        })
    };
    allows("POST", Some("content-type")) && allows("GET", None)
}

fn notification(config: Option<&NotificationConfiguration>, arn: Option<&str>) -> Verdict {
    let targets = config.map_or(&[][..], |c| c.lambda_function_configurations());
    let to_pipeline: Vec<_> = targets
        .iter()
        .filter(|t| arn.is_none_or(|arn| is_function(t.lambda_function_arn(), arn)))
        .collect();
    match (to_pipeline.iter().find(|t| covers_uploads(t)), arn) {
        (Some(_), Some(_)) => Ok(format!(
            "every object created under {UPLOADS_PREFIX} invokes the pipeline"
        )),
        (Some(t), None) => Ok(format!(
            "every object created under {UPLOADS_PREFIX} invokes {} (pass --pipeline-arn to check it is this stack's)",
            t.lambda_function_arn()
        )),
        (None, _) if !to_pipeline.is_empty() => Err((
            format!(
                "the pipeline is notified, but not of every object created under \
                 {UPLOADS_PREFIX} (events or key filter): those photos are never verified or listed"
            ),
            Remedy::SetupBucket,
        )),
        (None, _) => Err((
            format!(
                "no object created under {UPLOADS_PREFIX} invokes {}: photos are never verified \
                 or listed",
                if arn.is_some() { "the pipeline" } else { "a Lambda function" }
            ),
            Remedy::SetupBucket,
        )),
    }
}

/// The notification target `setup-bucket` would add is already there (or one at least as wide).
pub fn notifies_pipeline(config: &NotificationConfiguration, arn: &str) -> bool {
    config
        .lambda_function_configurations()
        .iter()
        .any(|t| is_function(t.lambda_function_arn(), arn) && covers_uploads(t))
}

/// `target` names the function `arn`, itself or one of its versions or aliases.
fn is_function(target: &str, arn: &str) -> bool {
    target == arn || target.strip_prefix(arn).is_some_and(|q| q.starts_with(':'))
}

/// Every way the service stores an upload (POST and PUT) under `jobs/` is notified.
fn covers_uploads(target: &LambdaFunctionConfiguration) -> bool {
    let events = target.events();
    let created = events.contains(&Event::S3ObjectCreated)
        || (events.contains(&Event::S3ObjectCreatedPost)
            && events.contains(&Event::S3ObjectCreatedPut));
    let rules = target
        .filter()
        .and_then(|f| f.key())
        .map_or(&[][..], |k| k.filter_rules());
    let value = |name: FilterRuleName| {
        rules
            .iter()
            .filter(|r| r.name() == Some(&name))
            .filter_map(|r| r.value())
            .find(|v| !v.is_empty())
    };
    created
        && value(FilterRuleName::Prefix).is_none_or(|p| UPLOADS_PREFIX.starts_with(p))
        && value(FilterRuleName::Suffix).is_none()
}

/// How much of `prefix` an enabled lifecycle rule reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    Nothing,
    /// Part of it: a narrower prefix, or a tag or size filter.
    Some,
    Everything,
}

#[allow(deprecated)] // `Prefix` outside a filter is deprecated for new rules, not for reading.
fn reach(rule: &LifecycleRule, of: &str) -> (Reach, String) {
    if rule.status != ExpirationStatus::Enabled {
        return (Reach::Nothing, String::new());
    }
    let (prefix, narrowed) = match &rule.filter {
        Some(f) => match &f.and {
            Some(and) => (and.prefix().unwrap_or_default(), true),
            None => (
                f.prefix.as_deref().unwrap_or_default(),
                f.tag.is_some()
                    || f.object_size_greater_than.is_some()
                    || f.object_size_less_than.is_some(),
            ),
        },
        None => (rule.prefix.as_deref().unwrap_or_default(), false),
    };
    let named = format!(
        "rule `{}` ({})",
        rule.id.as_deref().unwrap_or("unnamed"),
        if prefix.is_empty() {
            "the whole bucket"
        } else {
            prefix
        }
    );
    let reach = if of.starts_with(prefix) && !narrowed {
        Reach::Everything
    } else if of.starts_with(prefix) || prefix.starts_with(of) {
        Reach::Some
    } else {
        Reach::Nothing
    };
    (reach, named)
}

/// The enabled rules reaching into `prefix` that set `days`: how far each reaches, its name, and
/// its days.
fn reaching_with_days(
    rules: &[LifecycleRule],
    prefix: &str,
    days: impl Fn(&LifecycleRule) -> Option<i32>,
) -> Vec<(Reach, String, i32)> {
    rules
        .iter()
        .filter_map(|rule| {
            let (reach, named) = reach(rule, prefix);
            Some((reach, named, days(rule)?)).filter(|_| reach != Reach::Nothing)
        })
        .collect()
}

/// Nothing under `jobs/` is deleted before its audit record, nor moved where a photo URL cannot
/// read it without a restore.
fn expiry(rules: &[LifecycleRule], retention_days: u64) -> Verdict {
    let mut problems = Vec::new();
    for rule in rules {
        let (reach, named) = reach(rule, UPLOADS_PREFIX);
        if reach == Reach::Nothing {
            continue;
        }
        if let Some(e) = &rule.expiration {
            if let Some(days) = e
                .days
                .filter(|d| u64::try_from(*d).unwrap_or(0) < retention_days)
            {
                problems.push(format!("{named} deletes photos after {days} days"));
            }
            if e.date.is_some() {
                problems.push(format!("{named} deletes photos on a date"));
            }
        }
        let archived = rule.transitions.iter().flatten().any(|t| {
            matches!(
                t.storage_class,
                Some(TransitionStorageClass::Glacier | TransitionStorageClass::DeepArchive)
            )
        });
        if archived {
            problems.push(format!(
                "{named} archives photos (GLACIER/DEEP_ARCHIVE): their URLs fail until restored"
            ));
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "nothing under {UPLOADS_PREFIX} expires before the audit's {retention_days} days"
        ))
    } else {
        Err((
            format!(
                "{} (the audit keeps {retention_days} days)",
                problems.join("; ")
            ),
            Remedy::EditLifecycle,
        ))
    }
}

/// Versions the pipeline did not remove itself (a delete or an overwrite by hand) expire, but
/// not before the audit's retention: a listed photo is its key's noncurrent version while a later
/// upload of the key waits to be checked (in the failure queue, or for `reprocess`).
fn noncurrent_versions(rules: &[LifecycleRule], retention_days: u64) -> Verdict {
    let reaching = reaching_with_days(rules, UPLOADS_PREFIX, |rule| {
        rule.noncurrent_version_expiration.as_ref()?.noncurrent_days
    });
    let too_soon = |d: &i32| u64::try_from(*d).unwrap_or(0) < retention_days;
    if let Some((_, named, d)) = reaching.iter().find(|(_, _, d)| too_soon(d)) {
        return Err((
            format!(
                "{named} removes noncurrent versions after {d} days, before the audit's \
                 {retention_days}: a listed photo is noncurrent while a later upload of its key \
                 waits to be checked"
            ),
            Remedy::EditLifecycle,
        ));
    }
    match reaching
        .iter()
        .find(|(reach, _, _)| *reach == Reach::Everything)
    {
        Some((_, named, d)) => Ok(format!("{named}: removed after {d} days")),
        None => Err((
            format!(
                "no rule expires noncurrent versions under {UPLOADS_PREFIX}: a photo deleted by \
                 hand stays stored, invisible, forever"
            ),
            Remedy::SetupBucket,
        )),
    }
}

/// Whether a bucket policy has the statement the template writes: deny `s3:*` to everyone when
/// `aws:SecureTransport` is false.
pub fn denies_insecure_transport(policy: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let as_list = |v: &Value| -> Vec<Value> {
        match v {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        }
    };
    as_list(&doc["Statement"]).iter().any(|s| {
        let everyone = s["Principal"] == "*" || s["Principal"]["AWS"] == "*";
        let all_actions = as_list(&s["Action"]).iter().any(|a| a == "s3:*");
        let insecure = as_list(&s["Condition"]["Bool"]["aws:SecureTransport"])
            .iter()
            .any(|v| v == "false" || *v == Value::Bool(false));
        s["Effect"] == "Deny" && everyone && all_actions && insecure
    })
}

/// Evidence archives go when `GET /exports` stops handing them out ([`ARCHIVE_DAYS`]), not before
/// (a URL it hands out would answer 404) and not long after (copies of a job's photos, kept for
/// nobody).
fn archive_expiry(rules: &[LifecycleRule]) -> Verdict {
    let expiring = reaching_with_days(rules, ARCHIVES_PREFIX, |rule| {
        rule.expiration.as_ref()?.days
    });
    let kept = i32::try_from(ARCHIVE_DAYS).unwrap_or(i32::MAX);
    if let Some((_, named, days)) = expiring.iter().find(|(_, _, days)| *days < kept) {
        return Err((
            format!(
                "{named} deletes archives after {days} days, while GET /exports hands them out \
                 for {ARCHIVE_DAYS}"
            ),
            Remedy::EditLifecycle,
        ));
    }
    match expiring
        .iter()
        .find(|(reach, _, days)| *reach == Reach::Everything && *days == kept)
    {
        Some((_, named, _)) => Ok(format!("{named}: archives expire after {ARCHIVE_DAYS} days")),
        None => Err((
            format!(
                "no rule expires {ARCHIVES_PREFIX} after {ARCHIVE_DAYS} days: archives GET /exports \
                 calls expired (copies of a job's photos) stay stored"
            ),
            Remedy::SetupBucket,
        )),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use aws_sdk_s3::types::{
        FilterRule, LifecycleExpiration, LifecycleRuleFilter, NoncurrentVersionExpiration,
        NotificationConfigurationFilter, S3KeyFilter, Transition,
    };

    use super::*;

    const TLS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport",
        "Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],
        "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
    pub const ORIGIN: &str = "https://dash.example.com";
    pub const PIPELINE: &str = "arn:aws:lambda:eu-west-1:123456789012:function:qdn-pipeline";

    pub fn needs() -> Needs<'static> {
        Needs {
            bucket: "qdn-uploads",
            origin: Some(ORIGIN),
            pipeline_arn: Some(PIPELINE),
            retention_days: 400,
        }
    }

    pub fn cors_rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        let mut b = CorsRule::builder();
        for o in origins {
            b = b.allowed_origins(*o);
        }
        for m in methods {
            b = b.allowed_methods(*m);
        }
        for h in headers {
            b = b.allowed_headers(*h);
        }
        b.build().unwrap()
    }

    pub fn lambda(
        arn: &str,
        events: &[Event],
        prefix: &str,
        suffix: &str,
    ) -> LambdaFunctionConfiguration {
        let mut key = S3KeyFilter::builder();
        for (name, value) in [
            (FilterRuleName::Prefix, prefix),
            (FilterRuleName::Suffix, suffix),
        ] {
            if !value.is_empty() {
                key = key.filter_rules(FilterRule::builder().name(name).value(value).build());
            }
        }
        LambdaFunctionConfiguration::builder()
            .lambda_function_arn(arn)
            .set_events(Some(events.to_vec()))
            .filter(
                NotificationConfigurationFilter::builder()
                    .key(key.build())
                    .build(),
            )
            .build()
            .unwrap()
    }

    pub fn notifying(targets: Vec<LambdaFunctionConfiguration>) -> NotificationConfiguration {
        NotificationConfiguration::builder()
            .set_lambda_function_configurations(Some(targets))
            .build()
    }

    pub fn rule(id: &str, prefix: &str) -> aws_sdk_s3::types::builders::LifecycleRuleBuilder {
        LifecycleRule::builder()
            .id(id)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
    }

    pub fn noncurrent(days: i32) -> NoncurrentVersionExpiration {
        NoncurrentVersionExpiration::builder()
            .noncurrent_days(days)
            .build()
    }

    /// The template's rule: noncurrent versions under jobs/ go after the audit's 400 days.
    pub fn versions_kept_the_audits_time() -> LifecycleRule {
        rule("versions", "jobs/")
            .noncurrent_version_expiration(noncurrent(400))
            .build()
            .unwrap()
    }

    /// The template's rule: archives under exports/ go after a week.
    pub fn archives_kept_a_week() -> LifecycleRule {
        rule("archives", "exports/")
            .expiration(LifecycleExpiration::builder().days(7).build())
            .build()
            .unwrap()
    }

    /// A bucket as the template creates it.
    pub fn complete() -> BucketSettings {
        BucketSettings {
            versioning: Ok(Some("Enabled".into())),
            public_access_block: Ok(Some([true; 4])),
            default_encryption: Ok(Some("AES256".into())),
            policy: Ok(Some(TLS_ONLY.into())),
            cors: Ok(Some(vec![cors_rule(
                &[ORIGIN],
                &["POST", "GET"],
                &["content-type"],
            )])),
            notification: Ok(Some(notifying(vec![lambda(
                PIPELINE,
                &[Event::S3ObjectCreated],
                "jobs/",
                "",
            )]))),
            lifecycle: Ok(Some(vec![
                versions_kept_the_audits_time(),
                archives_kept_a_week(),
            ])),
        }
    }

    fn failing(settings: &BucketSettings, needs: &Needs) -> Vec<Setting> {
        findings(settings, needs)
            .into_iter()
            .filter(|f| !f.ok)
            .map(|f| f.setting)
            .collect()
    }

    #[test]
    fn a_bucket_configured_like_the_template_passes_every_check() {
        let found = findings(&complete(), &needs());
        assert!(
            found.iter().all(|f| f.ok && f.remedy.is_none()),
            "{found:?}"
        );
        let unknown = Needs {
            origin: None,
            pipeline_arn: None,
            ..needs()
        };
        assert!(failing(&complete(), &unknown).is_empty());
    }

    #[test]
    fn each_missing_protection_is_named_with_its_remedy() {
        type Weaken = fn(&mut BucketSettings);
        use Remedy::*;
        use Setting::*;
        let cases: Vec<(Setting, Remedy, Weaken)> = vec![
            (Versioning, SetupBucket, |s| {
                s.versioning = Ok(Some("Suspended".into()))
            }),
            (Versioning, SetupBucket, |s| s.versioning = Ok(None)),
            (PublicAccessBlock, BlockPublicAccess, |s| {
                s.public_access_block = Ok(Some([true, true, false, true]))
            }),
            (DefaultEncryption, Encrypt, |s| {
                s.default_encryption = Ok(None)
            }),
            (TlsOnlyPolicy, AddTlsStatement, |s| s.policy = Ok(None)),
            (TlsOnlyPolicy, AddTlsStatement, |s| {
                s.policy = Ok(Some(TLS_ONLY.replace("Deny", "Allow")))
            }),
            (Cors, EditCors, |s| {
                s.cors = Ok(Some(vec![cors_rule(&["*"], &["POST"], &[])]))
            }),
            (Cors, SetupBucket, |s| s.cors = Ok(None)),
            // The preflight asks for content-type; a rule without it is not enough.
            (Cors, SetupBucket, |s| {
                s.cors = Ok(Some(vec![cors_rule(&[ORIGIN], &["POST", "GET"], &[])]))
            }),
            (Cors, ReadAccess, |s| s.cors = Err("NotImplemented".into())),
            (Notification, SetupBucket, |s| {
                s.notification = Ok(Some(notifying(vec![])))
            }),
            (Notification, ReadAccess, |s| {
                s.notification = Err("NotImplemented".into())
            }),
            (Expiry, EditLifecycle, |s| {
                s.lifecycle = Ok(Some(vec![
                    rule("old", "")
                        .expiration(LifecycleExpiration::builder().days(365).build())
                        .build()
                        .unwrap(),
                    versions_kept_the_audits_time(),
                    archives_kept_a_week(),
                ]))
            }),
            // A rule for one job's photos, or tagged ones, may still delete photos.
            (Expiry, EditLifecycle, |s| {
                s.lifecycle = Ok(Some(vec![
                    rule("one-job", "jobs/j-1/")
                        .expiration(LifecycleExpiration::builder().days(30).build())
                        .build()
                        .unwrap(),
                    versions_kept_the_audits_time(),
                    archives_kept_a_week(),
                ]))
            }),
            (Expiry, EditLifecycle, |s| {
                s.lifecycle = Ok(Some(vec![
                    rule("versions", "jobs/")
                        .noncurrent_version_expiration(noncurrent(400))
                        .transitions(
                            Transition::builder()
                                .days(90)
                                .storage_class(TransitionStorageClass::Glacier)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                    archives_kept_a_week(),
                ]))
            }),
            (NoncurrentVersions, SetupBucket, |s| {
                s.lifecycle = Ok(Some(vec![archives_kept_a_week()]))
            }),
            (NoncurrentVersions, EditLifecycle, |s| {
                s.lifecycle = Ok(Some(vec![
                    rule("versions", "jobs/")
                        .noncurrent_version_expiration(noncurrent(30))
                        .build()
                        .unwrap(),
                    archives_kept_a_week(),
                ]))
            }),
            // Archives kept for ever (GET /exports calls them expired), or past a week.
            (ArchiveExpiry, SetupBucket, |s| {
                s.lifecycle = Ok(Some(vec![versions_kept_the_audits_time()]))
            }),
            (ArchiveExpiry, SetupBucket, |s| {
                s.lifecycle = Ok(Some(vec![
                    versions_kept_the_audits_time(),
                    rule("archives", "exports/")
                        .expiration(LifecycleExpiration::builder().days(30).build())
                        .build()
                        .unwrap(),
                ]))
            }),
            // Archives deleted while GET /exports still hands out their URLs.
            (ArchiveExpiry, EditLifecycle, |s| {
                s.lifecycle = Ok(Some(vec![
                    versions_kept_the_audits_time(),
                    archives_kept_a_week(),
                    rule("one-job", "exports/j-1/")
                        .expiration(LifecycleExpiration::builder().days(1).build())
                        .build()
                        .unwrap(),
                ]))
            }),
        ];
        for (i, (setting, remedy, weaken)) in cases.into_iter().enumerate() {
            let mut s = complete();
            weaken(&mut s);
            let found: Vec<_> = findings(&s, &needs())
                .into_iter()
                .filter(|f| !f.ok)
                .collect();
            assert_eq!(found.len(), 1, "case {i}: {found:?}");
            assert_eq!(
                (found[0].setting, found[0].remedy),
                (setting, Some(remedy)),
                "case {i}"
            );
        }
        // Targets that do not bring every upload to the pipeline: another function, POST only
        // (PUT uploads never seen), a suffix (a PNG or HEIC never seen), one job's prefix.
        let created = [Event::S3ObjectCreated];
        for (arn, events, prefix, suffix) in [
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:other",
                &created[..],
                "jobs/",
                "",
            ),
            (PIPELINE, &[Event::S3ObjectCreatedPost][..], "jobs/", ""),
            (PIPELINE, &created[..], "jobs/", ".jpg"),
            (PIPELINE, &created[..], "jobs/abc/", ""),
        ] {
            let mut s = complete();
            s.notification = Ok(Some(notifying(vec![lambda(arn, events, prefix, suffix)])));
            let found: Vec<_> = findings(&s, &needs())
                .into_iter()
                .filter(|f| !f.ok)
                .collect();
            assert_eq!(found.len(), 1, "{arn} {events:?} {prefix} {suffix}");
            assert_eq!(
                (found[0].setting, found[0].remedy),
                (Notification, Some(SetupBucket))
            );
        }
        let elsewhere = Needs {
            origin: Some("https://other.example"),
            ..needs()
        };
        assert_eq!(failing(&complete(), &elsewhere), [Cors]);
    }

    #[test]
    fn rules_elsewhere_in_the_bucket_and_wider_or_qualified_targets_pass() {
        let mut s = complete();
        s.lifecycle = Ok(Some(vec![
            rule("tmp", "tmp/")
                .expiration(LifecycleExpiration::builder().days(1).build())
                .build()
                .unwrap(),
            rule("disabled", "")
                .status(ExpirationStatus::Disabled)
                .expiration(LifecycleExpiration::builder().days(1).build())
                .build()
                .unwrap(),
            rule("long", "")
                .expiration(LifecycleExpiration::builder().days(400).build())
                .noncurrent_version_expiration(noncurrent(500))
                .build()
                .unwrap(),
            archives_kept_a_week(),
        ]));
        s.notification = Ok(Some(notifying(vec![lambda(
            &format!("{PIPELINE}:live"),
            &[Event::S3ObjectCreatedPut, Event::S3ObjectCreatedPost],
            "jobs",
            "",
        )])));
        assert!(
            failing(&s, &needs()).is_empty(),
            "{:?}",
            findings(&s, &needs())
        );
        // A function whose name merely starts like the pipeline's is another function.
        s.notification = Ok(Some(notifying(vec![lambda(
            &format!("{PIPELINE}-old"),
            &[Event::S3ObjectCreated],
            "",
            "",
        )])));
        assert_eq!(failing(&s, &needs()), [Setting::Notification]);
    }

    #[test]
    fn every_remedy_names_the_bucket_or_the_step() {
        let n = needs();
        let setup = Remedy::SetupBucket.command(&n);
        assert_eq!(
            setup,
            format!("qdn-photos setup-bucket --bucket qdn-uploads --origin {ORIGIN} --pipeline-arn {PIPELINE}")
        );
        for remedy in [
            Remedy::BlockPublicAccess,
            Remedy::Encrypt,
            Remedy::AddTlsStatement,
            Remedy::EditLifecycle,
            Remedy::EditCors,
        ] {
            assert!(
                remedy.command(&n).contains("--bucket qdn-uploads"),
                "{remedy:?}"
            );
        }
    }

    #[test]
    fn the_tls_statement_is_recognised_in_its_other_spellings() {
        let listed = TLS_ONLY
            .replace(r#""Action":"s3:*""#, r#""Action":["s3:*"]"#)
            .replace(r#""Principal":"*""#, r#""Principal":{"AWS":"*"}"#)
            .replace(r#""false""#, "false");
        assert!(denies_insecure_transport(&listed));
        assert!(!denies_insecure_transport(
            &TLS_ONLY.replace("s3:*", "s3:GetObject")
        ));
        assert!(!denies_insecure_transport("not json"));
    }
}
