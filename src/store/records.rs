//! What the table and the bucket hold, as typed records, and their DynamoDB attribute maps.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use s3_presign::UtcTime;

use crate::domain::content_hash::ContentHash;
use crate::domain::image_type::ImageType;
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
    /// Orders the versions of one key: S3's event sequencer, as [`sequencer_order`] pads it.
    pub sequencer: String,
    /// As S3 stored it (the signed one).
    pub content_type: String,
    /// When S3 stored it.
    pub last_modified: Option<UtcTime>,
    /// The SHA-256 of the stored bytes, as the pipeline read them; `None` where it refused the
    /// version before reading it whole (no grant, wrong type, unsigned headers, wrong magic).
    pub sha256: Option<ContentHash>,
}

/// S3's sequencer (hex, of varying length) padded so that comparing the strings compares the
/// events: "the longer one is later" becomes plain string order, which a DynamoDB condition can
/// test.
pub fn sequencer_order(sequencer: &str) -> String {
    format!("{:0>32}", sequencer.to_ascii_uppercase())
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
        item.insert(
            "sequencer".into(),
            AttributeValue::S(self.sequencer.clone()),
        );
        for (name, value) in [("etag", &self.etag), ("version_id", &self.version_id)] {
            if let Some(v) = value {
                item.insert(name.to_owned(), AttributeValue::S(v.clone()));
            }
        }
        if let Some(t) = self.last_modified {
            item.insert(
                "last_modified".into(),
                AttributeValue::N(t.unix_secs.to_string()),
            );
        }
        if let Some(hash) = self.sha256 {
            item.insert("sha256".into(), AttributeValue::S(hash.hex()));
        }
        item
    }

    fn from_item(job: &JobId, item: &HashMap<String, AttributeValue>) -> Option<ObjectFacts> {
        let s = |name: &str| item.get(name)?.as_s().ok().cloned();
        Some(ObjectFacts {
            key: UploadKey::parse_stored(job, &s("key")?)?,
            size: number(item, "size")?,
            etag: s("etag"),
            version_id: s("version_id"),
            sequencer: s("sequencer")?,
            content_type: s("content_type")?,
            last_modified: number(item, "last_modified").map(UtcTime::from_unix_secs),
            sha256: match s("sha256") {
                Some(hex) => Some(ContentHash::parse(&hex)?),
                None => None,
            },
        })
    }
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

/// What became of a verified version's thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbnailStatus {
    Created,
    /// A type no decoder here reads (HEIC, AVIF): the strip shows a placeholder.
    Unsupported,
}

impl ThumbnailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ThumbnailStatus::Created => "created",
            ThumbnailStatus::Unsupported => "unsupported",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [ThumbnailStatus::Created, ThumbnailStatus::Unsupported]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// Why the pipeline refused a stored version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No grant of this service names the key (and it was not imported).
    NotGranted,
    /// Larger than the grant allowed.
    OverGrantedSize,
    /// Stored with another content type than the key's.
    WrongContentType,
    /// Stored with headers the grant did not sign (a presigned PUT accepts any unsigned header):
    /// its metadata would be the client's choice.
    UnsignedHeaders,
    /// The bytes are not the declared type.
    NotDeclaredType,
    /// Declares more pixels than the budget.
    DimensionsOverBudget,
    /// The declared type, but not decodable as it.
    Undecodable,
    /// Not the bytes whose SHA-256 the grant bound (where storage did not refuse them itself).
    ContentMismatch,
}

impl Rejection {
    pub const ALL: [Rejection; 8] = [
        Rejection::NotGranted,
        Rejection::OverGrantedSize,
        Rejection::WrongContentType,
        Rejection::UnsignedHeaders,
        Rejection::NotDeclaredType,
        Rejection::DimensionsOverBudget,
        Rejection::Undecodable,
        Rejection::ContentMismatch,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rejection::NotGranted => "not_granted",
            Rejection::OverGrantedSize => "over_granted_size",
            Rejection::WrongContentType => "wrong_content_type",
            Rejection::UnsignedHeaders => "unsigned_headers",
            Rejection::NotDeclaredType => "not_declared_type",
            Rejection::DimensionsOverBudget => "dimensions_over_budget",
            Rejection::Undecodable => "undecodable",
            Rejection::ContentMismatch => "content_mismatch",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Rejection::ALL.into_iter().find(|r| r.code() == code)
    }

    /// For the person who uploaded it: what was wrong, in words.
    pub fn message(self, declared: ImageType) -> String {
        let kind = declared.ext().to_ascii_uppercase();
        match self {
            Rejection::NotGranted => "This upload was not granted by the service.".into(),
            Rejection::OverGrantedSize => "The file is larger than its upload allowed.".into(),
            Rejection::WrongContentType => format!("The file was not sent as a {kind}."),
            Rejection::UnsignedHeaders => {
                "The file was sent with headers its upload did not allow.".into()
            }
            Rejection::NotDeclaredType => format!("The file is not a {kind}."),
            Rejection::DimensionsOverBudget => "The image has too many pixels.".into(),
            Rejection::Undecodable => format!("The file is a damaged {kind}."),
            Rejection::ContentMismatch => {
                "The stored bytes are not the photo its upload was granted for.".into()
            }
        }
    }
}

/// What the pipeline decided about one stored version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Verified(ThumbnailStatus),
    /// Never listed; a granted upload's bytes are removed, an imported object's are left alone.
    Rejected(Rejection),
    /// A later version of a key whose earlier version is the photo: never listed, bytes removed.
    Superseded,
    /// The same bytes (SHA-256) as a photo the job already lists: recorded (who, when, which
    /// photo), kept, never listed a second time.
    Duplicate,
}

/// What the pipeline found in one stored version, as its record keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRecord {
    pub verdict: Verdict,
    pub thumbnail_key: Option<String>,
    pub captured_at: Option<String>,
    pub location: Option<(f64, f64)>,
    pub camera_model: Option<String>,
    /// For a duplicate: the listed photo's key it repeats.
    pub duplicate_of: Option<String>,
}

impl ObjectRecord {
    /// A record with nothing but its verdict.
    pub fn of(verdict: Verdict) -> Self {
        ObjectRecord {
            verdict,
            thumbnail_key: None,
            captured_at: None,
            location: None,
            camera_model: None,
            duplicate_of: None,
        }
    }

    pub fn attributes(&self) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::with_capacity(8);
        let (state, detail) = match self.verdict {
            Verdict::Verified(thumbnail) => ("verified", ("thumbnail", thumbnail.as_str())),
            Verdict::Rejected(why) => ("rejected", ("reason", why.code())),
            Verdict::Superseded => ("superseded", ("reason", "superseded")),
            Verdict::Duplicate => ("duplicate", ("reason", "duplicate")),
        };
        item.insert("state".into(), AttributeValue::S(state.into()));
        item.insert(detail.0.into(), AttributeValue::S(detail.1.into()));
        let mut text = |name: &str, value: &Option<String>| {
            if let Some(v) = value {
                item.insert(name.to_owned(), AttributeValue::S(v.clone()));
            }
        };
        text("thumbnail_key", &self.thumbnail_key);
        text("captured_at", &self.captured_at);
        text("camera_model", &self.camera_model);
        text("duplicate_of", &self.duplicate_of);
        if let Some((lat, lon)) = self.location {
            item.insert("latitude".into(), AttributeValue::N(format!("{lat:.7}")));
            item.insert("longitude".into(), AttributeValue::N(format!("{lon:.7}")));
        }
        item
    }

    /// `None` for a row that does not parse: such a row lists nothing and counts as no record.
    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let f = |name: &str| item.get(name)?.as_n().ok()?.parse::<f64>().ok();
        let verdict = match s("state")?.as_str() {
            "verified" => Verdict::Verified(ThumbnailStatus::parse(&s("thumbnail")?)?),
            "rejected" => Verdict::Rejected(Rejection::parse(&s("reason")?)?),
            "superseded" => Verdict::Superseded,
            "duplicate" => Verdict::Duplicate,
            _ => return None,
        };
        Some(ObjectRecord {
            verdict,
            thumbnail_key: s("thumbnail_key"),
            captured_at: s("captured_at"),
            location: f("latitude").zip(f("longitude")),
            camera_model: s("camera_model"),
            duplicate_of: s("duplicate_of"),
        })
    }
}

/// A checked version's facts, verdict, uploader and provenance: the same attributes in its audit
/// row, its `OBJECT#` row and (once listed) its `PHOTO#` row.
pub fn checked_attributes(
    object: &ObjectFacts,
    record: &ObjectRecord,
    uploader: Option<&str>,
) -> HashMap<String, AttributeValue> {
    let mut item = object.attributes();
    item.extend(record.attributes());
    item.insert(
        "provenance".into(),
        AttributeValue::S(object.key.provenance().into()),
    );
    if let Some(uploader) = uploader {
        item.insert("uploader".into(), AttributeValue::S(uploader.to_owned()));
    }
    item
}

/// A listed photo: the earliest verified version of a key, with what the pipeline found in it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoRecord {
    /// The pipeline's audit row that verified it.
    pub audit_id: String,
    pub object: ObjectFacts,
    pub record: ObjectRecord,
    /// Whom the key was granted to; `None` for an imported photo.
    pub uploader: Option<String>,
}

impl PhotoRecord {
    pub fn listing_name(&self) -> String {
        let stored_ms = self.object.last_modified.map_or(0, |t| t.unix_secs * 1000);
        self.object.key.listing_name(stored_ms)
    }

    /// Its `PHOTO#` row's attributes: those of its `OBJECT#` row, and the audit id.
    pub fn attributes(&self) -> HashMap<String, AttributeValue> {
        let mut item = checked_attributes(&self.object, &self.record, self.uploader.as_deref());
        item.insert("audit_id".into(), AttributeValue::S(self.audit_id.clone()));
        item
    }

    /// `None` for anything but a verified photo's row: the listing fails closed.
    pub fn from_item(job: &JobId, item: &HashMap<String, AttributeValue>) -> Option<PhotoRecord> {
        let record = ObjectRecord::from_item(item)?;
        if !matches!(record.verdict, Verdict::Verified(_)) {
            return None;
        }
        Some(PhotoRecord {
            audit_id: item.get("audit_id")?.as_s().ok()?.clone(),
            object: ObjectFacts::from_item(job, item)?,
            record,
            uploader: item.get("uploader").and_then(|v| v.as_s().ok()).cloned(),
        })
    }
}

/// How a listed photo left the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalKind {
    /// By its uploader, within the retraction window: a photo taken by mistake.
    Retracted,
    /// By a job's admin, at any time, with a reason (an erasure request).
    Erased,
}

impl RemovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RemovalKind::Retracted => "retracted",
            RemovalKind::Erased => "erased",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [RemovalKind::Retracted, RemovalKind::Erased]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// What stays of a removed photo in its `PHOTO#` row: who removed it, when, why, and the hash of
/// what was removed. The bytes are gone; this row is what a later export and audit can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub kind: RemovalKind,
    pub key: UploadKey,
    pub version_id: Option<String>,
    pub sha256: Option<ContentHash>,
    pub uploader: Option<String>,
    pub removed_by: String,
    /// RFC 3339, milliseconds.
    pub removed_at: String,
    pub reason: Option<String>,
    /// The removal's audit row.
    pub audit_id: String,
    /// The pipeline's audit row that had verified the photo.
    pub verified_audit_id: String,
    /// Other keys of the job that held the same bytes (recorded duplicates), removed with it.
    pub duplicates: Vec<String>,
}

impl Tombstone {
    pub const STATE: &'static str = "removed";

    /// `None` for anything but a tombstone row (written with `principal`, `at` and `audit_id`).
    pub fn from_item(job: &JobId, item: &HashMap<String, AttributeValue>) -> Option<Tombstone> {
        let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        if s("state")? != Tombstone::STATE {
            return None;
        }
        Some(Tombstone {
            kind: RemovalKind::parse(&s("removal")?)?,
            key: UploadKey::parse_stored(job, &s("key")?)?,
            version_id: s("version_id"),
            sha256: match s("sha256") {
                Some(hex) => Some(ContentHash::parse(&hex)?),
                None => None,
            },
            uploader: s("uploader"),
            removed_by: s("principal")?,
            removed_at: s("at")?,
            reason: s("reason"),
            audit_id: s("audit_id")?,
            verified_audit_id: s("verified_audit_id")?,
            duplicates: item
                .get("duplicates")
                .and_then(|v| v.as_l().ok())
                .map(|keys| keys.iter().filter_map(|k| k.as_s().ok().cloned()).collect())
                .unwrap_or_default(),
        })
    }
}

/// What the removal's audit row and the tombstone say of the removed photo: which version, its
/// hash, whose it was, how and why it went, and which duplicates went with it.
pub fn removal_attributes(
    photo: &PhotoRecord,
    kind: RemovalKind,
    reason: Option<&str>,
    duplicates: &[String],
) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let object = &photo.object;
    let mut item = HashMap::with_capacity(12);
    item.insert("removal".into(), s(kind.as_str()));
    item.insert("key".into(), s(object.key.as_str()));
    item.insert("size".into(), AttributeValue::N(object.size.to_string()));
    item.insert("verified_audit_id".into(), s(&photo.audit_id));
    let optional = [
        ("version_id", object.version_id.clone()),
        ("sha256", object.sha256.map(|h| h.hex())),
        ("uploader", photo.uploader.clone()),
        ("reason", reason.map(str::to_owned)),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            item.insert(name.into(), AttributeValue::S(v));
        }
    }
    if !duplicates.is_empty() {
        item.insert(
            "duplicates".into(),
            AttributeValue::L(duplicates.iter().map(|k| s(k)).collect()),
        );
    }
    item
}

/// Where an evidence export asked for through the API stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportState {
    /// Queued for the export function.
    Requested,
    /// Built: the archive in the bucket, and the hash of its manifest.
    Ready {
        archive_key: String,
        size: u64,
        photos: u64,
        manifest_sha256: String,
    },
    /// Refused for good (S3 holding other bytes than the record's): why.
    Failed { reason: String },
    /// Taken back, archive and all, because a photo it holds (or would hold) was removed: which.
    Withdrawn { reason: String },
}

impl ExportState {
    pub fn name(&self) -> &'static str {
        match self {
            ExportState::Requested => "requested",
            ExportState::Ready { .. } => "ready",
            ExportState::Failed { .. } => "failed",
            ExportState::Withdrawn { .. } => "withdrawn",
        }
    }

    pub fn attributes(&self) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::with_capacity(5);
        item.insert("state".into(), AttributeValue::S(self.name().into()));
        match self {
            ExportState::Requested => {}
            ExportState::Ready {
                archive_key,
                size,
                photos,
                manifest_sha256,
            } => {
                item.insert("archive_key".into(), AttributeValue::S(archive_key.clone()));
                item.insert("size".into(), AttributeValue::N(size.to_string()));
                item.insert("photos".into(), AttributeValue::N(photos.to_string()));
                item.insert(
                    "manifest_sha256".into(),
                    AttributeValue::S(manifest_sha256.clone()),
                );
            }
            ExportState::Failed { reason } | ExportState::Withdrawn { reason } => {
                item.insert("reason".into(), AttributeValue::S(reason.clone()));
            }
        }
        item
    }
}

/// An `EXPORT#` row: which export, who asked and when, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRecord {
    pub export_id: String,
    pub requested_by: String,
    /// RFC 3339, milliseconds.
    pub requested_at: String,
    pub state: ExportState,
}

impl ExportRecord {
    /// `None` for a row that does not parse.
    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let state = match s("state")?.as_str() {
            "requested" => ExportState::Requested,
            "ready" => ExportState::Ready {
                archive_key: s("archive_key")?,
                size: number(item, "size")?,
                photos: number(item, "photos")?,
                manifest_sha256: s("manifest_sha256")?,
            },
            "failed" => ExportState::Failed {
                reason: s("reason")?,
            },
            "withdrawn" => ExportState::Withdrawn {
                reason: s("reason")?,
            },
            _ => return None,
        };
        Some(ExportRecord {
            export_id: s("export_id")?,
            requested_by: s("requested_by")?,
            requested_at: s("requested_at")?,
            state,
        })
    }
}

/// A reported completion, as recorded: the object as it was pinned, and the completion's audit id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionRecord {
    pub audit_id: String,
    pub object: StoredObject,
}

impl CompletionRecord {
    pub fn from_item(job: &JobId, item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let s = |name: &str| item.get(name)?.as_s().ok().cloned();
        let n = |name: &str| item.get(name)?.as_n().ok()?.parse::<i64>().ok();
        Some(CompletionRecord {
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
    pub completed: Option<CompletionRecord>,
}

/// A grant, as the pipeline checks a stored version against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub principal: String,
    /// `None` on grants recorded before the limit was kept with them (S3 enforced it anyway).
    pub max_bytes: Option<u64>,
    /// The body's SHA-256, where the grant bound one.
    pub sha256: Option<ContentHash>,
}

impl GrantRecord {
    /// `None` for a row that does not parse (a hash that is not one included).
    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        Some(GrantRecord {
            principal: item.get("principal")?.as_s().ok()?.clone(),
            max_bytes: number(item, "max_bytes"),
            sha256: match item.get("sha256") {
                Some(hex) => Some(ContentHash::parse(hex.as_s().ok()?)?),
                None => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequencers_of_different_lengths_compare_as_s3_orders_them() {
        assert!(sequencer_order("0055AED6DCD90281E5") > sequencer_order("0055AED6DCD90281E4"));
        assert!(
            sequencer_order("10") > sequencer_order("F"),
            "longer is later"
        );
        assert_eq!(sequencer_order("ab"), sequencer_order("AB"));
    }

    #[test]
    fn every_verdict_reads_back_and_a_row_that_does_not_parse_is_no_record() {
        let verdicts = [
            Verdict::Verified(ThumbnailStatus::Created),
            Verdict::Verified(ThumbnailStatus::Unsupported),
            Verdict::Superseded,
            Verdict::Duplicate,
        ]
        .into_iter()
        .chain(Rejection::ALL.map(Verdict::Rejected));
        for verdict in verdicts {
            let record = ObjectRecord {
                location: Some((-33.8568, 151.2153)),
                duplicate_of: (verdict == Verdict::Duplicate).then(|| "jobs/j-1/a.jpg".into()),
                ..ObjectRecord::of(verdict)
            };
            assert_eq!(ObjectRecord::from_item(&record.attributes()), Some(record));
        }
        let mut item = ObjectRecord::of(Verdict::Superseded).attributes();
        item.insert("state".into(), AttributeValue::S("listed".into()));
        assert_eq!(ObjectRecord::from_item(&item), None);
        item.remove("state");
        assert_eq!(ObjectRecord::from_item(&item), None);
    }

    #[test]
    fn only_a_verified_row_is_a_listed_photo() {
        let job = JobId::parse("j-1").unwrap();
        let key = UploadKey::generate(&job, ImageType::by_mime("image/jpeg").unwrap());
        let photo = PhotoRecord {
            audit_id: "a-1".into(),
            object: ObjectFacts {
                key,
                size: 10,
                etag: Some("\"e\"".into()),
                version_id: Some("v1".into()),
                sequencer: sequencer_order("0A"),
                content_type: "image/jpeg".into(),
                last_modified: Some(UtcTime::from_unix_secs(1_795_432_000)),
                sha256: Some(ContentHash::of(b"photo")),
            },
            record: ObjectRecord::of(Verdict::Verified(ThumbnailStatus::Created)),
            uploader: Some("token:alice".into()),
        };
        let item = photo.attributes();
        assert_eq!(item["provenance"].as_s().unwrap(), "granted");
        assert_eq!(PhotoRecord::from_item(&job, &item), Some(photo.clone()));
        // A hash that is not one makes no photo: the listing fails closed.
        let mut bad_hash = item.clone();
        bad_hash.insert("sha256".into(), AttributeValue::S("not-a-hash".into()));
        assert_eq!(PhotoRecord::from_item(&job, &bad_hash), None);
        for verdict in [
            Verdict::Superseded,
            Verdict::Rejected(Rejection::Undecodable),
        ] {
            let mut item = item.clone();
            item.extend(ObjectRecord::of(verdict).attributes());
            assert_eq!(PhotoRecord::from_item(&job, &item), None, "{verdict:?}");
        }
    }
}
