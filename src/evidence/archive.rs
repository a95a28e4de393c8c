//! Writes a job's archive: every listed original at its pinned version, checked against its
//! recorded SHA-256 as it is written (an export never hands over bytes the record does not vouch
//! for), its thumbnail, the manifest, its hash and the contact sheet. One photo is in memory at a
//! time.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::domain::content_hash::ContentHash;
use crate::domain::job::JobId;
use crate::evidence::contact_sheet::contact_sheet;
use crate::evidence::manifest::{
    DeviceClaims, ExportedFile, ExportedPhoto, Manifest, CONTACT_SHEET, FORMAT, MANIFEST,
    MANIFEST_HASH,
};
use crate::evidence::zip::ZipWriter;
use crate::store::error::StoreError;
use crate::store::index::PhotoIndex;
use crate::store::records::{PhotoRecord, RemovalKind};
use crate::store::storage::Storage;

/// Why no archive was written.
#[derive(Debug)]
pub enum ArchiveError {
    /// DynamoDB or S3 did not answer: trying again may get past it.
    Store(StoreError),
    /// The archive file could not be written (a full disk).
    Disk(io::Error),
    /// S3 does not hold what the record vouches for: no retry mends that.
    Unvouched(String),
}

impl std::fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchiveError::Store(err) => err.fmt(f),
            ArchiveError::Disk(err) => write!(f, "the archive could not be written: {err}"),
            ArchiveError::Unvouched(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ArchiveError {}

impl From<StoreError> for ArchiveError {
    fn from(err: StoreError) -> Self {
        ArchiveError::Store(err)
    }
}

impl From<io::Error> for ArchiveError {
    fn from(err: io::Error) -> Self {
        ArchiveError::Disk(err)
    }
}

/// What an export wrote.
#[derive(Debug)]
pub struct Exported {
    pub photos: usize,
    pub bytes: u64,
    pub manifest_sha256: String,
}

/// Writes the archive of `job` to `out`, through a temporary file beside it: no half archive is
/// ever left under the name asked for, nor the temporary file once it failed.
pub async fn write(
    index: &PhotoIndex,
    storage: &Storage,
    bucket: &str,
    job: &JobId,
    out: &Path,
    now: s3_presign::UtcTime,
) -> Result<Exported, ArchiveError> {
    let partial = out.with_extension("zip.partial");
    let written = write_through(index, storage, bucket, job, (&partial, out), now).await;
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

async fn write_through(
    index: &PhotoIndex,
    storage: &Storage,
    bucket: &str,
    job: &JobId,
    (partial, out): (&Path, &Path),
    now: s3_presign::UtcTime,
) -> Result<Exported, ArchiveError> {
    let mut zip = ZipWriter::new(BufWriter::new(File::create(partial)?));
    let mut manifest = Manifest {
        format: FORMAT.into(),
        job_id: job.to_string(),
        bucket: bucket.into(),
        exported_at: now.rfc3339(),
        photos: Vec::new(),
        retractions: Vec::new(),
        erasures: Vec::new(),
    };
    let mut bytes = 0u64;
    let mut after: Option<String> = None;
    loop {
        let page = index.photo_page(job, 100, after.as_deref(), false).await?;
        for photo in &page.photos {
            let exported = write_photo(&mut zip, storage, photo).await?;
            bytes += exported.size;
            eprintln!("export: {} ({} bytes)", exported.key, exported.size);
            manifest.photos.push(exported);
        }
        for tombstone in page.removed {
            match tombstone.kind {
                RemovalKind::Retracted => manifest.retractions.push(tombstone.into()),
                RemovalKind::Erased => manifest.erasures.push(tombstone.into()),
            }
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let json = serde_json::to_vec_pretty(&manifest).map_err(io::Error::from)?;
    let manifest_sha256 = ContentHash::of(&json).hex();
    zip.add(MANIFEST, &json)?;
    zip.add(
        MANIFEST_HASH,
        format!("{manifest_sha256}  {MANIFEST}\n").as_bytes(),
    )?;
    zip.add(CONTACT_SHEET, contact_sheet(&manifest).as_bytes())?;
    zip.finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    std::fs::rename(partial, out)?;
    Ok(Exported {
        photos: manifest.photos.len(),
        bytes,
        manifest_sha256,
    })
}

async fn write_photo<W: Write>(
    zip: &mut ZipWriter<W>,
    storage: &Storage,
    photo: &PhotoRecord,
) -> Result<ExportedPhoto, ArchiveError> {
    let object = &photo.object;
    let key = object.key.as_str();
    let version = object.version_id.as_deref();
    let original = storage.read(key, version, None).await?.ok_or_else(|| {
        ArchiveError::Unvouched(format!("{key}: the listed version is no longer in S3"))
    })?;
    let sha256 = ContentHash::of(&original.bytes);
    // Photos verified before hashes were recorded have none to check against; the export's is
    // then the first.
    if object.sha256.is_some_and(|recorded| recorded != sha256) {
        return Err(ArchiveError::Unvouched(format!(
            "{key}: S3 holds other bytes than the record's SHA-256; nothing exported"
        )));
    }
    let file = format!("photos/{}", object.key.file_name());
    zip.add(&file, &original.bytes)?;
    let thumbnail = match &photo.record.thumbnail_key {
        Some(thumb_key) => match storage.read(thumb_key, None, None).await? {
            Some(thumb) => {
                let file = format!("thumbs/{}.jpg", object.key.file_name());
                zip.add(&file, &thumb.bytes)?;
                Some(ExportedFile {
                    file,
                    sha256: ContentHash::of(&thumb.bytes).hex(),
                })
            }
            None => None,
        },
        None => None,
    };
    let record = &photo.record;
    Ok(ExportedPhoto {
        file,
        key: key.to_owned(),
        version_id: object.version_id.clone(),
        size: original.bytes.len() as u64,
        sha256: sha256.hex(),
        content_type: object.content_type.clone(),
        provenance: object.key.provenance().into(),
        uploader: photo.uploader.clone(),
        stored_at: object.last_modified.map(|t| t.rfc3339()),
        audit_id: photo.audit_id.clone(),
        thumbnail,
        device_claims: DeviceClaims {
            captured_at: record.captured_at.clone(),
            latitude: record.location.map(|l| l.0),
            longitude: record.location.map(|l| l.1),
            camera_model: record.camera_model.clone(),
        },
    })
}
