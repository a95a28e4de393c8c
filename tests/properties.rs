//! Properties of the request path that need no server: whatever a client sends (query strings,
//! headers, bodies, job ids, keys), parsing never panics and every refusal is a 4xx.

mod support;

use proptest::prelude::*;
use qdn_photos::app::check_offline;
use qdn_photos::auth::authenticate;
use qdn_photos::config::Config;
use qdn_photos::routes::complete_uploads;
use qdn_photos::validate;
use serde_json::json;

fn config() -> Config {
    Config::from_lookup(|name| match name {
        "UPLOADS_BUCKET" => Some("qdn-uploads".into()),
        "AUDIT_TABLE" => Some("qdn-audit".into()),
        "AWS_REGION" => Some("us-east-1".into()),
        "MAX_UPLOAD_BYTES" => Some("1000".into()),
        "AUTH_TOKEN_SHA256" => {
            Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into())
        }
        _ => None,
    })
    .unwrap()
}

/// Percent-encodes everything but unreserved characters, as a client library or API Gateway would.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn param_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("job_id".to_owned()),
        Just("content_type".to_owned()),
        Just("size".to_owned()),
        Just("limit".to_owned()),
        Just("cursor".to_owned()),
        "\\PC{0,12}",
    ]
}

/// Routes, authenticates and parses one request the way `App::handle` does before any I/O.
fn run_request(method: &str, path: &str, query: &str) {
    let req = support::event(method, &format!("{path}?{query}"), json!({}), None);
    if let Err(e) = check_offline(&config(), &req) {
        assert!(
            (400..500).contains(&e.status.as_u16()),
            "status {}",
            e.status
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_queries_are_refused_with_4xx_or_accepted(
        method in prop_oneof![Just("GET"), Just("POST"), Just("OPTIONS"), Just("DELETE"), Just("PUT")],
        path in prop_oneof![Just("/upload-url".to_owned()), Just("/photos".to_owned()), "/[a-z/.%-]{0,20}"],
        params in proptest::collection::vec((param_name(), "\\PC{0,80}"), 0..6),
    ) {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        run_request(method, &path, &query.join("&"));
    }

    #[test]
    fn arbitrary_headers_never_authenticate_or_panic(value in "\\PC{0,200}", scheme in "[A-Za-z]{0,8}") {
        let headers = json!({ "authorization": format!("{scheme} {value}"), "origin": value, "user-agent": value });
        let req = support::event("GET", "/photos?job_id=j", headers, None);
        // Only the one configured token's hash authenticates; a random string never matches it.
        prop_assert!(authenticate(&req, config().auth_token_sha256.as_ref()).is_err());
    }

    #[test]
    fn arbitrary_completion_bodies_are_4xx_or_valid(body in prop_oneof![
        "\\PC{0,300}",
        proptest::collection::vec("\\PC{0,70}", 0..60).prop_map(|keys| json!({"job_id": "j-1", "keys": keys}).to_string()),
        ("\\PC{0,70}", proptest::collection::vec("jobs/j-1/\\PC{0,50}", 1..5))
            .prop_map(|(job, keys)| json!({"job_id": job, "keys": keys}).to_string()),
    ]) {
        let req = support::event("POST", "/upload-url", json!({"content-type": "application/json"}), Some(&body));
        match complete_uploads::parse(&req) {
            Err(e) => prop_assert!((400..500).contains(&e.status.as_u16())),
            Ok(c) => {
                prop_assert!(validate::job_id(&c.job_id).is_ok());
                prop_assert!(!c.keys.is_empty() && c.keys.len() <= complete_uploads::MAX_KEYS);
                for key in &c.keys {
                    prop_assert!(validate::is_upload_key_of(&c.job_id, key));
                }
            }
        }
    }

    #[test]
    fn accepted_job_ids_and_keys_cannot_escape_their_prefix(job in "\\PC{0,70}", key in "\\PC{0,120}") {
        if validate::job_id(&job).is_ok() {
            prop_assert!(job.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            prop_assert!(!job.is_empty() && job.len() <= 64);
        }
        if validate::is_upload_key_of(&job, &key) {
            let prefix = validate::job_prefix(&job);
            prop_assert!(key.starts_with(&prefix));
            let name = &key[prefix.len()..];
            prop_assert!(!name.contains('/') && !name.contains(".."));
        }
    }
}
