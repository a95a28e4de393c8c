//! S3 event notifications as AWS writes them, for tests, `events/` and the local stand-in.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// An S3 event notification for objects just stored, as AWS sends it (eventVersion 2.1): for
/// tests, `events/`, and the local stand-in for bucket notifications. `objects`: `(key, size,
/// ETag, versionId)`; keys are written form-encoded, as S3 writes them.
pub fn notification(bucket: &str, objects: &[(&str, u64, &str, Option<&str>)]) -> String {
    let records: Vec<serde_json::Value> = objects
        .iter()
        .map(|(key, size, etag, version)| {
            serde_json::json!({
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventTime": "2026-11-24T10:00:00.000Z", "eventName": "ObjectCreated:Post",
                "userIdentity": {"principalId": "AWS:AROAEXAMPLE:qdn-photos"},
                "requestParameters": {"sourceIPAddress": "198.51.100.23"},
                "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
                "s3": {
                    "s3SchemaVersion": "1.0", "configurationId": "jobs-photos",
                    "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                               "arn": format!("arn:aws:s3:::{bucket}")},
                    "object": {"key": encode_key(key), "size": size, "eTag": etag, "versionId": version,
                               "sequencer": next_sequencer()}
                }
            })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

/// A sequencer later than every one this process made before, as S3's grow for each key: the
/// order of the calls is the order of the stores.
pub fn next_sequencer() -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let previous = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or_default();
    format!("{:018X}", now.max(previous + 1))
}

/// The inverse of [`decode_key`](crate::pipeline::s3_event::decode_key): `/` kept, space as `+`, the rest percent-encoded.
pub fn encode_key(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::s3_event::parse;

    #[test]
    fn what_we_write_reads_back_key_for_key() {
        let keys = [
            "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg",
            "jobs/a b/+c%/é.png",
        ];
        let json = notification(
            "qdn-uploads",
            &[(keys[0], 5, "e", Some("v1")), (keys[1], 6, "f", None)],
        );
        let back: Vec<String> = parse(&json).unwrap().into_iter().map(|e| e.key).collect();
        assert_eq!(back, keys);
        assert!(json.contains("jobs/a+b/%2Bc%25/%C3%A9.png"), "{json}");
    }
}
