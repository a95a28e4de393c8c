//! S3 presigned POST: the policy document, its base64 form and SigV4 signature, and the form fields
//! a browser sends before the file. aws-sdk-s3 cannot presign POST (aws-sdk-rust#863), hence this.
//!
//! Every condition here is checked by S3 itself when the browser posts, so the server's decisions
//! (exact key, exact type, size range, expiry, metadata) cannot be changed by the client.

use std::sync::{Mutex, PoisonError};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::Mac;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::sigv4::{hex_signature, HmacSha256, SigningSession, ALGORITHM};
use crate::utc::UtcTime;

/// What one upload may be, decided by the server.
#[derive(Debug, Clone, Copy)]
pub struct UploadPolicy<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub content_type: &'a str,
    /// User metadata S3 stores with the object, each field named `x-amz-meta-…`, its value exact.
    pub metadata: &'a [(&'static str, &'a str)],
    pub max_bytes: u64,
    pub expires_at: UtcTime,
    /// The SHA-256 of the one body S3 may store (base64, as S3 writes checksums): sent as
    /// `x-amz-checksum-algorithm` and `x-amz-checksum-sha256`, each an exact condition.
    pub checksum_sha256: Option<&'a str>,
}

/// Form fields in the order the browser must send them (all before the `file` field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostForm {
    pub fields: Vec<(&'static str, String)>,
}

impl PostForm {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A JSON object that keeps the field order, which browsers then follow when building the form.
impl Serialize for PostForm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (name, value) in &self.fields {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Issues presigned POSTs, keeping the part of the policy that is the same for every upload
/// signed with one key (bucket, algorithm, credential, session token) already base64-encoded and
/// already fed to the HMAC. Lambda's ~0.8 KB session token is then hashed once per key, not once
/// per upload. One per process; it holds the prefix of the last key and bucket used.
#[derive(Default)]
pub struct PostPresigner {
    cached: Mutex<Option<PolicyPrefix>>,
}

impl PostPresigner {
    pub fn new() -> Self {
        Self::default()
    }

    /// The same form as [`presign_post`], byte for byte.
    pub fn presign(&self, session: &SigningSession, p: &UploadPolicy) -> PostForm {
        // A poisoned lock means a panic elsewhere mid-update; the slot is still valid or None.
        let mut slot = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        let prefix = match slot.take() {
            Some(hit) if hit.key_id == session.key_id() && hit.bucket == p.bucket => hit,
            _ => PolicyPrefix::new(session, p.bucket),
        };
        let (policy, mac) = prefix.start(suffix_capacity(p));
        *slot = Some(prefix);
        drop(slot);
        finish(session, p, policy, mac)
    }
}

/// Signs `p` and returns the form fields. Field names and casing are those S3 documents.
pub fn presign_post(session: &SigningSession, p: &UploadPolicy) -> PostForm {
    let (policy, mac) = PolicyPrefix::new(session, p.bucket).start(suffix_capacity(p));
    finish(session, p, policy, mac)
}

/// The policy's constant part as base64, and the HMAC state after it. The JSON prefix is padded
/// with spaces to a multiple of 3 bytes, where base64 groups end, so the base64 of the whole
/// policy is this base64 followed by the base64 of the rest: the signed string (the base64 text)
/// can then be hashed in two pieces. S3 reads the conditions in any order.
struct PolicyPrefix {
    key_id: u64,
    bucket: String,
    base64: String,
    mac: HmacSha256,
}

impl PolicyPrefix {
    fn new(session: &SigningSession, bucket: &str) -> Self {
        let json = prefix_json(session, bucket);
        let base64 = STANDARD.encode(&json);
        let mut mac = session.keyed_mac().clone();
        mac.update(base64.as_bytes());
        PolicyPrefix {
            key_id: session.key_id(),
            bucket: bucket.to_owned(),
            base64,
            mac,
        }
    }

    /// A policy buffer holding the prefix, and the HMAC state to continue from.
    fn start(&self, rest: usize) -> (String, HmacSha256) {
        let mut policy = String::with_capacity(self.base64.len() + rest);
        policy.push_str(&self.base64);
        (policy, self.mac.clone())
    }
}

/// `{"conditions":[` and the conditions that depend only on the signing key and bucket, padded.
fn prefix_json(session: &SigningSession, bucket: &str) -> Vec<u8> {
    let mut json =
        Vec::with_capacity(200 + bucket.len() + session.session_token().map_or(0, str::len));
    json.extend_from_slice(br#"{"conditions":[{"bucket":"#);
    push_json_str(&mut json, bucket);
    json.extend_from_slice(br#"},{"x-amz-algorithm":""#);
    json.extend_from_slice(ALGORITHM.as_bytes());
    json.extend_from_slice(br#""},{"x-amz-credential":"#);
    push_json_str(&mut json, session.credential());
    json.push(b'}');
    if let Some(token) = session.session_token() {
        json.extend_from_slice(br#",{"x-amz-security-token":"#);
        push_json_str(&mut json, token);
        json.push(b'}');
    }
    json.extend_from_slice(br#",{"success_action_status":"201"},"#);
    while json.len() % 3 != 0 {
        json.push(b' ');
    }
    json
}

/// The per-upload conditions and the expiration, closing the document. Uploads must be at least
/// one byte: an empty photo is never useful.
fn suffix_json(session: &SigningSession, p: &UploadPolicy, json: &mut Vec<u8>) {
    json.extend_from_slice(br#"{"x-amz-date":""#);
    json.extend_from_slice(session.amz_date().as_bytes());
    json.extend_from_slice(br#""},{"Content-Type":"#);
    push_json_str(json, p.content_type);
    json.extend_from_slice(br#"},["content-length-range",1,"#);
    json.extend_from_slice(itoa::Buffer::new().format(p.max_bytes).as_bytes());
    json.extend_from_slice(br#"]"#);
    for (name, value) in p.metadata.iter().chain(&checksum_fields(p)) {
        json.extend_from_slice(b",{");
        push_json_str(json, name);
        json.push(b':');
        push_json_str(json, value);
        json.push(b'}');
    }
    json.extend_from_slice(br#",{"key":"#);
    push_json_str(json, p.key);
    json.extend_from_slice(br#"}],"expiration":""#);
    json.extend_from_slice(p.expires_at.rfc3339().as_bytes());
    json.extend_from_slice(br#""}"#);
}

/// The checksum's two fields, when the policy binds one.
fn checksum_fields<'a>(p: &UploadPolicy<'a>) -> Vec<(&'static str, &'a str)> {
    match p.checksum_sha256 {
        Some(sha256) => vec![
            ("x-amz-checksum-algorithm", "SHA256"),
            ("x-amz-checksum-sha256", sha256),
        ],
        None => Vec::new(),
    }
}

/// Room for the base64 of the suffix.
fn suffix_capacity(p: &UploadPolicy) -> usize {
    let json = 180
        + p.checksum_sha256.map_or(0, |_| 120)
        + p.key.len()
        + p.content_type.len()
        + p.metadata
            .iter()
            .map(|(n, v)| n.len() + v.len() + 8)
            .sum::<usize>();
    json / 3 * 4 + 4
}

/// The policy document as JSON, as S3 decodes it.
#[cfg(test)]
fn policy_json(session: &SigningSession, p: &UploadPolicy) -> Vec<u8> {
    let mut json = prefix_json(session, p.bucket);
    suffix_json(session, p, &mut json);
    json
}

/// Appends the per-upload part to `policy` (which holds the prefix), signs, and lays out the form.
fn finish(
    session: &SigningSession,
    p: &UploadPolicy,
    mut policy: String,
    mut mac: HmacSha256,
) -> PostForm {
    let mut json = Vec::with_capacity(suffix_capacity(p));
    suffix_json(session, p, &mut json);
    let prefix_len = policy.len();
    STANDARD.encode_string(&json, &mut policy);
    mac.update(&policy.as_bytes()[prefix_len..]);
    let signature = hex_signature(mac);
    let mut fields = Vec::with_capacity(9 + p.metadata.len());
    fields.push(("key", p.key.to_owned()));
    fields.push(("Content-Type", p.content_type.to_owned()));
    fields.push(("success_action_status", "201".to_owned()));
    for (name, value) in p.metadata.iter().chain(&checksum_fields(p)) {
        fields.push((*name, (*value).to_owned()));
    }
    fields.push(("x-amz-algorithm", ALGORITHM.to_owned()));
    fields.push(("x-amz-credential", session.credential().to_owned()));
    fields.push(("x-amz-date", session.amz_date().to_owned()));
    if let Some(token) = session.session_token() {
        fields.push(("x-amz-security-token", token.to_owned()));
    }
    fields.push(("policy", policy));
    fields.push((
        "x-amz-signature",
        String::from_utf8_lossy(&signature).into_owned(),
    ));
    PostForm { fields }
}

/// Appends `s` as a JSON string literal (serde_json's escaper copies unescaped runs as slices).
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Serializing a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::tests::{at, example_creds, EXAMPLE_AKID};
    use crate::sigv4::{Signer, StaticCredentials};
    use serde_json::{json, Value};

    /// The policy of AWS's "Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)"
    /// example, exactly as published: base64 of a CRLF-formatted document.
    const AWS_EXAMPLE_POLICY_B64: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";

    const DEC_29_2015: u64 = 1_451_347_200;

    fn example_policy(expires_at: UtcTime) -> UploadPolicy<'static> {
        UploadPolicy {
            bucket: "qdn-uploads",
            key: "jobs/j-12345/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg",
            content_type: "image/jpeg",
            metadata: &[("x-amz-meta-job-id", "j-12345")],
            max_bytes: 52_428_800,
            expires_at,
            checksum_sha256: None,
        }
    }

    #[test]
    fn signs_aws_published_browser_upload_example() {
        let signer = Signer::new("us-east-1");
        let creds = example_creds(None);
        let session = signer.session(&creds, at(DEC_29_2015));
        let signature = session.sign(AWS_EXAMPLE_POLICY_B64.as_bytes());
        assert_eq!(
            std::str::from_utf8(&signature).unwrap(),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
    }

    #[test]
    fn the_policy_carries_every_condition_s3_enforces() {
        let signer = Signer::new("us-east-1");
        let creds = example_creds(None);
        let session = signer.session(&creds, at(DEC_29_2015));
        let policy: Value = serde_json::from_slice(&policy_json(
            &session,
            &example_policy(UtcTime::from_unix_secs(DEC_29_2015 + 900)),
        ))
        .unwrap();
        assert_eq!(
            policy,
            json!({
                "expiration": "2015-12-29T00:15:00Z",
                "conditions": [
                    {"bucket": "qdn-uploads"},
                    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                    {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},
                    {"success_action_status": "201"},
                    {"x-amz-date": "20151229T000000Z"},
                    {"Content-Type": "image/jpeg"},
                    ["content-length-range", 1, 52_428_800],
                    {"x-amz-meta-job-id": "j-12345"},
                    {"key": "jobs/j-12345/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg"}
                ]
            })
        );
    }

    #[test]
    fn form_fields_match_the_signed_policy_one_for_one() {
        let signer = Signer::new("us-east-1");
        let creds = example_creds(None);
        let session = signer.session(&creds, at(DEC_29_2015));
        let form = presign_post(
            &session,
            &example_policy(UtcTime::from_unix_secs(DEC_29_2015 + 900)),
        );
        let names: Vec<&str> = form.fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "key",
                "Content-Type",
                "success_action_status",
                "x-amz-meta-job-id",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "policy",
                "x-amz-signature"
            ]
        );
        // The signature is the HMAC of exactly the policy field, and the policy decodes to the JSON.
        let policy_b64 = form.get("policy").unwrap();
        let expected_sig = session.sign(policy_b64.as_bytes());
        assert_eq!(
            form.get("x-amz-signature").unwrap().as_bytes(),
            &expected_sig[..]
        );
        let decoded = STANDARD.decode(policy_b64).unwrap();
        let policy: Value = serde_json::from_slice(&decoded).unwrap();
        // Every condition that names a form field has that field, with the same value.
        for cond in policy["conditions"].as_array().unwrap() {
            if let Some(obj) = cond.as_object() {
                let (name, value) = obj.iter().next().unwrap();
                if name != "bucket" {
                    assert_eq!(form.get(name), value.as_str(), "field {name}");
                }
            }
        }
    }

    #[test]
    fn a_session_token_is_both_a_field_and_a_condition() {
        let signer = Signer::new("us-east-1");
        let creds = example_creds(Some("FwoGZXIvYXdzEJr//////////wEaDOa+/session=="));
        let session = signer.session(&creds, at(DEC_29_2015));
        let form = presign_post(
            &session,
            &example_policy(UtcTime::from_unix_secs(DEC_29_2015 + 900)),
        );
        assert_eq!(
            form.get("x-amz-security-token"),
            Some("FwoGZXIvYXdzEJr//////////wEaDOa+/session==")
        );
        let decoded = STANDARD.decode(form.get("policy").unwrap()).unwrap();
        let policy: Value = serde_json::from_slice(&decoded).unwrap();
        assert!(policy["conditions"].as_array().unwrap().contains(
            &json!({"x-amz-security-token": "FwoGZXIvYXdzEJr//////////wEaDOa+/session=="})
        ));
        // The field order still ends with policy and signature.
        let n = form.fields.len();
        assert_eq!(form.fields[n - 2].0, "policy");
        assert_eq!(form.fields[n - 1].0, "x-amz-signature");
    }

    #[test]
    fn the_constant_prefix_ends_where_a_base64_group_ends_whatever_the_token() {
        let signer = Signer::new("us-east-1");
        for token_len in 0..7 {
            let token = "t".repeat(token_len);
            let creds = example_creds((token_len > 0).then_some(token.as_str()));
            let session = signer.session(&creds, at(DEC_29_2015));
            for bucket in ["b12", "qdn-uploads", "qdn-uploads-2"] {
                let json = prefix_json(&session, bucket);
                assert_eq!(json.len() % 3, 0, "token {token_len}, bucket {bucket}");
                let mut p = example_policy(UtcTime::from_unix_secs(DEC_29_2015 + 900));
                p.bucket = bucket;
                let form = presign_post(&session, &p);
                let decoded = STANDARD.decode(form.get("policy").unwrap()).unwrap();
                assert_eq!(decoded, policy_json(&session, &p));
                let policy: Value = serde_json::from_slice(&decoded).unwrap();
                assert_eq!(policy["conditions"][0], json!({ "bucket": bucket }));
            }
        }
    }

    #[test]
    fn the_cached_prefix_signs_exactly_what_the_uncached_path_signs() {
        let signer = Signer::new("us-east-1");
        let presigner = PostPresigner::new();
        let plain = example_creds(None);
        let token_a = example_creds(Some("token-a/+=="));
        let token_b = example_creds(Some("token-b-longer/+=="));
        let rotated = StaticCredentials::new(EXAMPLE_AKID, "rotated-secret");
        let expires = UtcTime::from_unix_secs(DEC_29_2015 + 900);
        // Every change of key, token, day or bucket must show in the form, then back again.
        let steps: [(&StaticCredentials, u64, &str); 8] = [
            (&plain, DEC_29_2015, "qdn-uploads"),
            (&plain, DEC_29_2015 + 5, "qdn-uploads"),
            (&token_a, DEC_29_2015 + 5, "qdn-uploads"),
            (&token_b, DEC_29_2015 + 6, "qdn-uploads"),
            (&token_b, DEC_29_2015 + 6, "other-bucket"),
            (&token_b, DEC_29_2015 + 86_400, "other-bucket"),
            (&rotated, DEC_29_2015 + 86_400, "other-bucket"),
            (&plain, DEC_29_2015, "qdn-uploads"),
        ];
        let mut seen = Vec::new();
        for (creds, now, bucket) in steps {
            let session = signer.session(creds, at(now));
            let mut p = example_policy(expires);
            p.bucket = bucket;
            let cached = presigner.presign(&session, &p);
            let uncached = presign_post(&session, &p);
            assert_eq!(cached, uncached, "{bucket} at {now}");
            let sig = session.sign(cached.get("policy").unwrap().as_bytes());
            assert_eq!(cached.get("x-amz-signature").unwrap().as_bytes(), &sig[..]);
            seen.push(cached);
        }
        assert_eq!(seen[0], seen[7]);
        for i in 1..7 {
            assert_ne!(seen[i - 1], seen[i], "step {i}");
        }
    }

    #[test]
    fn json_strings_in_the_policy_are_escaped() {
        let mut out = Vec::new();
        push_json_str(&mut out, "a\"b\\c\n\u{1}é");
        assert_eq!(
            serde_json::from_slice::<String>(&out).unwrap(),
            "a\"b\\c\n\u{1}é"
        );
    }

    #[test]
    fn form_fields_serialize_in_the_order_the_browser_sends_them() {
        let form = PostForm {
            fields: vec![
                ("key", "k".into()),
                ("Content-Type", "image/png".into()),
                ("policy", "p".into()),
            ],
        };
        assert_eq!(
            serde_json::to_string(&form).unwrap(),
            r#"{"key":"k","Content-Type":"image/png","policy":"p"}"#
        );
    }
}
