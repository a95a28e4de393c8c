//! The S3 event notification JSON, as far as the pipeline reads it. Keys arrive URL-encoded with
//! `+` for spaces; one event may carry several records, and the same record may come twice or out
//! of order (every step downstream is idempotent per key and version).

use percent_encoding::percent_decode_str;
use serde::Deserialize;

/// One stored object, as a record names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub event_name: String,
    pub bucket: String,
    /// Decoded: `jobs/j 1/…` for `jobs/j+1/…`.
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    /// Absent on unversioned buckets (and on Garage).
    pub version_id: Option<String>,
    /// Orders events for the same key; hex, compared by length then value.
    pub sequencer: Option<String>,
}

#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "Records")]
    records: Option<Vec<Record>>,
    /// `s3:TestEvent`, which S3 sends once when a notification is configured.
    #[serde(rename = "Event")]
    event: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    #[serde(default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    key: String,
    #[serde(default)]
    size: u64,
    e_tag: Option<String>,
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// The records of an S3 notification; `Err` for anything else (an API Gateway event sent to the
/// pipeline function is an error, not a request to serve). S3's test event has no records.
pub fn parse(json: &str) -> Result<Vec<StoredEvent>, serde_json::Error> {
    let notification: Notification = serde_json::from_str(json)?;
    let records = match (notification.records, notification.event.as_deref()) {
        (Some(records), _) => records,
        (None, Some("s3:TestEvent")) => Vec::new(),
        (None, _) => {
            return Err(serde::de::Error::custom(
                "not an S3 event notification (no Records)",
            ))
        }
    };
    Ok(records
        .into_iter()
        .map(|r| StoredEvent {
            event_name: r.event_name,
            bucket: r.s3.bucket.name,
            key: decode_key(&r.s3.object.key),
            size: r.s3.object.size,
            etag: r.s3.object.e_tag,
            version_id: r
                .s3
                .object
                .version_id
                .filter(|v| !v.is_empty() && v != "null"),
            sequencer: r.s3.object.sequencer,
        })
        .collect())
}

/// S3 writes keys in notifications form-encoded: `+` is a space, `%2B` a plus.
pub fn decode_key(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What S3 sends for a presigned POST (eventName `ObjectCreated:Post`), as AWS documents it.
    fn notification(records: &[(&str, &str, Option<&str>)]) -> String {
        let records: Vec<_> = records
            .iter()
            .map(|(name, key, version)| {
                json!({
                    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                    "eventTime": "2026-11-24T10:00:00.000Z", "eventName": name,
                    "userIdentity": {"principalId": "AWS:AROAEXAMPLE:qdn-photos"},
                    "requestParameters": {"sourceIPAddress": "203.0.113.10"},
                    "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
                    "s3": {
                        "s3SchemaVersion": "1.0", "configurationId": "jobs-photos",
                        "bucket": {"name": "qdn-uploads", "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": "arn:aws:s3:::qdn-uploads"},
                        "object": {"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                                   "versionId": version, "sequencer": "0055AED6DCD90281E5"}
                    }
                })
            })
            .collect();
        json!({ "Records": records }).to_string()
    }

    #[test]
    fn records_are_read_with_their_keys_decoded() {
        let events = parse(&notification(&[
            (
                "ObjectCreated:Post",
                "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg",
                Some("3HL4kqtJlcpXroDT"),
            ),
            ("ObjectCreated:Put", "jobs/site+A/caf%C3%A9+%2B1.png", None),
        ]))
        .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0].key,
            "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg"
        );
        assert_eq!(events[0].version_id.as_deref(), Some("3HL4kqtJlcpXroDT"));
        assert_eq!(events[0].bucket, "qdn-uploads");
        assert_eq!(events[0].size, 1024);
        assert_eq!(events[0].sequencer.as_deref(), Some("0055AED6DCD90281E5"));
        assert_eq!(events[1].key, "jobs/site A/café +1.png");
        assert_eq!(events[1].version_id, None);
        assert_eq!(events[1].event_name, "ObjectCreated:Put");
    }

    #[test]
    fn the_test_event_has_no_records_and_other_events_are_errors() {
        let s3_test_event = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-24T10:00:00.000Z","Bucket":"qdn-uploads","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YYYjSwCSWjwk6tHDtQNQ"}"#;
        assert_eq!(parse(s3_test_event).unwrap(), vec![]);
        for other in [
            "",
            "[]",
            r#"{"Records": [{"s3": {}}]}"#,
            r#"{"Records": 1}"#,
        ] {
            assert!(parse(other).is_err(), "{other}");
        }
        // An unversioned bucket says "null" or nothing.
        let events = parse(&notification(&[("ObjectCreated:Post", "k", Some("null"))])).unwrap();
        assert_eq!(events[0].version_id, None);
    }
}
