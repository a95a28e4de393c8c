//! S3 presigned POST: the policy document, its base64 form and SigV4 signature, and the form fields
//! a browser sends before the file. aws-sdk-s3 cannot presign POST (aws-sdk-rust#863), hence this.
//!
//! Every condition here is checked by S3 itself when the browser posts, so the server's decisions
//! (exact key, exact type, size range, expiry, metadata) cannot be changed by the client.

use base64::Engine;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::sigv4::{SigningSession, ALGORITHM};
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

/// The policy document as JSON. Uploads must be at least one byte: an empty photo is never useful.
pub fn policy_json(session: &SigningSession, p: &UploadPolicy) -> Vec<u8> {
    let mut json = Vec::with_capacity(
        420 + p.bucket.len()
            + p.key.len()
            + p.metadata
                .iter()
                .map(|(n, v)| n.len() + v.len() + 8)
                .sum::<usize>()
            + session.session_token().map_or(0, str::len),
    );
    json.extend_from_slice(br#"{"expiration":""#);
    json.extend_from_slice(p.expires_at.rfc3339().as_bytes());
    json.extend_from_slice(br#"","conditions":[{"bucket":"#);
    push_json_str(&mut json, p.bucket);
    json.extend_from_slice(br#"},{"key":"#);
    push_json_str(&mut json, p.key);
    json.extend_from_slice(br#"},{"Content-Type":"#);
    push_json_str(&mut json, p.content_type);
    json.extend_from_slice(br#"},["content-length-range",1,"#);
    json.extend_from_slice(itoa::Buffer::new().format(p.max_bytes).as_bytes());
    json.extend_from_slice(br#"],{"success_action_status":"201"}"#);
    for (name, value) in p.metadata {
        json.extend_from_slice(b",{");
        push_json_str(&mut json, name);
        json.push(b':');
        push_json_str(&mut json, value);
        json.push(b'}');
    }
    json.extend_from_slice(br#",{"x-amz-algorithm":""#);
    json.extend_from_slice(ALGORITHM.as_bytes());
    json.extend_from_slice(br#""},{"x-amz-credential":"#);
    push_json_str(&mut json, session.credential());
    json.extend_from_slice(br#"},{"x-amz-date":""#);
    json.extend_from_slice(session.amz_date().as_bytes());
    json.extend_from_slice(br#""}"#);
    if let Some(token) = session.session_token() {
        json.extend_from_slice(br#",{"x-amz-security-token":"#);
        push_json_str(&mut json, token);
        json.push(b'}');
    }
    json.extend_from_slice(b"]}");
    json
}

/// Signs `p` and returns the form fields. Field names and casing are those S3 documents.
pub fn presign_post(session: &SigningSession, p: &UploadPolicy) -> PostForm {
    let policy = base64::engine::general_purpose::STANDARD.encode(policy_json(session, p));
    let signature = session.sign(policy.as_bytes());
    let mut fields = Vec::with_capacity(9 + p.metadata.len());
    fields.push(("key", p.key.to_owned()));
    fields.push(("Content-Type", p.content_type.to_owned()));
    fields.push(("success_action_status", "201".to_owned()));
    for (name, value) in p.metadata {
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
    use crate::sigv4::tests::{at, example_creds};
    use crate::sigv4::Signer;
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
                    {"key": "jobs/j-12345/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg"},
                    {"Content-Type": "image/jpeg"},
                    ["content-length-range", 1, 52_428_800],
                    {"success_action_status": "201"},
                    {"x-amz-meta-job-id": "j-12345"},
                    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                    {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},
                    {"x-amz-date": "20151229T000000Z"}
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
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(policy_b64)
            .unwrap();
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
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(form.get("policy").unwrap())
            .unwrap();
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
