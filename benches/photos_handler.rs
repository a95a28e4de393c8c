//! The whole `GET /photos?limit=1000` handler against the local S3 server (Garage) with 1,000
//! objects: ListObjectsV2 over loopback + 1,000 presigned URLs + JSON. Needs the stack
//! (`make bench` starts it).

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::future::join_all;
use qdn_photos::app::App;
use qdn_photos::config::Config;
use qdn_photos::context::Context;
use qdn_photos::test_util::{token_sha256_hex, ApiEvent, TOKEN};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} unset: run `make bench`, which starts the local stack"))
}

fn photos_handler(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let creds = Credentials::new(
        env("AWS_ACCESS_KEY_ID"),
        env("AWS_SECRET_ACCESS_KEY"),
        None,
        None,
        "bench",
    );
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(env("AWS_REGION")))
        .credentials_provider(SharedCredentialsProvider::new(creds.clone()))
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .endpoint_url(env("AWS_ENDPOINT_URL_S3"))
            .force_path_style(true)
            .build(),
    );
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url(env("AWS_ENDPOINT_URL_DYNAMODB"))
            .build(),
    );
    let config = Config::from_lookup(|name| match name {
        "AUTH_TOKEN_SHA256" => Some(token_sha256_hex()),
        _ => std::env::var(name).ok(),
    })
    .unwrap();
    let bucket = config.uploads_bucket.clone();
    let app = App::new(Context::new(
        config,
        s3.clone(),
        dynamodb,
        SharedCredentialsProvider::new(creds),
    ));

    let job = format!("bench-{}", uuid::Uuid::now_v7().simple());
    runtime.block_on(async {
        for chunk in (0..1000).collect::<Vec<u32>>().chunks(50) {
            join_all(chunk.iter().map(|i| {
                let key = format!("jobs/{job}/{}.jpg", uuid::Uuid::now_v7());
                s3.put_object()
                    .bucket(&bucket)
                    .key(key)
                    .body(vec![*i as u8; 64].into())
                    .send()
            }))
            .await
            .into_iter()
            .for_each(|r| {
                r.unwrap();
            });
        }
    });
    let event = ApiEvent::get(&format!("/photos?job_id={job}&limit=1000"))
        .bearer(TOKEN)
        .to_json();

    let mut group = c.benchmark_group("photos_handler");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("GET /photos limit=1000 against Garage", |b| {
        b.to_async(&runtime).iter(|| async {
            let resp = app
                .handle(lambda_http::request::from_str(&event).unwrap())
                .await;
            assert_eq!(resp.status(), 200);
            resp
        })
    });
    group.finish();
}

criterion_group!(benches, photos_handler);
criterion_main!(benches);
