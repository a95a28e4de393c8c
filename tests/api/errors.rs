//! Every bad input gets its documented 4xx JSON error through the real handler; no credentials is
//! 401; unknown routes 404, wrong methods 405; CORS only for listed origins.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn every_bad_query_gets_its_documented_4xx() {
    let stack = Stack::get();
    let app = stack.app(&[("MAX_UPLOAD_BYTES", "1000")]);
    let long = "x".repeat(65);
    let ten_kb = "j".repeat(10_240);
    let cases: Vec<(String, u16, &str)> = vec![
        ("/upload-url".into(), 400, "missing_job_id"),
        ("/upload-url?job_id=".into(), 400, "invalid_job_id"),
        ("/upload-url?job_id=..".into(), 400, "invalid_job_id"),
        ("/upload-url?job_id=a/b".into(), 400, "invalid_job_id"),
        ("/upload-url?job_id=a%2Fb".into(), 400, "invalid_job_id"),
        (
            "/upload-url?job_id=%2E%2E%2Fetc".into(),
            400,
            "invalid_job_id",
        ),
        ("/upload-url?job_id=j%C3%B6b".into(), 400, "invalid_job_id"),
        (
            "/upload-url?job_id=j%E2%80%901".into(),
            400,
            "invalid_job_id",
        ),
        (format!("/upload-url?job_id={long}"), 400, "invalid_job_id"),
        (
            format!("/upload-url?job_id={ten_kb}"),
            400,
            "invalid_job_id",
        ),
        (
            "/upload-url?job_id=a&job_id=b".into(),
            400,
            "repeated_parameter",
        ),
        (
            "/upload-url?job_id=j-1&content_type=text/html".into(),
            415,
            "content_type_not_allowed",
        ),
        (
            "/upload-url?job_id=j-1&content_type=image/svg%2Bxml".into(),
            415,
            "content_type_not_allowed",
        ),
        (
            "/upload-url?job_id=j-1&content_type=image/gif".into(),
            415,
            "content_type_not_allowed",
        ),
        (
            "/upload-url?job_id=j-1&size=1001".into(),
            413,
            "file_too_large",
        ),
        ("/upload-url?job_id=j-1&size=0".into(), 400, "invalid_size"),
        ("/upload-url?job_id=j-1&size=-1".into(), 400, "invalid_size"),
        (
            "/upload-url?job_id=j-1&size=big".into(),
            400,
            "invalid_size",
        ),
        ("/photos".into(), 400, "missing_job_id"),
        ("/photos?job_id=a%20b".into(), 400, "invalid_job_id"),
        ("/photos?job_id=j-1&limit=0".into(), 400, "invalid_limit"),
        ("/photos?job_id=j-1&limit=ten".into(), 400, "invalid_limit"),
        ("/photos?job_id=j-1&order=desc".into(), 400, "invalid_order"),
        (
            "/photos?job_id=j-1&order=newest&order=oldest".into(),
            400,
            "repeated_parameter",
        ),
        (
            "/photos?job_id=j-1&cursor=%25%25".into(),
            400,
            "invalid_cursor",
        ),
        (
            "/photos?job_id=j-1&cursor=am9icy9qLTIveC5qcGc".into(),
            400,
            "invalid_cursor",
        ), // jobs/j-2/x.jpg
        ("/nope".into(), 404, "not_found"),
        ("/".into(), 404, "not_found"),
    ];
    for (path, status, code) in cases {
        let (got_status, body) = call(&app, get(&path)).await;
        assert_eq!(error_code(got_status, &body, status), code, "{path:.80}");
    }
}

#[tokio::test]
async fn every_bad_completion_body_gets_its_documented_4xx() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let (status, body) = call(
        &app,
        ApiEvent::post("/upload-url")
            .bearer(TOKEN)
            .body("{not json"),
    )
    .await;
    assert_eq!(error_code(status, &body, 400), "invalid_json");
    let ten_thousand: Vec<String> = (0..10_000).map(|i| format!("jobs/j-1/{i}.jpg")).collect();
    let (status, body) = call(
        &app,
        post_json(
            "/upload-url",
            &json!({"job_id": "j-1", "keys": ten_thousand}),
        ),
    )
    .await;
    assert_eq!(error_code(status, &body, 413), "body_too_large");
    let big = "a".repeat(10 * 1024 * 1024);
    let (status, body) = call(&app, ApiEvent::post("/upload-url").bearer(TOKEN).body(&big)).await;
    assert_eq!(error_code(status, &body, 413), "body_too_large");
    let form = ApiEvent::post("/upload-url")
        .bearer(TOKEN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("job_id=j-1");
    let (status, body) = call(&app, form).await;
    assert_eq!(error_code(status, &body, 415), "unsupported_body_type");
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    for (method, path, allow) in [
        ("DELETE", "/upload-url", "GET, POST, OPTIONS"),
        ("PUT", "/photos", "GET, DELETE, OPTIONS"),
    ] {
        let resp = app
            .handle(ApiEvent::new(method, path).bearer(TOKEN).request())
            .await;
        assert_eq!(resp.status().as_u16(), 405);
        assert_eq!(resp.headers()["allow"], allow);
    }
}

#[tokio::test]
async fn no_or_wrong_credentials_are_401_everywhere_and_nothing_is_audited() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    for auth in [
        None,
        Some("Bearer wrong-token"),
        Some("Basic aW50ZWdyYXRpb24="),
        Some(TOKEN),
        Some("Bearer"),
    ] {
        for (method, path) in [
            ("GET", format!("/upload-url?job_id={job}")),
            ("GET", format!("/photos?job_id={job}")),
            ("POST", "/upload-url".into()),
        ] {
            let mut event = ApiEvent::new(method, &path).body("{}");
            if let Some(value) = auth {
                event = event.header("authorization", value);
            }
            let resp = app.handle(event.request()).await;
            assert_eq!(resp.status().as_u16(), 401, "{auth:?} {method} {path}");
            assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        }
    }
    assert!(
        stack.audit_rows(&job).await.is_empty(),
        "nothing audited for unauthenticated calls"
    );
    // In jwt mode the function takes no bearer token at all, not even the right one.
    let app = stack.app(&[("AUTH_MODE", "jwt")]);
    let (status, body) = call(&app, get(&format!("/upload-url?job_id={job}"))).await;
    assert_eq!(error_code(status, &body, 401), "unauthorized");
}

#[tokio::test]
async fn cors_answers_only_the_listed_origins() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let preflight = |origin: &str| {
        ApiEvent::new("OPTIONS", "/upload-url")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .request()
    };
    let ok = app.handle(preflight("http://localhost:8080")).await;
    assert_eq!(ok.status().as_u16(), 204);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "http://localhost:8080"
    );
    assert!(ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    let refused = app.handle(preflight("https://evil.example")).await;
    assert_eq!(refused.status().as_u16(), 403);
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let listing = |origin: &str| {
        get(&format!("/photos?job_id={}", new_job()))
            .header("origin", origin)
            .request()
    };
    let resp = app.handle(listing("http://localhost:8080")).await;
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "http://localhost:8080"
    );
    let resp = app.handle(listing("https://evil.example")).await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    assert_eq!(resp.headers()["vary"], "Origin");
}
