//! Properties of everything the handler decides before I/O ([`decide`]: route, caller, checked
//! input), over generated requests. Inputs start valid and are then mutated, so every branch is
//! reached: each property counts where its cases ended and asserts that accepted and refused
//! cases both occurred many times (a property whose cases all stop at the first check proves
//! nothing). Never a panic; every refusal a 4xx; whatever is accepted is inside its job.

use std::collections::BTreeMap;
use std::sync::Mutex;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use qdn_photos::api::app::Decision;
use qdn_photos::api::config::ApiConfig;
use qdn_photos::api::router::ApiRequest;
use qdn_photos::api::routes::complete_uploads::PostedUploads;
use qdn_photos::api::routes::{complete_uploads, issue_upload_url, list_photos, report_uploads};
use qdn_photos::dev::api_events::{config, ApiEvent, OfflineDecider, TOKEN};
use qdn_photos::domain::image_type::ImageType;
use qdn_photos::domain::job::{JobId, UploadKey};
use serde_json::{json, Value};

const CASES: u32 = 2000;
const MAX_BYTES: u64 = 1000;

fn test_config() -> ApiConfig {
    config(&[("MAX_UPLOAD_BYTES", "1000")])
}

/// Runs `property` on `CASES` values of `strategy`, counting the branch name each case returns;
/// prints the counts and returns them.
fn run_counted<S: Strategy>(
    name: &str,
    strategy: S,
    property: impl Fn(S::Value) -> Result<String, TestCaseError>,
) -> BTreeMap<String, usize> {
    let counts = Mutex::new(BTreeMap::new());
    let mut runner = TestRunner::new(RunnerConfig {
        cases: CASES,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let result = runner.run(&strategy, |value| {
        let branch = property(value)?;
        *counts.lock().unwrap().entry(branch).or_insert(0) += 1;
        Ok(())
    });
    if let Err(err) = result {
        panic!("{name}: {err}");
    }
    let counts = counts.into_inner().unwrap();
    println!("{name}: {counts:?}");
    counts
}

fn reached(counts: &BTreeMap<String, usize>, prefix: &str) -> usize {
    counts
        .iter()
        .filter(|(branch, _)| branch.starts_with(prefix))
        .map(|(_, n)| n)
        .sum()
}

/// Asserts that branches starting with `prefix` took at least `min_share` of the cases.
fn assert_reached(counts: &BTreeMap<String, usize>, prefix: &str, min_share: f64) {
    let n = reached(counts, prefix);
    assert!(
        n as f64 >= f64::from(CASES) * min_share,
        "only {n} of {CASES} cases reached `{prefix}`: {counts:?}"
    );
}

/// Percent-encodes everything but unreserved characters, as a client library would (the same
/// encoding SigV4 uses, so the signer's own encoder serves).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    s3_presign::sigv4::uri_encode(&mut out, s, true);
    out
}

/// `s` with `c` inserted at a char boundary chosen by `at`.
fn insert_at(s: &str, at: Index, c: char) -> String {
    let boundaries: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
    let i = boundaries[at.index(boundaries.len())];
    format!("{}{c}{}", &s[..i], &s[i..])
}

fn valid_job_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,64}"
}

/// Mostly valid job ids, and the ways a job id goes wrong.
fn job_id() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => valid_job_id(),
        1 => (valid_job_id(), any::<Index>(), any::<char>()).prop_map(|(j, at, c)| insert_at(&j, at, c)),
        1 => "\\PC{0,80}",
        1 => Just("x".repeat(65)),
        1 => Just(String::new()),
    ]
}

/// A UUID v7 from generated bits, as the server's keys carry.
fn uuid_v7() -> impl Strategy<Value = uuid::Uuid> {
    (0u64..(1 << 48), any::<[u8; 10]>()).prop_map(|(millis, rand)| {
        uuid::Builder::from_unix_timestamp_millis(millis, &rand).into_uuid()
    })
}

fn image_type() -> impl Strategy<Value = ImageType> {
    proptest::sample::select(qdn_photos::domain::image_type::KNOWN_IMAGE_TYPES)
}

/// A key the server would issue for `job`.
fn valid_key_for(job: &str) -> impl Strategy<Value = String> {
    let job = JobId::parse(job).expect("a valid job id");
    (uuid_v7(), image_type())
        .prop_map(move |(id, image)| UploadKey::new(&job, id, image).to_string())
}

/// `key` (of `job`) bent in one of the ways an attacker or a broken client bends keys.
fn bend_key(job: &str, key: &str, mutation: u8, at: Index, c: char, other_job: &str) -> String {
    let prefix = format!("jobs/{job}/");
    let name = &key[prefix.len()..];
    let ext = name.rsplit('.').next().unwrap_or("");
    match mutation % 8 {
        0 => format!("jobs/{other_job}/{name}"),
        1 => format!("{prefix}{}", name.to_uppercase()),
        2 => format!("{prefix}../{name}"),
        3 => format!("{prefix}x/{name}"),
        4 => format!("/{key}"),
        5 => format!("{key}.jpg"),
        6 => key.replace(&format!(".{ext}"), ".svg"),
        _ => insert_at(key, at, c),
    }
}

/// Keys for `job`: a third as issued, the rest bent.
fn key_for(job: String) -> impl Strategy<Value = String> {
    (
        valid_key_for(&job),
        0u8..12,
        any::<Index>(),
        any::<char>(),
        valid_job_id(),
    )
        .prop_map(move |(key, mutation, at, c, other_job)| {
            if mutation < 4 {
                key
            } else {
                bend_key(&job, &key, mutation, at, c, &other_job)
            }
        })
}

/// What a decision says, without the clock: the refusal's status and code, or the accepted
/// request with who asked and from where.
fn outcome(decision: &Result<Decision, qdn_photos::api::error::ApiError>) -> String {
    match decision {
        Err(e) => format!("{} {}", e.status, e.code),
        Ok(Decision::Preflight { methods }) => format!("preflight {methods}"),
        Ok(Decision::Call { caller, request }) => {
            format!("{request:?} {} {:?}", caller.principal, caller.meta)
        }
    }
}

#[test]
fn generated_queries_reach_every_parser_and_are_accepted_or_refused_with_a_4xx() {
    let decider = OfflineDecider::new(test_config());
    let cfg = &decider.config;
    let jpeg_cursor = |job: &str| {
        let key = format!("jobs/{job}/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg");
        list_photos::encode_cursor(&key)
    };
    let request = (
        prop_oneof![8 => Just("GET"), 1 => Just("POST"), 1 => Just("OPTIONS"), 1 => Just("DELETE")],
        prop_oneof![
            5 => Just("/upload-url".to_owned()),
            5 => Just("/photos".to_owned()),
            1 => "/[a-z/.%-]{0,20}",
        ],
        prop::option::weighted(0.95, job_id()),
        prop::option::weighted(
            0.4,
            prop_oneof![
                4 => proptest::sample::select(vec!["image/jpeg", "image/png", "IMAGE/PNG", "image/webp", "image/heic"]).prop_map(str::to_owned),
                1 => proptest::sample::select(vec!["image/gif", "text/html", "image/svg+xml"]).prop_map(str::to_owned),
                1 => "\\PC{0,30}",
            ],
        ),
        prop::option::weighted(
            0.4,
            prop_oneof![
                4 => (0u64..=MAX_BYTES * 2).prop_map(|n| n.to_string()),
                1 => "\\PC{0,12}",
            ],
        ),
        prop::option::weighted(
            0.4,
            prop_oneof![
                4 => (0i64..=1200).prop_map(|n| n.to_string()),
                1 => "\\PC{0,12}",
            ],
        ),
        prop::option::weighted(
            0.3,
            prop_oneof![
                3 => Just(None),
                1 => "\\PC{0,40}".prop_map(Some),
            ],
        ),
        prop::option::weighted(0.1, ("[a-z_]{1,10}", "\\PC{0,20}")),
        prop_oneof![9 => Just(true), 1 => Just(false)],
    );
    let counts = run_counted(
        "queries",
        request,
        |(method, path, job, content_type, size, limit, cursor, extra, authed)| {
            let mut params = Vec::new();
            if let Some(job) = &job {
                params.push(format!("job_id={}", encode(job)));
            }
            for (name, value) in [
                ("content_type", &content_type),
                ("size", &size),
                ("limit", &limit),
            ] {
                if let Some(value) = value {
                    params.push(format!("{name}={}", encode(value)));
                }
            }
            if let Some(cursor) = &cursor {
                // Mostly a real cursor of this job, sometimes junk.
                let value = cursor
                    .clone()
                    .unwrap_or_else(|| jpeg_cursor(job.as_deref().unwrap_or("j")));
                params.push(format!("cursor={}", encode(&value)));
            }
            if let Some((name, value)) = &extra {
                params.push(format!("{name}={}", encode(value)));
            }
            let mut event = ApiEvent::new(method, &format!("{path}?{}", params.join("&")));
            if authed {
                event = event.bearer(TOKEN);
            }
            let Ok(req) = event.try_request() else {
                return Ok("unparsable event".into());
            };
            // The function's own reading of the event decides exactly as lambda_http's would.
            let reference = lambda_http::request::from_str(&event.to_json())
                .expect("lambda_http reads what event::parse reads");
            prop_assert_eq!(
                outcome(&decider.decide(&req)),
                outcome(&decider.decide(&reference))
            );
            match decider.decide(&req) {
                Err(e) => {
                    prop_assert!(
                        (400..500).contains(&e.status.as_u16()),
                        "{}: {e}",
                        req.uri()
                    );
                    Ok(format!("refused {}", e.code))
                }
                Ok(Decision::Preflight { .. }) => Ok("preflight".into()),
                Ok(Decision::Call { request, .. }) => match request {
                    ApiRequest::IssueUploadUrl(upload) => {
                        for file in &upload.files {
                            prop_assert!(file.max_bytes >= 1 && file.max_bytes <= MAX_BYTES);
                            prop_assert!(cfg.allowed_types.contains(&file.image));
                        }
                        prop_assert_eq!(Some(upload.job.as_str()), job.as_deref());
                        Ok("accepted upload-url".into())
                    }
                    ApiRequest::ListPhotos(page) => {
                        prop_assert!((1..=cfg.photos_page_max).contains(&page.limit));
                        if let Some(after) = &page.start_after {
                            prop_assert!(after.starts_with(&page.job.prefix()));
                        }
                        Ok("accepted photos".into())
                    }
                    ApiRequest::CompleteUploads(_) => Ok("accepted completion".into()),
                    ApiRequest::ReportUploads(_) => Ok("accepted report".into()),
                    ApiRequest::RequestExport(_) | ApiRequest::ListExports(_) => {
                        Ok("accepted exports".into())
                    }
                    ApiRequest::RemovePhoto(removal) => {
                        prop_assert!(removal.key.as_str().starts_with(&removal.job.prefix()));
                        Ok("accepted removal".into())
                    }
                },
            }
        },
    );
    assert_reached(&counts, "accepted upload-url", 0.05);
    assert_reached(&counts, "accepted photos", 0.05);
    for code in [
        "unauthorized",
        "invalid_job_id",
        "missing_job_id",
        "method_not_allowed",
        "not_found",
    ] {
        assert_reached(&counts, &format!("refused {code}"), 0.005);
    }
    for code in [
        "invalid_size",
        "file_too_large",
        "content_type_not_allowed",
        "invalid_limit",
        "invalid_cursor",
    ] {
        assert_reached(&counts, &format!("refused {code}"), 0.002);
    }
}

#[test]
fn only_the_configured_token_authenticates_whatever_the_header() {
    let decider = OfflineDecider::new(test_config());
    let headers = (
        prop_oneof![3 => "[A-Za-z]{0,8}", 1 => Just("Bearer".to_owned()), 1 => Just("bEaReR".to_owned())],
        prop_oneof![3 => "\\PC{0,200}", 1 => Just(TOKEN.to_owned())],
        "[ \t]{0,3}",
    );
    let counts = run_counted("headers", headers, |(scheme, value, pad)| {
        let authorization = format!("{pad}{scheme} {value}{pad}");
        let event = ApiEvent::get("/photos?job_id=j")
            .header("authorization", &authorization)
            .header("origin", &value)
            .header("user-agent", &value);
        let Ok(req) = event.try_request() else {
            // lambda_http refuses exactly the same events (headers HTTP cannot carry).
            prop_assert!(lambda_http::request::from_str(&event.to_json()).is_err());
            return Ok("unparsable event".into());
        };
        let reference = lambda_http::request::from_str(&event.to_json())
            .expect("lambda_http reads what event::parse reads");
        prop_assert_eq!(
            outcome(&decider.decide(&req)),
            outcome(&decider.decide(&reference))
        );
        let accepted = decider.decide(&req).is_ok();
        let should = scheme.eq_ignore_ascii_case("bearer") && value == TOKEN;
        prop_assert_eq!(accepted, should, "{:?}", authorization);
        Ok(if accepted { "authenticated" } else { "refused" }.into())
    });
    assert_reached(&counts, "authenticated", 0.03);
    assert_reached(&counts, "refused", 0.5);
}

/// A completion body: valid (1 to 50 keys of one job), then bent in one of the ways bodies go wrong.
fn completion_body() -> impl Strategy<Value = String> {
    let count = prop_oneof![4 => 1..=8usize, 1 => 1..=complete_uploads::MAX_KEYS];
    let valid = (valid_job_id(), count).prop_flat_map(|(job, n)| {
        let keys = proptest::collection::vec(valid_key_for(&job), n);
        (Just(job), keys)
    });
    let bend = (
        0u8..17,
        "\\PC{0,40}",
        any::<Index>(),
        (0u8..8, any::<Index>(), any::<char>(), valid_job_id()),
    );
    (valid, bend).prop_map(|((job, keys), (mutation, junk, at, key_bend))| {
        let mut body = json!({"job_id": job, "keys": keys});
        match mutation {
            0..=6 => {}
            7 => {
                let (kind, key_at, c, other_job) = key_bend;
                let i = at.index(keys.len());
                body["keys"][i] = json!(bend_key(&job, &keys[i], kind, key_at, c, &other_job));
            }
            8 => body["extra"] = json!(1),
            9 => body["job_id"] = json!(junk),
            10 => body["keys"] = json!([]),
            11 => {
                let many: Vec<Value> = (0..=complete_uploads::MAX_KEYS)
                    .map(|i| json!(format!("jobs/{job}/{i}.jpg")))
                    .collect();
                body["keys"] = Value::Array(many);
            }
            12 => {
                let dup = keys[at.index(keys.len())].clone();
                body["keys"].as_array_mut().unwrap().push(json!(dup));
            }
            13 => body["keys"] = json!(junk),
            14 => return junk,
            // The legacy body: a client's count of files instead of keys.
            15 => body = json!({"job_id": job, "file_count": at.index(2000)}),
            _ => {
                body.as_object_mut().unwrap().remove("job_id");
            }
        }
        body.to_string()
    })
}

#[test]
fn generated_completion_bodies_are_accepted_only_when_every_key_is_the_jobs() {
    let counts = run_counted("completion bodies", completion_body(), |body| {
        let req = ApiEvent::post("/upload-url")
            .header("content-type", "application/json")
            .body(&body)
            .request();
        match complete_uploads::parse(&req, &config(&[])) {
            Err(e) => {
                prop_assert!((400..500).contains(&e.status.as_u16()), "{e}");
                Ok(format!("refused {}", e.code))
            }
            Ok(PostedUploads::Report(report)) => {
                let limit = report_uploads::MAX_REPORTED_FILES;
                prop_assert!((1..=limit).contains(&report.file_count));
                prop_assert!(body.contains(report.job.as_str()));
                Ok("accepted report".into())
            }
            Ok(PostedUploads::Grants(grants)) => {
                prop_assert!((1..=issue_upload_url::MAX_BATCH).contains(&grants.files.len()));
                Ok("accepted grants".into())
            }
            Ok(PostedUploads::Completion(c)) => {
                prop_assert!(!c.keys.is_empty() && c.keys.len() <= complete_uploads::MAX_KEYS);
                for (i, key) in c.keys.iter().enumerate() {
                    let reparsed = UploadKey::parse(&c.job, key.as_str());
                    prop_assert_eq!(reparsed.as_ref(), Some(key));
                    prop_assert!(!c.keys[..i].contains(key), "duplicate accepted");
                }
                Ok("accepted".into())
            }
        }
    });
    assert_reached(&counts, "accepted", 0.1);
    assert_reached(&counts, "accepted report", 0.01);
    for code in [
        "invalid_file_count",
        "invalid_key",
        "invalid_json",
        "invalid_job_id",
        "invalid_key_count",
        "duplicate_key",
    ] {
        assert_reached(&counts, &format!("refused {code}"), 0.01);
    }
}

#[test]
fn an_accepted_key_never_leaves_its_jobs_prefix() {
    let cases = valid_job_id().prop_flat_map(|job| (Just(job.clone()), key_for(job)));
    let counts = run_counted("keys", cases, |(job, key)| {
        let job = JobId::parse(&job).unwrap();
        match UploadKey::parse(&job, &key) {
            None => Ok("refused".into()),
            Some(parsed) => {
                let prefix = job.prefix();
                prop_assert_eq!(parsed.as_str(), key.as_str());
                prop_assert!(key.starts_with(&prefix));
                let name = &key[prefix.len()..];
                prop_assert!(!name.contains('/') && !name.contains(".."), "{}", key);
                prop_assert_eq!(
                    Some(parsed.image_type()),
                    ImageType::by_ext(name.rsplit('.').next().unwrap())
                );
                Ok("accepted".into())
            }
        }
    });
    assert_reached(&counts, "accepted", 0.2);
    assert_reached(&counts, "refused", 0.2);
}
