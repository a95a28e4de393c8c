//! The signing hot paths: a presigned POST issuance, a presigned GET, a `/photos` page of 1,000
//! GETs, and the cryptographic floor any SigV4 signature costs. `make bench` runs this; the
//! README's Performance table quotes it. (aws-sdk-s3's presigner is measured beside ours in the
//! Lambda crate's `benches/handler.rs`, which may depend on the SDK.)

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use hmac::{Hmac, KeyInit, Mac};
use s3_presign::{
    presign_get, presign_post, BucketEndpoint, GetPresigner, GetUrlOptions, PostPresigner, Signer,
    StaticCredentials, UploadPolicy, UtcTime,
};
use sha2::{Digest, Sha256};

const KEY: &str = "jobs/j-12345/019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b.jpg";

/// Lambda's credentials always carry a session token (~0.8 KB); sign with one of realistic size.
fn lambda_like_credentials() -> StaticCredentials {
    StaticCredentials::new(
        "ASIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    .with_session_token("IQoJb3JpZ2luX2VjE".repeat(48))
    .with_expiry(SystemTime::now() + Duration::from_secs(3600))
}

/// Long-term credentials (no session token).
fn static_credentials() -> StaticCredentials {
    StaticCredentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
}

fn credential_kinds() -> [(&'static str, StaticCredentials); 2] {
    [
        ("no token", static_credentials()),
        ("lambda 816-byte token", lambda_like_credentials()),
    ]
}

fn upload_policy(now: UtcTime) -> UploadPolicy<'static> {
    UploadPolicy {
        bucket: "qdn-uploads",
        key: black_box(KEY),
        content_type: "image/jpeg",
        metadata: &[("x-amz-meta-job-id", "j-12345")],
        max_bytes: 52_428_800,
        expires_at: UtcTime::from_unix_secs(now.unix_secs + 900),
    }
}

/// Session (cached key) + policy JSON + base64 + signature + form fields: `PostPresigner` (what
/// the function uses: the constant prefix with the token hashed once per key) beside
/// `presign_post` (everything per request), each with and without a session token.
fn post_issuance(c: &mut Criterion) {
    let signer = Signer::new("us-east-1");
    let presigner = PostPresigner::new();
    let mut group = c.benchmark_group("post_issuance");
    for (kind, creds) in credential_kinds() {
        group.bench_function(format!("cached prefix, {kind}"), |b| {
            b.iter(|| {
                let session = signer.session(&creds, SystemTime::now());
                presigner.presign(&session, &upload_policy(session.now()))
            })
        });
        group.bench_function(format!("uncached, {kind}"), |b| {
            b.iter(|| {
                let session = signer.session(&creds, SystemTime::now());
                presign_post(&session, &upload_policy(session.now()))
            })
        });
    }
    group.finish();
}

fn get_presign(c: &mut Criterion) {
    let signer = Signer::new("us-east-1");
    let endpoint = BucketEndpoint::aws("qdn-uploads", "us-east-1");
    let options = GetUrlOptions {
        expires_secs: 7200,
        response_cache_control: Some("private, max-age=7200, immutable"),
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

    // The cryptographic floor: SHA-256 of the canonical request and one HMAC with a cached key.
    // The key sits in the path, before the token in the query, so a token's bytes are hashed per
    // URL: the floor with a token is SHA-256 over the canonical request as long as ours is.
    let key: Hmac<Sha256> = Hmac::new_from_slice(&[7u8; 32]).unwrap();
    let string_to_sign = [b'y'; 120];
    for (kind, creds) in credential_kinds() {
        let session = signer.session(&creds, SystemTime::now());
        let url = presign_get(&session, &endpoint, KEY, &options);
        // The canonical request's length: the URL's path and query without the origin, `?` and
        // `&X-Amz-Signature=…`, plus `GET\n`, `\n`, `\nhost:{host}` and `\n\nhost\nUNSIGNED-PAYLOAD`.
        let path_and_query = url.len() - endpoint.origin().len() - 1 - (17 + 64);
        let canonical = vec![b'x'; path_and_query + 4 + 1 + 6 + endpoint.host().len() + 23];
        group.bench_function(format!("floor: sha256 + hmac, {kind}"), |b| {
            b.iter(|| {
                let digest = Sha256::digest(black_box(&canonical));
                let mut mac = key.clone();
                mac.update(&string_to_sign);
                mac.update(&digest);
                mac.finalize()
            })
        });
    }
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

criterion_group!(benches, post_issuance, get_presign);
criterion_main!(benches);
