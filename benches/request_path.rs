//! The Lambda's own per-request work beside the signing (which `crates/s3-presign`'s bench
//! measures): aws-sdk-s3's presigner and ours on the SDK's credentials in the same run, key
//! generation, and request parsing (API Gateway event → route → caller → checked input).
//! `make bench` runs this; the README's Performance table quotes it.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use criterion::{criterion_group, criterion_main, Criterion};
use qdn_photos::api::request::route_path;
use qdn_photos::api::router::{route, ApiRequest, Route};
use qdn_photos::api::signing::{SdkCredentials, Signing};
use qdn_photos::dev::api_events::{config, ApiEvent, TOKEN};
use qdn_photos::domain::image_type::ImageType;
use qdn_photos::domain::job::{JobId, UploadKey};
use s3_presign::{presign_get, BucketEndpoint, GetUrlOptions};

const KEY: &str = "jobs/j-12345/019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b.jpg";

fn get_presign_vs_sdk(c: &mut Criterion) {
    let creds = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "bench",
    );
    let mut group = c.benchmark_group("get_presign");

    let signing = Signing::new(SharedCredentialsProvider::new(creds.clone()), "us-east-1");
    let ours = SdkCredentials(creds.clone());
    let endpoint = BucketEndpoint::aws("qdn-uploads", "us-east-1");
    let cache_control = qdn_photos::api::signing::photo_cache_control(7200);
    let options = GetUrlOptions {
        expires_secs: 7200,
        response_cache_control: Some(&cache_control),
        response_content_disposition: Some("inline"),
        x_id: Some("GetObject"),
    };
    group.bench_function("ours on the SDK's credentials, no token", |b| {
        b.iter(|| {
            let session = signing.session(&ours, SystemTime::now());
            presign_get(&session, &endpoint, black_box(KEY), &options)
        })
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(creds)
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
                .response_cache_control(&cache_control)
                .response_content_disposition("inline");
            req.presigned(config).await.unwrap()
        })
    });
    group.finish();
}

fn key_generation(c: &mut Criterion) {
    let jpeg = ImageType::by_mime("image/jpeg").unwrap();
    let job = JobId::parse("j-12345").unwrap();
    c.bench_function("key_generation (uuid v7 + key)", |b| {
        b.iter(|| UploadKey::generate(black_box(&job), jpeg))
    });
}

fn request_parsing(c: &mut Criterion) {
    // A real HTTP API event as API Gateway sends it (headers, context and all).
    let event = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/events/get-upload-url.json"
    ))
    .unwrap();
    let config = config(&[("AUTH_MODE", "jwt")]);
    let check = |req: &lambda_http::Request| {
        let Route::Endpoint(endpoint) = route(req.method(), route_path(req)).unwrap() else {
            unreachable!("a GET")
        };
        ApiRequest::parse(endpoint, req, &config).unwrap()
    };
    let mut group =
        c.benchmark_group("request_parsing (API Gateway event → route → checked query)");
    // What the function runs (`event::parse`), beside lambda_http's own reading of the event.
    group.bench_function("event::parse", |b| {
        b.iter(|| check(&qdn_photos::api::event::parse(black_box(&event)).unwrap().0))
    });
    group.bench_function("lambda_http::request::from_str", |b| {
        b.iter(|| check(&lambda_http::request::from_str(black_box(&event)).unwrap()))
    });
    group.finish();
    // The same with the bearer check and the caller's request context: all `decide` does.
    let event = ApiEvent::get("/upload-url?job_id=j-12345&content_type=image%2Fjpeg&size=2048")
        .bearer(TOKEN)
        .header(
            "user-agent",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)",
        )
        .to_json();
    let decider =
        qdn_photos::dev::api_events::OfflineDecider::new(qdn_photos::dev::api_events::config(&[]));
    c.bench_function(
        "request_decision (event → route → caller → checked query)",
        |b| {
            b.iter(|| {
                let (req, _) = qdn_photos::api::event::parse(black_box(&event)).unwrap();
                decider.decide(&req).unwrap()
            })
        },
    );
}

criterion_group!(benches, get_presign_vs_sdk, key_generation, request_parsing);
criterion_main!(benches);
