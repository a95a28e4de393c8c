//! From S3's event to "listed", for a 12-megapixel camera photo, against the local stack
//! (Garage for S3, moto for DynamoDB; `make bench` starts them):
//!
//! 1. criterion: the pipeline role's own processing of one S3 event, as template.yaml deploys it
//!    (HEAD, the grant, the earlier versions, the 3.7 MB GET, the checks, the thumbnail PUT, the
//!    record and the `PHOTO#` row). Each iteration uploads a new photo under a new grant first,
//!    outside the timing.
//! 2. the whole path as a field worker sees it, 20 uploads: from S3's 201 to the POST until
//!    `GET /photos` lists the photo, with `make dev`'s stand-in for S3's notifications (it polls
//!    the bucket every second: Garage sends none). Prints the median and the spread.

#[allow(dead_code, unused_imports)] // The integration tests' helpers; this bench uses a few.
#[path = "../tests/api/support.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use qdn_photos::dev::test_images::photo_like_jpeg;
use support::{call, deliver, get, issue, new_job, post_form, Stack};

fn photo() -> Vec<u8> {
    match std::env::var("BENCH_PHOTO") {
        Ok(path) => std::fs::read(path).expect("BENCH_PHOTO is readable"),
        Err(_) => photo_like_jpeg(4032, 3024, 6, 90),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn pipeline_processing(c: &mut Criterion) {
    let rt = runtime();
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let photo = photo();
    let job = new_job();
    let mut group = c.benchmark_group("event_to_listed");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function(
        format!(
            "pipeline: one S3 event for a 12 MP JPEG ({} bytes) → listed, thumbnail created",
            photo.len()
        ),
        |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let (stack, app, pipeline, photo, job) = (&stack, &app, &pipeline, &photo, &job);
                async move {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let grant = issue(app, job, "").await;
                        let (status, body) = post_form(&grant, |_| {}, photo.clone()).await;
                        assert_eq!(status, 201, "{body}");
                        let key = grant["key"].as_str().unwrap();
                        let started = Instant::now();
                        let outcomes = deliver(stack, pipeline, key).await;
                        spent += started.elapsed();
                        assert_eq!(outcomes, ["listed, thumbnail created"]);
                    }
                    spent
                }
            })
        },
    );
    group.finish();
}

/// The stand-in's polling interval: S3 notifies within about a second, the stand-in in at most
/// this (half of it on average).
const STANDIN_INTERVAL: Duration = Duration::from_secs(1);
const UPLOADS: usize = 20;

fn uploads_through_the_stack(_: &mut Criterion) {
    let rt = runtime();
    let stack = Stack::get();
    let app = stack.app(&[]);
    let photo = photo();
    let job = new_job();
    let mut waits: Vec<Duration> = rt.block_on(async {
        let standin = stack.pipeline(&[]);
        let bucket = stack.bucket.clone();
        tokio::spawn(async move {
            qdn_photos::dev::standin::run(&standin, &bucket, STANDIN_INTERVAL).await
        });
        // Its first look only notes what is already there.
        tokio::time::sleep(STANDIN_INTERVAL * 2).await;
        let mut waits = Vec::with_capacity(UPLOADS);
        for i in 0..UPLOADS {
            // Uploads land at evenly spread points of the stand-in's cycle, as a field worker's
            // would: back to back, each would land just after a look and wait a whole interval.
            let offset = STANDIN_INTERVAL.as_millis() as u64 * (i as u64 * 7 % UPLOADS as u64);
            tokio::time::sleep(Duration::from_millis(offset / UPLOADS as u64)).await;
            let grant = issue(&app, &job, "").await;
            let (status, body) = post_form(&grant, |_| {}, photo.clone()).await;
            assert_eq!(status, 201, "{body}");
            let stored = Instant::now();
            let key = grant["key"].as_str().unwrap();
            loop {
                let (_, listing) = call(&app, get(&format!("/photos?job_id={job}"))).await;
                let listed = listing["photos"]
                    .as_array()
                    .is_some_and(|photos| photos.iter().any(|p| p["key"] == key));
                if listed {
                    break;
                }
                assert!(
                    stored.elapsed() < Duration::from_secs(120),
                    "{key} never listed"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            waits.push(stored.elapsed());
        }
        waits
    });
    waits.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "event_to_listed/{UPLOADS} uploads through the local stack, S3's 201 → listed by GET /photos \
         (stand-in polling every {STANDIN_INTERVAL:?}): median {:.0} ms, min {:.0} ms, p90 {:.0} ms, max {:.0} ms",
        (ms(waits[UPLOADS / 2 - 1]) + ms(waits[UPLOADS / 2])) / 2.0,
        ms(waits[0]),
        ms(waits[UPLOADS * 9 / 10]),
        ms(waits[UPLOADS - 1]),
    );
}

criterion_group!(benches, pipeline_processing, uploads_through_the_stack);
criterion_main!(benches);
