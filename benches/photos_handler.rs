//! The whole `GET /photos` handler against the local stack with 1,000 verified photos, a page of
//! the template's default `PhotosPageMax` (200) and of its most (1,000): a consistent Query of the
//! record over loopback (moto, a Python server: its speed dominates) + two version-pinned
//! presigned URLs per photo, signed with a session token as long as Lambda's + JSON. Prints each
//! page's size. Needs the stack (`make bench` starts it).

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use criterion::{criterion_group, criterion_main, Criterion};
use qdn_photos::api::app::App;
use qdn_photos::api::config::ApiConfig;
use qdn_photos::api::context::ApiContext;
use qdn_photos::config::Env;
use qdn_photos::dev::api_events::{token_sha256_hex, ApiEvent, TOKEN};
use qdn_photos::domain::content_hash::ContentHash;
use qdn_photos::domain::image_type::ImageType;
use qdn_photos::domain::job::{JobId, UploadKey};
use qdn_photos::store::index::{PhotoIndex, Publication};
use qdn_photos::store::records::{
    sequencer_order, ObjectFacts, ObjectRecord, PhotoRecord, ThumbnailStatus, Verdict,
};
use s3_presign::UtcTime;

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
    let lookup = |name: &str| match name {
        "AUTH_MODE" => Some("shared-token".into()),
        "AUTH_TOKEN_SHA256" => Some(token_sha256_hex()),
        "PHOTOS_PAGE_MAX" => Some("1000".into()),
        _ => std::env::var(name).ok(),
    };
    let config = ApiConfig::from_env(&Env::new(&lookup)).unwrap();
    let table = config.common.audit_table.clone();
    let dynamodb_for_setup = dynamodb.clone();
    // A Lambda role's session token is ~1 KB, and every photo URL carries it.
    let lambda_creds = Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some("IQoJb3JpZ2luX2VjE".repeat(60)),
        None,
        "bench",
    );
    let app = App::new(ApiContext::new(
        config,
        s3.clone(),
        dynamodb,
        SharedCredentialsProvider::new(lambda_creds),
    ));

    // 1,000 verified photos in the record, as the pipeline lists them (`PHOTO#` rows).
    let job = JobId::parse(&format!("bench-{}", uuid::Uuid::now_v7().simple())).unwrap();
    let index = PhotoIndex::new(dynamodb_for_setup, table);
    let jpeg = ImageType::by_mime("image/jpeg").unwrap();
    runtime.block_on(async {
        for i in 0..1000u32 {
            let key = UploadKey::generate(&job, jpeg);
            let photo = PhotoRecord {
                audit_id: uuid::Uuid::now_v7().to_string(),
                object: ObjectFacts {
                    size: 64,
                    etag: Some("\"0f343b0931126a20f133d67c2b018a3b\"".into()),
                    version_id: Some(
                        "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo".into(),
                    ),
                    sequencer: sequencer_order(&format!("{i:X}")),
                    content_type: "image/jpeg".into(),
                    last_modified: Some(UtcTime::from_unix_secs(1_795_432_800)),
                    sha256: Some(ContentHash::of(&i.to_be_bytes())),
                    key,
                },
                record: ObjectRecord {
                    thumbnail_key: Some(format!("thumbs/{}/{i}.jpg", job.as_str())),
                    ..ObjectRecord::of(Verdict::Verified(ThumbnailStatus::Created))
                },
                uploader: Some("bench".into()),
            };
            let listed = index.publish(&job, &photo).await.unwrap();
            assert!(matches!(listed, Publication::Listed { .. }));
        }
    });
    let mut group = c.benchmark_group("photos_handler");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    for limit in [200, 1000] {
        let event = ApiEvent::get(&format!("/photos?job_id={job}&limit={limit}"))
            .bearer(TOKEN)
            .to_json();
        let page = || async {
            let resp = app
                .handle(lambda_http::request::from_str(&event).unwrap())
                .await;
            assert_eq!(resp.status(), 200);
            resp
        };
        let bytes = runtime.block_on(page()).body().len();
        println!(
            "GET /photos limit={limit}: {bytes} bytes, {} per photo",
            bytes / limit
        );
        group.bench_function(
            format!("GET /photos limit={limit} against moto (DynamoDB)"),
            |b| b.to_async(&runtime).iter(page),
        );
    }
    group.finish();
}

criterion_group!(benches, photos_handler);
criterion_main!(benches);
