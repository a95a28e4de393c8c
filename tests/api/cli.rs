//! The operator commands, run as operators run them (the function's own binary, the SDK's usual
//! configuration) against the local stack: tokens created, listed, used and revoked; a reused
//! bucket's protections read and judged, on Garage (what it supports) and on moto's S3.

use std::process::Output;

use serde_json::json;

use crate::support::*;

async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_qdn-photos"));
    command.args(args).envs(env.iter().copied());
    command.output().await.expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn tokens_are_created_once_listed_by_id_and_revoked_through_the_binary() {
    let stack = Stack::get();
    let job = new_job();
    let name = format!("tech-{}", &job[2..10]);
    let created = run(
        &[
            "tokens", "create", "--name", &name, "--jobs", &job, "--days", "30",
        ],
        &[],
    )
    .await;
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout).trim().to_owned();
    assert!(
        token.starts_with("qdn_") && token.len() > 40,
        "stdout is the token alone: {token}"
    );
    assert!(text(&created.stderr).contains("shown only now"));

    let app = stack.app(&[("AUTH_MODE", "tokens"), ("TOKEN_CACHE_SECS", "0")]);
    let allowed = ApiEvent::get(&format!("/upload-url?job_id={job}")).bearer(&token);
    assert_eq!(call(&app, allowed.clone()).await.0.as_u16(), 200);
    let elsewhere = ApiEvent::get("/photos?job_id=someone-elses-job").bearer(&token);
    assert_eq!(call(&app, elsewhere).await.0.as_u16(), 403);
    assert_eq!(
        stack.audit_rows(&job).await[0]["principal"].as_s().unwrap(),
        &format!("user:{name}")
    );

    let listed = text(&run(&["tokens", "list"], &[]).await.stdout);
    let line = listed
        .lines()
        .find(|l| l.contains(&format!("user:{name} ")))
        .expect(&listed);
    assert!(line.contains("active") && line.ends_with(&job), "{line}");
    assert!(!listed.contains(&token), "the list never shows a token");
    let id = line.split_whitespace().next().unwrap();

    let revoked = run(&["tokens", "revoke", &id[..8]], &[]).await;
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(text(&revoked.stdout).contains(id));
    assert_eq!(call(&app, allowed).await.0.as_u16(), 401);
    let listed = text(&run(&["tokens", "list"], &[]).await.stdout);
    assert!(listed
        .lines()
        .any(|l| l.starts_with(id) && l.contains("revoked")));

    // Mistakes are refused with a word on what is wrong, and change nothing.
    for bad in [
        &["tokens", "create", "--name", "x"][..],
        &["tokens", "create", "--name", "x", "--jobs", "../etc"],
        &[
            "tokens", "create", "--name", "x", "--jobs", "*", "--days", "0",
        ],
        &[
            "tokens",
            "create",
            "--name",
            "x",
            "--jobs",
            "*",
            "--days",
            "18446744073709551615",
        ],
        &["tokens", "revoke", "abc"],
        &["tokens", "revoke", "ffffffffffff"],
        &["tokens", "delete"],
    ] {
        let out = run(bad, &[]).await;
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(!text(&out.stderr).is_empty(), "{bad:?}");
    }
}

#[tokio::test]
async fn check_bucket_names_what_garage_lacks_and_what_to_run_for_each() {
    Stack::get();
    // Garage: CORS (set by the stack) is there; versioning is not; the rest it cannot report.
    let out = run(
        &[
            "check-bucket",
            "--origin",
            "http://localhost:8080",
            "--pipeline-arn",
            PIPELINE,
        ],
        &[],
    )
    .await;
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}{}", text(&out.stderr));
    let lines: Vec<&str> = report.lines().collect();
    let line = |setting: &str| {
        let at = lines
            .iter()
            .position(|l| l.contains(setting))
            .unwrap_or_else(|| panic!("{setting} in {report}"));
        (lines[at], lines.get(at + 1).copied().unwrap_or_default())
    };
    assert!(line("CORS").0.trim_start().starts_with("ok"), "{report}");
    assert!(
        line("expiry of jobs/").0.trim_start().starts_with("ok"),
        "{report}"
    );
    let setup = "fix: qdn-photos setup-bucket --bucket qdn-uploads --origin http://localhost:8080";
    let unreadable = "fix: run with credentials that may read";
    for (setting, fix) in [
        ("versioning", setup),
        ("noncurrent versions", setup),
        ("expiry of exports/", setup),
        ("public access block", unreadable),
        ("default encryption", unreadable),
        ("TLS-only policy", unreadable),
        ("notification", unreadable),
    ] {
        let (finding, next) = line(setting);
        assert!(finding.contains("MISSING"), "{setting}: {report}");
        assert!(next.trim_start().starts_with(fix), "{setting}: {report}");
    }
    assert!(
        line("versioning")
            .1
            .contains(&format!("--pipeline-arn {PIPELINE}")),
        "{report}"
    );
}

const PIPELINE: &str = "arn:aws:lambda:us-east-1:123456789012:function:qdn-photos-pipeline";
const ORIGIN: &str = "https://dash.example.com";

/// A bucket in moto's S3 (which stores every one of these settings), in use by something else:
/// another site's CORS rule, a queue notified of `in/`, another function of `exports/`, a rule
/// that expires `tmp/`.
async fn bucket_in_use(s3: &aws_sdk_s3::Client) -> String {
    use aws_sdk_s3::types::*;
    let bucket = format!(
        "qdn-reused-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let rule = CorsRule::builder()
        .id("www")
        .allowed_origins("https://www.example.com")
        .allowed_methods("GET")
        .max_age_seconds(60)
        .build()
        .unwrap();
    s3.put_bucket_cors()
        .bucket(&bucket)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let prefix = |p: &str| {
        NotificationConfigurationFilter::builder()
            .key(
                S3KeyFilter::builder()
                    .filter_rules(
                        FilterRule::builder()
                            .name(FilterRuleName::Prefix)
                            .value(p)
                            .build(),
                    )
                    .build(),
            )
            .build()
    };
    let notification = NotificationConfiguration::builder()
        .queue_configurations(
            QueueConfiguration::builder()
                .id("ingest")
                .queue_arn("arn:aws:sqs:us-east-1:123456789012:ingest")
                .events(Event::S3ObjectCreated)
                .filter(prefix("in/"))
                .build()
                .unwrap(),
        )
        .lambda_function_configurations(
            LambdaFunctionConfiguration::builder()
                .id("exports")
                .lambda_function_arn("arn:aws:lambda:us-east-1:123456789012:function:exports")
                .events(Event::S3ObjectRemoved)
                .filter(prefix("exports/"))
                .build()
                .unwrap(),
        )
        .build();
    s3.put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(notification)
        .send()
        .await
        .unwrap();
    let tmp = LifecycleRule::builder()
        .id("tmp")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
        .expiration(LifecycleExpiration::builder().days(2).build())
        .build()
        .unwrap();
    s3.put_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(tmp)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    bucket
}

#[tokio::test]
async fn setup_bucket_merges_into_a_bucket_in_use_keeps_the_rest_and_a_second_run_changes_nothing()
{
    use qdn_photos::ops::bucket_settings::read_settings;
    let stack = Stack::get();
    let moto = stack.dynamodb_endpoint.clone();
    let s3 = stack.s3_at(&moto, stack.credentials(), Budget::Test);
    let bucket = bucket_in_use(&s3).await;
    let before = read_settings(&s3, &bucket).await;
    let env = [("AWS_ENDPOINT_URL_S3", moto.as_str())];
    let setup = |extra: &'static [&'static str]| {
        let mut args = vec![
            "setup-bucket",
            "--bucket",
            &bucket,
            "--origin",
            ORIGIN,
            "--pipeline-arn",
            PIPELINE,
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run_owned = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, &env).await
    };

    // A dry run says what it would change and changes nothing.
    let out = run_owned(setup(&["--dry-run"])).await;
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    for setting in [
        "versioning",
        "CORS",
        "notification",
        "noncurrent versions",
        "expiry of exports/",
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.trim_start().starts_with("would") && l.contains(setting)),
            "{setting}: {report}"
        );
    }
    assert_eq!(read_settings(&s3, &bucket).await, before, "{report}");

    let out = run_owned(setup(&[])).await;
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    assert!(report.contains("5 change(s) made"), "{report}");
    let after = read_settings(&s3, &bucket).await;
    assert_eq!(after.versioning, Ok(Some("Enabled".into())));
    // Everything that was there is written back as it was read.
    let (was, is) = (
        before.cors.clone().unwrap().unwrap(),
        after.cors.clone().unwrap().unwrap(),
    );
    assert_eq!((is.len(), &is[0]), (2, &was[0]));
    let (was, is) = (
        before.notification.clone().unwrap().unwrap(),
        after.notification.clone().unwrap().unwrap(),
    );
    assert_eq!(is.queue_configurations(), was.queue_configurations());
    assert!(is
        .lambda_function_configurations()
        .contains(&was.lambda_function_configurations()[0]));
    assert_eq!(is.lambda_function_configurations().len(), 2);
    let (was, is) = (
        before.lifecycle.clone().unwrap().unwrap(),
        after.lifecycle.clone().unwrap().unwrap(),
    );
    // Both lifecycle rules (noncurrent versions, archives) beside the one that was there.
    assert!(is.contains(&was[0]) && is.len() == 3, "{is:?}");

    // With the three protections setup-bucket leaves to the operator, check-bucket passes.
    protect_like_the_template(&s3, &bucket).await;
    let check = |origin: &'static str| {
        let bucket = bucket.clone();
        async move {
            run(
                &[
                    "check-bucket",
                    "--bucket",
                    &bucket,
                    "--origin",
                    origin,
                    "--pipeline-arn",
                    PIPELINE,
                ],
                &env,
            )
            .await
        }
    };
    let out = check(ORIGIN).await;
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(!report.contains("MISSING"), "{report}");
    let out = check("https://other.example").await;
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let failing: Vec<&str> = report.lines().filter(|l| l.contains("MISSING")).collect();
    assert!(
        failing.len() == 1 && failing[0].contains("CORS"),
        "{report}"
    );

    // A second run finds nothing to do, and says so.
    let settled = read_settings(&s3, &bucket).await;
    let out = run_owned(setup(&[])).await;
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(report.contains("nothing to change"), "{report}");
    assert_eq!(read_settings(&s3, &bucket).await, settled);
}

/// What the template gives a bucket besides what setup-bucket merges: public access block,
/// default encryption, the TLS-only policy.
async fn protect_like_the_template(s3: &aws_sdk_s3::Client, bucket: &str) {
    use aws_sdk_s3::types::*;
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(by_default)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
}
