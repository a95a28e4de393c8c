//! Request handling up to (not including) I/O, on arbitrary bytes: method, path, query string,
//! Authorization header and body. Never a panic; every refusal a 4xx.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qdn_photos::app::check_offline;
use qdn_photos::config::Config;

fn config() -> Config {
    Config::from_lookup(|name| match name {
        "UPLOADS_BUCKET" => Some("qdn-uploads".into()),
        "AUDIT_TABLE" => Some("qdn-audit".into()),
        "AWS_REGION" => Some("us-east-1".into()),
        "AUTH_TOKEN_SHA256" => {
            Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into())
        }
        _ => None,
    })
    .expect("fuzz configuration is valid")
}

/// `raw` as a client would send it: RFC 3986 characters as they are (so `%`, `&`, `=`, `+`
/// and friends still reach the parser raw), everything else and `also` percent-encoded.
fn request_target(raw: &str, also: &str) -> String {
    let legal = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%".contains(c);
    raw.chars()
        .flat_map(|c| {
            if legal(c) && !also.contains(c) {
                vec![c.to_string()]
            } else {
                c.to_string().bytes().map(|b| format!("%{b:02X}")).collect()
            }
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(5, '\n');
    let method = match parts.next().unwrap_or("").len() % 4 {
        0 => "GET",
        1 => "POST",
        2 => "OPTIONS",
        _ => "DELETE",
    };
    // An HTTP request line carries only RFC 3986 characters, so that is all API Gateway can
    // deliver: anything else arrives percent-encoded. (lambda_http panics on a raw space or
    // control character, a residual noted in SECURITY.md; it cannot arrive this way.)
    let path = format!("/{}", request_target(parts.next().unwrap_or(""), "?#"));
    let query = request_target(parts.next().unwrap_or(""), "#");
    let authorization = parts.next().unwrap_or("");
    let body = parts.next();
    let event = serde_json::json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"authorization": authorization, "content-type": "application/json"},
        "requestContext": {"stage": "$default", "requestId": "fuzz", "timeEpoch": 0,
            "http": {"method": method, "path": path, "sourceIp": "192.0.2.1"}},
        "body": body, "isBase64Encoded": false
    });
    let Ok(req) = lambda_http::request::from_str(&event.to_string()) else {
        return;
    };
    if let Err(err) = check_offline(&config(), &req) {
        assert!((400..500).contains(&err.status.as_u16()), "{err}");
    }
});
