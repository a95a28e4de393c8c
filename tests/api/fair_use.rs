//! Fair use per person (issue 22 point 4): grant limits per principal per minute and per job per
//! day, from the template's parameters, answered `429` with `Retry-After` and nothing issued,
//! audited or counted; `/photos` pages at most `PhotosPageMax` photos.
//!
//! The windows are the clock's: a run whose requests straddle a window's edge says nothing about
//! the limit, so it is run again with a fresh principal (a window is 60 s, a run well under one).

use std::time::SystemTime;

use lambda_http::http::StatusCode;
use qdn_photos::api::app::App;
use serde_json::{json, Value};

use qdn_photos::dev::test_images::padded_jpeg;

use crate::support::*;

/// `GET /upload-url` on `job` as the JWT subject `sub`, an office member (every job).
fn grant_request(sub: &str, job: &str) -> ApiEvent {
    ApiEvent::get(&format!("/upload-url?job_id={job}"))
        .authorizer(json!({"jwt": {"claims": {"sub": sub, "cognito:groups": "[office]"}}}))
}

async fn grant(app: &App, sub: &str, job: &str) -> (StatusCode, Option<String>, Value) {
    let resp = app.handle(grant_request(sub, job).request()).await;
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = (resp.status(), body_json(resp.body()));
    (status, retry_after, body)
}

fn window(length: u64) -> u64 {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    secs / length
}

/// Runs `attempt` until its requests all fell in one window of `length` seconds (three tries).
async fn within_one_window<F, Fut>(length: u64, mut attempt: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for run in 0..3 {
        let before = window(length);
        attempt(run).await;
        if window(length) == before {
            return;
        }
    }
    panic!("three runs in a row straddled a {length} s window");
}

fn jwt_app(stack: &Stack, params: &[(&str, &str)]) -> App {
    stack.app_deployed_with(
        params,
        &[("AUTH_MODE", "jwt"), ("JWT_ADMIN_GROUP", "office")],
    )
}

#[tokio::test]
async fn past_the_minute_limit_a_grant_is_429_with_retry_after_and_nothing_is_issued_or_audited() {
    let stack = Stack::get();
    let app = jwt_app(
        &stack,
        &[("GrantsPerMinute", "3"), ("GrantsPerJobPerDay", "1000000")],
    );
    within_one_window(60, |run| {
        let (app, stack) = (&app, &stack);
        async move {
            let (job, other_job) = (new_job(), new_job());
            let alice = format!("alice-{job}-{run}");
            // Three grants across two jobs: the minute counts the person, not the job.
            for j in [&job, &job, &other_job] {
                let (status, _, body) = grant(app, &alice, j).await;
                assert_eq!(status, 200, "{body}");
            }
            let (status, retry_after, body) = grant(app, &alice, &job).await;
            assert_eq!(error_code(status, &body, 429), "too_many_grants");
            let secs: u64 = retry_after.expect("Retry-After").parse().unwrap();
            assert!((1..=60).contains(&secs), "Retry-After {secs}");
            assert!(body["error"]["message"].as_str().unwrap().contains("3"));
            // Another person is not held up by alice.
            let (status, _, body) = grant(app, &format!("bob-{job}"), &job).await;
            assert_eq!(status, 200, "{body}");
            // The refused grant left no row: two issued to alice on this job, and bob's.
            let issued = stack.audit_events(&job, "upload_url_issued").await;
            let by = |who: &str| {
                issued
                    .iter()
                    .filter(|row| row["principal"].as_s().unwrap() == &format!("jwt:{who}"))
                    .count()
            };
            assert_eq!((by(&alice), by(&format!("bob-{job}"))), (2, 1));
        }
    })
    .await;
}

#[tokio::test]
async fn past_the_daily_limit_on_a_job_a_grant_is_429_and_other_jobs_still_grant() {
    let stack = Stack::get();
    let app = jwt_app(
        &stack,
        &[("GrantsPerMinute", "10000"), ("GrantsPerJobPerDay", "2")],
    );
    within_one_window(86_400, |run| {
        let app = &app;
        async move {
            let (job, other_job) = (new_job(), new_job());
            let carol = format!("carol-{job}-{run}");
            for _ in 0..2 {
                assert_eq!(grant(app, &carol, &job).await.0, 200);
            }
            let (status, retry_after, body) = grant(app, &carol, &job).await;
            assert_eq!(error_code(status, &body, 429), "job_daily_limit");
            let secs: u64 = retry_after.expect("Retry-After").parse().unwrap();
            assert!((1..=86_400).contains(&secs), "Retry-After {secs}");
            let (status, _, body) = grant(app, &carol, &other_job).await;
            assert_eq!(status, 200, "another job has its own day: {body}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_429_is_readable_from_the_dashboard_with_its_retry_after() {
    let stack = Stack::get();
    let app = jwt_app(&stack, &[("GrantsPerMinute", "1")]);
    within_one_window(60, |run| {
        let app = &app;
        async move {
            let job = new_job();
            let dave = format!("dave-{job}-{run}");
            let from_dashboard =
                || grant_request(&dave, &job).header("origin", "http://localhost:8080");
            assert_eq!(app.handle(from_dashboard().request()).await.status(), 200);
            let resp = app.handle(from_dashboard().request()).await;
            assert_eq!(resp.status(), 429);
            let exposed = resp.headers()["access-control-expose-headers"]
                .to_str()
                .unwrap();
            assert!(exposed.split(',').any(|h| h.trim() == "retry-after"));
        }
    })
    .await;
}

#[tokio::test]
async fn a_photos_page_lists_at_most_the_templates_page_max_and_pages_on() {
    let stack = Stack::get();
    let app = stack.app_deployed_with(&[("PhotosPageMax", "2")], &[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    for seed in 0..3 {
        upload_listed(&stack, &app, &pipeline, &job, padded_jpeg(seed, 2000)).await;
    }
    let (status, page) = call(&app, get(&format!("/photos?job_id={job}&limit=1000"))).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["photos"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().expect("a cursor to the rest");
    let (_, rest) = call(
        &app,
        get(&format!("/photos?job_id={job}&limit=1000&cursor={cursor}")),
    )
    .await;
    assert_eq!(rest["photos"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
}
