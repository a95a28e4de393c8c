//! `GET /upload-url` end to end: the issued presigned POST uploads to the real S3 server (Garage),
//! and every way of bending it is refused by S3 itself, with nothing stored.

use std::time::Duration;

use crate::support::*;
use serde_json::Value;

fn key_of(grant: &Value) -> String {
    grant["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_valid_upload_is_stored_byte_for_byte() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let grant = issue(&app, &job, "").await;

    let key = key_of(&grant);
    assert!(
        key.starts_with(&format!("jobs/{job}/")) && key.ends_with(".jpg"),
        "{key}"
    );
    assert_eq!(grant["max_bytes"], 52_428_800);
    assert_eq!(grant["fields"]["Content-Type"], "image/jpeg");
    assert_eq!(grant["fields"]["key"], key.as_str());
    assert!(grant["expires_at"].as_str().unwrap().ends_with('Z'));

    let bytes = photo_bytes(1, 150_000);
    let (status, body) = post_form(&grant, |_| {}, bytes.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert!(body.contains(&key), "201 body names the key: {body}");
    assert_eq!(stack.object(&key).await.as_deref(), Some(&bytes[..]));

    // S3 stored the signed type and job metadata, not whatever a client might have sent.
    let head = stack
        .s3()
        .head_object()
        .bucket(&stack.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/jpeg"));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("job-id"))
            .map(String::as_str),
        Some(job.as_str())
    );
}

#[tokio::test]
async fn issuance_is_audited_before_the_url_is_returned() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let grant = issue(&app, &job, "&content_type=image/png&size=1234").await;
    assert_eq!(grant["max_bytes"], 1234);
    assert!(key_of(&grant).ends_with(".png"));

    let rows = stack.audit_rows(&job).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let s = |name: &str| row[name].as_s().unwrap().clone();
    assert_eq!(s("event"), "upload_url_issued");
    assert_eq!(s("key"), key_of(&grant));
    assert_eq!(s("content_type"), "image/png");
    assert_eq!(row["max_bytes"].as_n().unwrap(), "1234");
    assert_eq!(s("source_ip"), SOURCE_IP);
    assert_eq!(s("user_agent"), "qdn-photos-tests");
    assert!(s("principal").starts_with("token:"));
    assert!(s("sk").ends_with(&format!("#{}", s("request_id"))));
}

#[tokio::test]
async fn s3_refuses_a_body_over_the_signed_size() {
    let stack = Stack::get();
    let app = stack.app(&[("MAX_UPLOAD_BYTES", "1024")]);
    let grant = issue(&app, &new_job(), "").await;
    let (status, body) = post_form(&grant, |_| {}, photo_bytes(2, 1025)).await;
    assert_refused(status, &body);
    assert_eq!(stack.object(&key_of(&grant)).await, None);
    // The same grant takes a body at the limit.
    let (status, body) = post_form(&grant, |_| {}, photo_bytes(2, 1024)).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn s3_refuses_a_body_over_the_declared_size() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let grant = issue(&app, &new_job(), "&size=100").await;
    let (status, body) = post_form(&grant, |_| {}, photo_bytes(3, 101)).await;
    assert_refused(status, &body);
    assert_eq!(stack.object(&key_of(&grant)).await, None);
}

#[tokio::test]
async fn s3_refuses_an_empty_body() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let grant = issue(&app, &new_job(), "").await;
    let (status, body) = post_form(&grant, |_| {}, Vec::new()).await;
    assert_refused(status, &body);
    assert_eq!(stack.object(&key_of(&grant)).await, None);
}

#[tokio::test]
async fn s3_refuses_another_content_type() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let grant = issue(&app, &new_job(), "").await;
    for other in ["image/png", "text/html", "image/svg+xml"] {
        let (status, body) = post_form(
            &grant,
            |f| set_field(f, "Content-Type", other),
            photo_bytes(4, 500),
        )
        .await;
        assert_refused(status, &body);
    }
    assert_eq!(stack.object(&key_of(&grant)).await, None);
}

#[tokio::test]
async fn s3_refuses_a_changed_key() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let grant = issue(&app, &job, "").await;
    let other = format!(
        "jobs/{}/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg",
        new_job()
    );
    for changed in [
        other.clone(),
        format!("jobs/{job}/../evil.jpg"),
        format!("{}x", key_of(&grant)),
    ] {
        let (status, body) = post_form(
            &grant,
            |f| set_field(f, "key", &changed),
            photo_bytes(5, 500),
        )
        .await;
        assert_refused(status, &body);
        assert_eq!(stack.object(&changed).await, None);
    }
    assert_eq!(stack.object(&key_of(&grant)).await, None);
}

#[tokio::test]
async fn s3_refuses_a_tampered_signature_or_policy() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let grant = issue(&app, &new_job(), "").await;
    let signature = grant["fields"]["x-amz-signature"]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = format!(
        "{}{}",
        &signature[..63],
        if signature.ends_with('0') { '1' } else { '0' }
    );
    let (status, body) = post_form(
        &grant,
        |f| set_field(f, "x-amz-signature", &flipped),
        photo_bytes(6, 500),
    )
    .await;
    assert_refused(status, &body);

    // A policy widened to a million times the size, presented with the original signature.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let policy = String::from_utf8(
        b64.decode(grant["fields"]["policy"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let widened = b64.encode(policy.replace("52428800", "52428800000000"));
    let (status, body) = post_form(
        &grant,
        |f| set_field(f, "policy", &widened),
        photo_bytes(6, 500),
    )
    .await;
    assert_refused(status, &body);
    assert_eq!(stack.object(&key_of(&grant)).await, None);
}

#[tokio::test]
async fn s3_refuses_a_policy_signed_with_another_secret() {
    let stack = Stack::get();
    let forged = aws_credential_types::Credentials::new(
        &stack.access_key,
        "not-the-real-secret-at-all",
        None,
        None,
        "forged",
    );
    let app = stack.app_with(&[], &stack.s3_endpoint, &stack.dynamodb_endpoint, forged);
    let grant = issue(&app, &new_job(), "").await;
    let (status, body) = post_form(&grant, |_| {}, photo_bytes(7, 500)).await;
    assert_refused(status, &body);
    assert_eq!(stack.object(&key_of(&grant)).await, None);
}

#[tokio::test]
async fn s3_refuses_fields_the_policy_does_not_name() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let grant = issue(&app, &new_job(), "").await;
    for (name, value) in [
        ("acl", "public-read"),
        ("x-amz-website-redirect-location", "https://evil.example/"),
    ] {
        let (status, body) = post_form(
            &grant,
            |f| f.insert(0, (name.to_owned(), value.to_owned())),
            photo_bytes(8, 500),
        )
        .await;
        assert_refused(status, &body);
    }
    assert_eq!(stack.object(&key_of(&grant)).await, None);
}

#[tokio::test]
async fn s3_refuses_an_expired_policy() {
    let stack = Stack::get();
    let app = stack.app(&[("UPLOAD_URL_TTL_SECS", "1")]);
    let grant = issue(&app, &new_job(), "").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = post_form(&grant, |_| {}, photo_bytes(9, 500)).await;
    assert_refused(status, &body);
    assert_eq!(stack.object(&key_of(&grant)).await, None);
}

#[tokio::test]
async fn session_credentials_sign_a_policy_s3_accepts_and_cut_its_expiry() {
    // Garage has no STS; what is checked here is that a token-bearing policy still verifies when
    // the token field is one the policy names, as Lambda's credentials always carry one.
    let stack = Stack::get();
    let creds = aws_credential_types::Credentials::new(
        &stack.access_key,
        &stack.secret_key,
        Some("FwoGZXIvYXdzEJr//////////session-token".into()),
        Some(std::time::SystemTime::now() + Duration::from_secs(120)),
        "session",
    );
    let app = stack.app_with(&[], &stack.s3_endpoint, &stack.dynamodb_endpoint, creds);
    let grant = issue(&app, &new_job(), "").await;
    assert_eq!(
        grant["fields"]["x-amz-security-token"],
        "FwoGZXIvYXdzEJr//////////session-token"
    );
    // Expiry is cut to the credentials' own (120 s), not the configured 900 s.
    let expires = grant["expires_at"].as_str().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let latest = s3_presign::UtcTime::from_unix_secs(now + 121).rfc3339();
    assert!(expires <= latest.as_str(), "{expires} > {latest}");
    let (status, body) = post_form(&grant, |_| {}, photo_bytes(10, 500)).await;
    assert_eq!(status, 201, "{body}");
}
