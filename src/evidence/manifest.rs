//! `manifest.json`: what the archive holds and the record of each photo, and the archive's other
//! fixed names.

use serde::{Deserialize, Serialize};

use crate::store::records::Tombstone;

pub const FORMAT: &str = "qdn-photos-export/1";
pub const MANIFEST: &str = "manifest.json";
pub const MANIFEST_HASH: &str = "manifest.sha256";
pub const CONTACT_SHEET: &str = "index.html";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub job_id: String,
    pub bucket: String,
    pub exported_at: String,
    pub photos: Vec<ExportedPhoto>,
    /// Photos retracted by their uploader: what was removed (its hash), by whom, when.
    pub retractions: Vec<ExportedRemoval>,
    /// Photos erased by a job's admin, with the reason given.
    pub erasures: Vec<ExportedRemoval>,
}

/// A tombstone, as the manifest tells it: the bytes are gone, the record of them is not.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ExportedRemoval {
    pub key: String,
    pub version_id: Option<String>,
    /// The SHA-256 of what was removed: whoever kept a copy can show it was this photo.
    pub sha256: Option<String>,
    pub uploader: Option<String>,
    pub removed_by: String,
    pub removed_at: String,
    pub reason: Option<String>,
    /// The removal's audit row, and the pipeline's row that had verified the photo.
    pub audit_id: String,
    pub verified_audit_id: String,
    /// Other keys of the job that held the same bytes, removed with it.
    pub duplicates: Vec<String>,
}

impl From<Tombstone> for ExportedRemoval {
    fn from(t: Tombstone) -> Self {
        ExportedRemoval {
            key: t.key.to_string(),
            version_id: t.version_id,
            sha256: t.sha256.map(|h| h.hex()),
            uploader: t.uploader,
            removed_by: t.removed_by,
            removed_at: t.removed_at,
            reason: t.reason,
            audit_id: t.audit_id,
            verified_audit_id: t.verified_audit_id,
            duplicates: t.duplicates,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ExportedPhoto {
    /// Its path in the archive.
    pub file: String,
    pub key: String,
    pub version_id: Option<String>,
    pub size: u64,
    pub sha256: String,
    pub content_type: String,
    /// `granted` (uploaded through this service) or `imported` (stored before it).
    pub provenance: String,
    pub uploader: Option<String>,
    /// When S3 stored it (RFC 3339).
    pub stored_at: Option<String>,
    /// The pipeline's audit row that verified it.
    pub audit_id: String,
    pub thumbnail: Option<ExportedFile>,
    /// From the photo's EXIF: what the device said, not a fact anyone checked.
    pub device_claims: DeviceClaims,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ExportedFile {
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct DeviceClaims {
    pub captured_at: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub camera_model: Option<String>,
}
