//! `GET /upload-url?method=put`: a presigned PUT for iOS Shortcuts and curl, enforced by the real
//! S3 server (Garage) through its signed `Content-Type` and `Content-Length`; and the README's
//! curl script, run against the function behind a local HTTP front.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use lambda_http::Body;
use qdn_photos::api::app::App;
use serde_json::json;

use qdn_photos::dev::test_images::padded_jpeg;
use qdn_photos::domain::content_hash::ContentHash;

use crate::support::*;

fn small_png() -> Vec<u8> {
    let mut png = Vec::new();
    image::RgbImage::from_pixel(40, 30, image::Rgb([200, 30, 30]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

async fn put(url: &str, content_type: &str, bytes: Vec<u8>) -> (u16, String) {
    put_to_s3(url, &[("content-type", content_type)], bytes).await
}

#[tokio::test]
async fn a_put_url_takes_exactly_the_signed_bytes_type_and_key() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let bytes = photo_bytes(9, 4321);
    let grant = issue(&app, &job, "&method=put&size=4321&content_type=image/png").await;
    assert_eq!(grant["method"], "PUT");
    assert_eq!(
        grant["headers"],
        json!({"Content-Type": "image/png", "Content-Length": "4321"})
    );
    assert!(grant.get("fields").is_none());
    let key = grant["key"].as_str().unwrap().to_owned();
    let url = grant["url"].as_str().unwrap().to_owned();
    assert!(url.contains(&key), "{url}");

    // Audited before it was handed out, as a PUT of exactly that size.
    let rows = stack.audit_events(&job, "upload_url_issued").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["method"].as_s().unwrap(), "PUT");
    assert_eq!(rows[0]["max_bytes"].as_n().unwrap(), "4321");

    // One byte short, one byte long, another type, another key: S3 refuses each, stores nothing.
    let (status, body) = put(&url, "image/png", bytes[..4320].to_vec()).await;
    assert_refused(status, &body);
    let mut long = bytes.clone();
    long.push(0);
    let (status, body) = put(&url, "image/png", long).await;
    assert_refused(status, &body);
    let (status, body) = put(&url, "image/jpeg", bytes.clone()).await;
    assert_refused(status, &body);
    let (status, body) = put(&url, "text/html", bytes.clone()).await;
    assert_refused(status, &body);
    let other_key = format!("jobs/{job}/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.png");
    let (status, body) = put(&url.replace(&key, &other_key), "image/png", bytes.clone()).await;
    assert_refused(status, &body);
    assert_eq!(stack.object(&key).await, None);
    assert_eq!(stack.object(&other_key).await, None);

    // The signed bytes are stored, with the signed type, and complete like a POSTed upload.
    let (status, body) = put(&url, "image/png", bytes.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stack.object(&key).await.as_deref(), Some(&bytes[..]));
    let head = stack
        .s3()
        .head_object()
        .bucket(&stack.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/png"));
    let (status, body) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "keys": [key]})),
    )
    .await;
    assert_eq!(status.as_u16(), 201, "{body}");
    assert_eq!(body["total_bytes"], 4321);
}

#[tokio::test]
async fn a_put_url_is_cut_to_the_ttl_like_a_post() {
    let stack = Stack::get();
    let app = stack.app(&[("UPLOAD_URL_TTL_SECS", "1")]);
    let grant = issue(&app, &new_job(), "&method=put&size=10").await;
    let url = grant["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Expires=1&"), "{url}");
    // Garage counts whole seconds from X-Amz-Date: 3 s later the URL is dead.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, body) = put(url, "image/jpeg", photo_bytes(1, 10)).await;
    assert_refused(status, &body);
    assert_eq!(stack.object(grant["key"].as_str().unwrap()).await, None);
}

/// The function behind a plain HTTP listener, as API Gateway puts it behind HTTPS: each request
/// becomes the HTTP API event `ApiEvent` builds, and the function's answer goes back as is.
async fn http_front(app: App) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let app = Arc::new(app);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let app = app.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| serve(app.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn serve(
    app: Arc<App>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut event = ApiEvent::new(parts.method.as_str(), path);
    for (name, value) in &parts.headers {
        event = event.header(name.as_str(), value.to_str().unwrap_or_default());
    }
    if !body.is_empty() {
        event = event.body(std::str::from_utf8(&body).unwrap_or_default());
    }
    let resp = app.handle(event.request()).await;
    let mut out = hyper::Response::builder().status(resp.status());
    for (name, value) in resp.headers() {
        out = out.header(name, value);
    }
    let bytes = match resp.body() {
        Body::Text(t) => Bytes::from(t.clone()),
        Body::Binary(b) => Bytes::from(b.clone()),
        _ => Bytes::new(),
    };
    Ok(out.body(Full::new(bytes)).unwrap())
}

async fn run_script(api: &str, token: &str, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/upload-photo.sh"
        ))
        .args(args)
        .env("QDN_API", api)
        .env("QDN_TOKEN", token)
        .output()
        .await
        .expect("bash runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[tokio::test]
async fn the_readmes_curl_script_uploads_and_records_photos() {
    let stack = Stack::get();
    let api = http_front(stack.app(&[])).await;
    let job = new_job();
    let dir = std::env::temp_dir().join(format!("qdn-curl-{job}"));
    std::fs::create_dir_all(&dir).unwrap();
    let jpeg = dir.join("site front.JPG");
    let png = dir.join("meter.png");
    let (jpeg_bytes, png_bytes) = (padded_jpeg(4, 70_000), small_png());
    std::fs::write(&jpeg, &jpeg_bytes).unwrap();
    std::fs::write(&png, &png_bytes).unwrap();

    let (code, stdout, stderr) = run_script(
        &api,
        qdn_photos::dev::api_events::TOKEN,
        &[&job, jpeg.to_str().unwrap(), png.to_str().unwrap()],
    )
    .await;
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains(&format!("recorded 2 photo(s) for job {job}")),
        "{stdout}"
    );

    // Both stored byte for byte with their types, one completion naming both, both listed.
    let completed = stack.audit_events(&job, "upload_completed").await;
    assert_eq!(completed.len(), 1);
    let keys: Vec<String> = completed[0]["keys"]
        .as_l()
        .unwrap()
        .iter()
        .map(|k| k.as_s().unwrap().clone())
        .collect();
    assert!(
        keys[0].ends_with(".jpg") && keys[1].ends_with(".png"),
        "{keys:?}"
    );
    assert_eq!(stack.object(&keys[0]).await.as_ref(), Some(&jpeg_bytes));
    assert_eq!(stack.object(&keys[1]).await.as_ref(), Some(&png_bytes));
    // One batch request: two grants, each a PUT bound to its photo's SHA-256.
    let issued = stack.audit_events(&job, "upload_url_issued").await;
    assert!(issued.iter().all(|r| r["method"].as_s().unwrap() == "PUT"));
    let mut bound: Vec<&str> = issued
        .iter()
        .map(|r| r["sha256"].as_s().unwrap().as_str())
        .collect();
    bound.sort();
    let mut hashes = [
        ContentHash::of(&jpeg_bytes).hex(),
        ContentHash::of(&png_bytes).hex(),
    ];
    hashes.sort();
    assert_eq!(bound, hashes);
    let pipeline = stack.pipeline(&[]);
    for key in &keys {
        assert_eq!(
            deliver(&stack, &pipeline, key).await,
            ["listed, thumbnail created"]
        );
    }
    let (_, page) = call(&stack.app(&[]), get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(page["photos"].as_array().unwrap().len(), 2);

    // A wrong token, a missing file and a bad job id: non-zero, the reason said, nothing issued.
    let (code, _, stderr) = run_script(&api, "wrong", &[&job, png.to_str().unwrap()]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("401 unauthorized"), "{stderr}");
    let (code, _, stderr) = run_script(
        &api,
        qdn_photos::dev::api_events::TOKEN,
        &[&job, "/nope.jpg"],
    )
    .await;
    assert_eq!(code, 1);
    assert!(stderr.contains("no such file"), "{stderr}");
    let (code, _, stderr) = run_script(
        &api,
        qdn_photos::dev::api_events::TOKEN,
        &["../x", png.to_str().unwrap()],
    )
    .await;
    assert_eq!(code, 1);
    assert!(stderr.contains("invalid_job_id"), "{stderr}");
    let (code, _, _) = run_script(&api, qdn_photos::dev::api_events::TOKEN, &[&job]).await;
    assert_eq!(code, 2, "usage");
    assert_eq!(stack.audit_events(&job, "upload_url_issued").await.len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What the Shortcuts app's **Get Contents of URL** sends besides what the recipe sets
/// (CFNetwork's own headers, a Swiss-German phone).
fn as_shortcuts_sends(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header(
            "user-agent",
            "Shortcuts/3607.0.2 CFNetwork/3826.400.120 Darwin/24.3.0",
        )
        .header("accept", "*/*")
        .header("accept-language", "de-CH,de;q=0.9")
        .header("accept-encoding", "gzip, deflate, br")
}

/// Step 3 of the recipe: **Format File Size** in bytes, **Match Text** `\d+`, **Combine Text**
/// with nothing between: the digits alone, whatever the phone's locale put between them.
fn recipe_size(formatted: &str) -> String {
    formatted.chars().filter(char::is_ascii_digit).collect()
}

#[tokio::test]
async fn the_shortcut_recipe_replayed_request_by_request_uploads_records_and_stops_on_errors() {
    let stack = Stack::get();
    let api = http_front(stack.app(&[])).await;
    let client = reqwest::Client::new();
    let job = new_job();
    let bearer = format!("Bearer {}", qdn_photos::dev::api_events::TOKEN);
    let photo = padded_jpeg(7, 1_234_567);
    // How "Format File Size" writes 1,234,567 bytes on phones set to en-US, de-DE, de-CH, fr-FR.
    for formatted in [
        "1,234,567 bytes",
        "1.234.567 Byte",
        "1’234’567 Byte",
        "1\u{202f}234\u{202f}567 octets",
    ] {
        assert_eq!(
            recipe_size(formatted),
            photo.len().to_string(),
            "{formatted}"
        );
    }
    let size = recipe_size("1’234’567 Byte");

    // Step 4: the grant. The recipe stops with an alert when the answer has an `error`.
    let ask_grant = |query: String, authorization: String| {
        let request = as_shortcuts_sends(client.get(format!(
            "{api}/upload-url?job_id={job}&method=put&content_type=image/jpeg&{query}"
        )));
        async move {
            let answer = request
                .header("authorization", authorization)
                .send()
                .await
                .unwrap();
            answer.json::<serde_json::Value>().await.unwrap()
        }
    };
    let grant = ask_grant(format!("size={size}"), bearer.clone()).await;
    assert!(grant.get("error").is_none(), "{grant}");
    let (url, key) = (
        grant["url"].as_str().unwrap(),
        grant["key"].as_str().unwrap(),
    );

    // Step 6: the PUT. S3's answer is empty on success; anything else stops the recipe. Each on
    // a connection of its own: S3 may answer a refused PUT before reading its body, and close.
    let put = |bytes: Vec<u8>| {
        as_shortcuts_sends(reqwest::Client::new().put(url))
            .header("content-type", "image/jpeg")
            .body(bytes)
            .send()
    };
    // Another size (small: S3 refuses from the headers, before the body it would not read).
    let refused = put(photo[..1000].to_vec()).await.unwrap();
    assert!(refused.status().is_client_error());
    assert!(
        !refused.text().await.unwrap().is_empty(),
        "a refusal has a body, which stops the recipe"
    );
    let stored = put(photo.clone()).await.unwrap();
    assert_eq!(stored.status().as_u16(), 200);
    assert_eq!(
        stored.text().await.unwrap(),
        "",
        "success has an empty body"
    );
    assert_eq!(stack.object(key).await, Some(photo));

    // Step 7: the record, as Shortcuts serialises a JSON body; run twice, it is the same record.
    let record = || {
        as_shortcuts_sends(client.post(format!("{api}/upload-url")))
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(format!(r#"{{"job_id":"{job}","keys":["{key}"]}}"#))
            .send()
    };
    let first = record().await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let first: serde_json::Value = first.json().await.unwrap();
    let again = record().await.unwrap();
    assert_eq!(again.status().as_u16(), 200);
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(first["audit_id"], again["audit_id"]);

    // The refusals the recipe turns into an alert carry `error.message`: a size with a decimal
    // separator left in, a token that is wrong.
    for (query, token) in [
        ("size=1234,567", bearer.as_str()),
        ("size=1234567", "Bearer wrong"),
    ] {
        let answer = ask_grant(query.to_owned(), token.to_owned()).await;
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{query}: {answer}"
        );
    }
}

#[tokio::test]
async fn a_put_with_headers_its_grant_did_not_sign_is_never_listed() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let photo = padded_jpeg(9, 5_000);
    let unsigned: [(&str, &str); 4] = [
        ("content-encoding", "gzip"),
        (
            "content-disposition",
            "attachment; filename=\"invoice.html\"",
        ),
        ("cache-control", "public, max-age=31536000"),
        ("x-amz-meta-taken-by", "someone else"),
    ];
    let mut stored_then_refused = Vec::new();
    for (name, value) in unsigned {
        let grant = issue(
            &app,
            &job,
            &format!("&method=put&content_type=image/jpeg&size={}", photo.len()),
        )
        .await;
        let (url, key) = (
            grant["url"].as_str().unwrap(),
            grant["key"].as_str().unwrap(),
        );
        let resp = reqwest::Client::new()
            .put(url)
            .header("content-type", "image/jpeg")
            .header(name, value)
            .body(photo.clone())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        if status != 200 {
            // The server refused the unsigned header itself: nothing stored.
            assert_refused(status, &resp.text().await.unwrap_or_default());
            assert_eq!(stack.object(key).await, None, "{name}");
            continue;
        }
        // Garage stores what it is sent: the pipeline refuses it, records why and removes it.
        let outcomes = deliver(&stack, &pipeline, key).await;
        assert_eq!(outcomes, ["rejected: unsigned_headers"], "{name}");
        assert_eq!(stack.object(key).await, None, "{name}: removed");
        stored_then_refused.push(name);
    }
    // Garage, like S3, stores a presigned PUT's unsigned headers with the object.
    assert!(!stored_then_refused.is_empty());
    // The same photo PUT as the grant signed it is listed.
    let grant = issue(
        &app,
        &job,
        &format!("&method=put&content_type=image/jpeg&size={}", photo.len()),
    )
    .await;
    let (status, body) = put(grant["url"].as_str().unwrap(), "image/jpeg", photo).await;
    assert_eq!(status, 200, "{body}");
    let key = grant["key"].as_str().unwrap();
    assert_eq!(
        deliver(&stack, &pipeline, key).await,
        ["listed, thumbnail created"]
    );
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}&include=pending"))).await;
    assert_eq!(page["photos"].as_array().unwrap().len(), 1, "{page}");
    let refused: Vec<&str> = page["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reason"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        refused,
        vec!["unsigned_headers"; stored_then_refused.len()],
        "{page}"
    );
    eprintln!("stored by Garage, then refused by the pipeline: {stored_then_refused:?}");
}
