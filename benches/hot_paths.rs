//! The per-request hot paths, and aws-sdk-s3's presigner beside ours in the same run.
//! `make bench` runs this; the README's Performance table quotes it.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use criterion::{criterion_group, criterion_main, Criterion};
use hmac::{Hmac, Mac};
use qdn_photos::endpoint::BucketEndpoint;
use qdn_photos::post_policy::{presign_post, UploadPolicy};
use qdn_photos::presign_get::{presign_get, GetPresigner, GetUrlOptions};
use qdn_photos::sigv4::Signer;
use qdn_photos::utc::UtcTime;
use qdn_photos::validate::{image_type_by_mime, new_upload_key};
use sha2::{Digest, Sha256};

const KEY: &str = "jobs/j-12345/019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b.jpg";

/// Lambda's credentials always carry a session token (~1 KB); sign with one of realistic size.
fn lambda_like_credentials() -> Credentials {
    Credentials::new(
        "ASIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        Some("IQoJb3JpZ2luX2VjE".repeat(48)),
        Some(SystemTime::now() + Duration::from_secs(3600)),
        "bench",
    )
}

/// Long-term credentials (no session token), as the reference figures in the README use.
fn static_credentials() -> Credentials {
    Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "bench",
    )
}

fn credential_kinds() -> [(&'static str, Credentials); 2] {
    [
        ("no token", static_credentials()),
        ("lambda 816-byte token", lambda_like_credentials()),
    ]
}

/// Session (cached key) + policy JSON + base64 + signature + form fields.
fn post_issuance(c: &mut Criterion) {
    let signer = Signer::new("us-east-1");
    let jpeg = image_type_by_mime("image/jpeg").unwrap();
    let mut group = c.benchmark_group("post_issuance");
    for (kind, creds) in credential_kinds() {
        group.bench_function(kind, |b| {
            b.iter(|| {
                let session = signer.session(&creds, SystemTime::now());
                let now = session.now();
                presign_post(
                    &session,
                    &UploadPolicy {
                        bucket: "qdn-uploads",
                        key: black_box(KEY),
                        content_type: jpeg.mime,
                        job_id: "j-12345",
                        max_bytes: 52_428_800,
                        expires_at: UtcTime::from_unix_secs(now.unix_secs + 900),
                    },
                )
            })
        });
    }
    group.finish();
}

fn get_presign(c: &mut Criterion) {
    let signer = Signer::new("us-east-1");
    let endpoint = BucketEndpoint::aws("qdn-uploads", "us-east-1");
    let options = GetUrlOptions {
        expires_secs: 3600,
        response_content_disposition: Some("inline"),
        x_id: Some("GetObject"),
    };
    let mut group = c.benchmark_group("get_presign");
    for (kind, creds) in credential_kinds() {
        group.bench_function(format!("ours, {kind}"), |b| {
            b.iter(|| {
                let session = signer.session(&creds, SystemTime::now());
                presign_get(&session, &endpoint, black_box(KEY), &options)
            })
        });
    }
    let creds = static_credentials();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(creds.clone())
        .build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    group.bench_function("aws-sdk-s3 presigned(), no token", |b| {
        b.to_async(&runtime).iter(|| async {
            let config =
                aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(3600))
                    .unwrap();
            let req = client
                .get_object()
                .bucket("qdn-uploads")
                .key(black_box(KEY))
                .response_content_disposition("inline");
            req.presigned(config).await.unwrap()
        })
    });

    // The cryptographic floor: one SHA-256 of a canonical request and one HMAC with a cached key.
    let key: Hmac<Sha256> = Hmac::new_from_slice(&[7u8; 32]).unwrap();
    let canonical = [b'x'; 330];
    let string_to_sign = [b'y'; 120];
    group.bench_function("floor: sha256 + hmac", |b| {
        b.iter(|| {
            let digest = Sha256::digest(black_box(&canonical));
            let mut mac = key.clone();
            mac.update(&string_to_sign);
            mac.update(&digest);
            mac.finalize()
        })
    });
    group.finish();

    let keys: Vec<String> = (0..1000)
        .map(|i| format!("jobs/j-12345/019ab3c4-5d6e-7f80-9a1b-{i:012}.jpg"))
        .collect();
    let mut group = c.benchmark_group("photos_page_1000_urls");
    for (kind, creds) in credential_kinds() {
        group.bench_function(kind, |b| {
            b.iter(|| {
                let session = signer.session(&creds, SystemTime::now());
                let presigner = GetPresigner::new(&session, &endpoint, &options);
                keys.iter()
                    .map(|key| presigner.presign(key))
                    .collect::<Vec<_>>()
            })
        });
    }
    group.finish();
}

fn key_generation(c: &mut Criterion) {
    let jpeg = image_type_by_mime("image/jpeg").unwrap();
    c.bench_function("key_generation (uuid v7 + key)", |b| {
        b.iter(|| new_upload_key(black_box("j-12345"), uuid::Uuid::now_v7(), jpeg))
    });
}

fn request_parsing(c: &mut Criterion) {
    let event = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/events/get-upload-url.json"
    ))
    .unwrap();
    let config = qdn_photos::config::Config::from_lookup(|name| match name {
        "UPLOADS_BUCKET" => Some("qdn-uploads".into()),
        "AUDIT_TABLE" => Some("qdn-audit".into()),
        "AWS_REGION" => Some("us-east-1".into()),
        _ => None,
    })
    .unwrap();
    c.bench_function(
        "request_parsing (API Gateway event → route → checked query)",
        |b| {
            b.iter(|| {
                let req = lambda_http::request::from_str(black_box(&event)).unwrap();
                let route =
                    qdn_photos::router::route(req.method(), qdn_photos::request::route_path(&req))
                        .unwrap();
                let parsed =
                    qdn_photos::routes::issue_upload_url::parse(&req, &config).map(|p| p.max_bytes);
                (route, parsed.unwrap())
            })
        },
    );
}

criterion_group!(
    benches,
    post_issuance,
    get_presign,
    key_generation,
    request_parsing
);
criterion_main!(benches);
