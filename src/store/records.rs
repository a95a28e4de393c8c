//! What the table and the bucket hold, as typed records, and their DynamoDB attribute maps.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use s3_presign::UtcTime;

use crate::domain::job::{JobId, UploadKey};

/// One object as S3 holds it now: what a completion pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: UploadKey,
    pub size: i64,
    pub etag: String,
    /// `None` where the bucket is not versioned.
    pub version_id: Option<String>,
    pub last_modified: Option<UtcTime>,
}

/// Key, size, ETag, version and time: what a completion pins of one object, as attributes (of
/// the audit row's `objects` list and of the photo row alike).
pub fn object_attributes(object: &StoredObject) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::with_capacity(6);
    item.insert(
        "key".into(),
        AttributeValue::S(object.key.as_str().to_owned()),
    );
    item.insert("size".into(), AttributeValue::N(object.size.to_string()));
    item.insert("etag".into(), AttributeValue::S(object.etag.clone()));
    if let Some(version) = &object.version_id {
        item.insert("version_id".into(), AttributeValue::S(version.clone()));
    }
    if let Some(t) = object.last_modified {
        item.insert(
            "last_modified".into(),
            AttributeValue::N(t.unix_secs.to_string()),
        );
    }
    item
}

/// One stored version, as S3's event and the object itself describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFacts {
    pub key: UploadKey,
    pub size: u64,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    /// Orders S3's events for one key.
    pub sequencer: Option<String>,
    /// As S3 stored it (the signed one).
    pub content_type: String,
}

impl ObjectFacts {
    pub fn attributes(&self) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::with_capacity(6);
        item.insert(
            "key".into(),
            AttributeValue::S(self.key.as_str().to_owned()),
        );
        item.insert("size".into(), AttributeValue::N(self.size.to_string()));
        item.insert(
            "content_type".into(),
            AttributeValue::S(self.content_type.clone()),
        );
        for (name, value) in [
            ("etag", &self.etag),
            ("version_id", &self.version_id),
            ("sequencer", &self.sequencer),
        ] {
            if let Some(v) = value {
                item.insert(name.to_owned(), AttributeValue::S(v.clone()));
            }
        }
        item
    }
}

/// What became of a stored version's thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbnailStatus {
    Created,
    /// A type no decoder here reads (HEIC, AVIF): the strip shows a placeholder.
    Unsupported,
    /// Declared larger than the pixel budget; refused before decoding.
    TooLarge,
    Undecodable,
}

impl ThumbnailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ThumbnailStatus::Created => "created",
            ThumbnailStatus::Unsupported => "unsupported",
            ThumbnailStatus::TooLarge => "too_large",
            ThumbnailStatus::Undecodable => "undecodable",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ThumbnailStatus::Created,
            ThumbnailStatus::Unsupported,
            ThumbnailStatus::TooLarge,
            ThumbnailStatus::Undecodable,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// What the pipeline found in one stored object, as its record keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRecord {
    /// `false`: the bytes were not the declared type; the object was removed.
    pub accepted: bool,
    pub thumbnail: Option<ThumbnailStatus>,
    pub thumbnail_key: Option<String>,
    pub captured_at: Option<String>,
    pub location: Option<(f64, f64)>,
    pub camera_model: Option<String>,
}

impl ObjectRecord {
    /// No record yet: the pipeline has not (or not yet) seen this version.
    pub fn unprocessed() -> Self {
        ObjectRecord {
            accepted: true,
            thumbnail: None,
            thumbnail_key: None,
            captured_at: None,
            location: None,
            camera_model: None,
        }
    }

    pub fn attributes(&self) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::with_capacity(8);
        item.insert("accepted".into(), AttributeValue::Bool(self.accepted));
        let mut text = |name: &str, value: &Option<String>| {
            if let Some(v) = value {
                item.insert(name.to_owned(), AttributeValue::S(v.clone()));
            }
        };
        text("thumbnail", &self.thumbnail.map(|t| t.as_str().to_owned()));
        text("thumbnail_key", &self.thumbnail_key);
        text("captured_at", &self.captured_at);
        text("camera_model", &self.camera_model);
        if let Some((lat, lon)) = self.location {
            item.insert("latitude".into(), AttributeValue::N(format!("{lat:.7}")));
            item.insert("longitude".into(), AttributeValue::N(format!("{lon:.7}")));
        }
        item
    }

    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Self {
        let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let f = |name: &str| item.get(name)?.as_n().ok()?.parse::<f64>().ok();
        ObjectRecord {
            accepted: item
                .get("accepted")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(true),
            thumbnail: s("thumbnail").as_deref().and_then(ThumbnailStatus::parse),
            thumbnail_key: s("thumbnail_key"),
            captured_at: s("captured_at"),
            location: f("latitude").zip(f("longitude")),
            camera_model: s("camera_model"),
        }
    }
}

/// A completed upload, as recorded: the object as it was pinned, and the completion's audit id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRecord {
    pub audit_id: String,
    pub object: StoredObject,
}

impl PhotoRecord {
    pub fn from_item(job: &JobId, item: &HashMap<String, AttributeValue>) -> Option<PhotoRecord> {
        let s = |name: &str| item.get(name)?.as_s().ok().cloned();
        let n = |name: &str| item.get(name)?.as_n().ok()?.parse::<i64>().ok();
        Some(PhotoRecord {
            audit_id: s("audit_id")?,
            object: StoredObject {
                key: UploadKey::parse(job, &s("key")?)?,
                size: n("size")?,
                etag: s("etag")?,
                version_id: s("version_id"),
                last_modified: n("last_modified")
                    .and_then(|t| u64::try_from(t).ok())
                    .map(UtcTime::from_unix_secs),
            },
        })
    }
}

/// What the record holds for one key of a completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadState {
    /// Whom the key was issued to; `None` when the server never issued it (or its row expired).
    pub issued_to: Option<String>,
    pub completed: Option<PhotoRecord>,
}
