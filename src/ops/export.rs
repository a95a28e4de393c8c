//! `qdn-photos export --job J --out J.zip` and `qdn-photos verify-export J.zip`: a job's photos
//! with their record, as something a customer, an insurer or a court can check without us.
//!
//! The archive holds each listed photo's original at its pinned version (`photos/`), its thumbnail
//! (`thumbs/`), `manifest.json` (per photo: key, version, size, SHA-256, uploader, when S3 stored
//! it, the audit row that verified it, and the EXIF time, place and camera as the device's
//! claims), `index.html` (a contact sheet) and `manifest.sha256` (`sha256sum -c` reads it). Every
//! original is checked against its recorded SHA-256 as it is written: an export never hands over
//! bytes the record does not vouch for. One photo is in memory at a time.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::content_hash::ContentHash;
use crate::domain::job::JobId;
use crate::ops::cli::CliError;
use crate::ops::zip::{self, ZipWriter};
use crate::store::index::PhotoIndex;
use crate::store::records::{PhotoRecord, RemovalKind, Tombstone};
use crate::store::storage::Storage;

pub const FORMAT: &str = "qdn-photos-export/1";
const MANIFEST: &str = "manifest.json";
const MANIFEST_HASH: &str = "manifest.sha256";
const CONTACT_SHEET: &str = "index.html";

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

/// What an export wrote.
#[derive(Debug)]
pub struct Exported {
    pub photos: usize,
    pub bytes: u64,
    pub manifest_sha256: String,
}

/// Writes the archive of `job` to `out` (through a temporary file beside it: no half archive is
/// ever left under the name asked for).
pub async fn export(
    index: &PhotoIndex,
    storage: &Storage,
    bucket: &str,
    job: &JobId,
    out: &Path,
    now: s3_presign::UtcTime,
) -> Result<Exported, CliError> {
    let partial = out.with_extension("zip.partial");
    let mut zip = ZipWriter::new(BufWriter::new(File::create(&partial)?));
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
    let json = serde_json::to_vec_pretty(&manifest)?;
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
    std::fs::rename(&partial, out)?;
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
) -> Result<ExportedPhoto, CliError> {
    let object = &photo.object;
    let key = object.key.as_str();
    let version = object.version_id.as_deref();
    let original = storage
        .read(key, version, None)
        .await?
        .ok_or_else(|| format!("{key}: the listed version is no longer in S3"))?;
    let sha256 = ContentHash::of(&original.bytes);
    // Photos verified before hashes were recorded have none to check against; the export's is
    // then the first.
    if object.sha256.is_some_and(|recorded| recorded != sha256) {
        return Err(format!(
            "{key}: S3 holds other bytes than the record's SHA-256; nothing exported"
        )
        .into());
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

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A contact sheet for people: each photo's thumbnail (linking the original), key, times,
/// uploader and hash. Everything in it is escaped; it runs no script.
pub fn contact_sheet(manifest: &Manifest) -> String {
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'\">\
         <title>Photos of job {job}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:2rem}}figure{{display:inline-block;width:260px;margin:0 1rem 1.5rem 0;vertical-align:top}}\
         img{{max-width:240px;max-height:240px}}code{{word-break:break-all;font-size:11px}}</style></head><body>\
         <h1>Photos of job {job}</h1><p>{n} photo(s), exported {at} from bucket {bucket}. \
         The originals and their SHA-256 are in <code>manifest.json</code>; capture time, place and camera are the device's claims.</p>\n",
        job = escape(&manifest.job_id),
        n = manifest.photos.len(),
        at = escape(&manifest.exported_at),
        bucket = escape(&manifest.bucket),
    );
    for p in &manifest.photos {
        let image = match &p.thumbnail {
            Some(t) => format!(
                "<img src=\"{}\" alt=\"{}\">",
                escape(&t.file),
                escape(&p.key)
            ),
            None => "(no thumbnail)".into(),
        };
        let claims = &p.device_claims;
        let place = match (claims.latitude, claims.longitude) {
            (Some(lat), Some(lon)) => format!("{lat:.5}, {lon:.5}"),
            _ => "—".into(),
        };
        html.push_str(&format!(
            "<figure><a href=\"{file}\">{image}</a><figcaption><code>{key}</code><br>\
             stored {stored} by {uploader}<br>taken (device) {taken}, at (device) {place}, \
             camera (device) {camera}<br>\
             SHA-256 <code>{sha}</code></figcaption></figure>\n",
            file = escape(&p.file),
            key = escape(&p.key),
            stored = escape(p.stored_at.as_deref().unwrap_or("—")),
            uploader = escape(p.uploader.as_deref().unwrap_or("(imported)")),
            taken = escape(claims.captured_at.as_deref().unwrap_or("—")),
            place = escape(&place),
            camera = escape(claims.camera_model.as_deref().unwrap_or("—")),
            sha = escape(&p.sha256),
        ));
    }
    html.push_str("</body></html>\n");
    html
}

/// What `verify-export` found.
#[derive(Debug, Default)]
pub struct Verification {
    pub manifest_sha256: String,
    pub checked: usize,
    /// `(file, why)` for each file that is not what the manifest says.
    pub differ: Vec<(String, String)>,
}

/// Checks every file the manifest names against its size and SHA-256, the manifest against
/// `manifest.sha256`, and that the archive holds nothing the manifest does not name.
pub fn verify<R: Read + Seek>(archive: &mut R) -> Result<Verification, CliError> {
    let entries = zip::list(archive)?;
    let read = |archive: &mut R, name: &str| -> Result<Option<Vec<u8>>, CliError> {
        match entries.iter().find(|e| e.name == name) {
            Some(entry) => Ok(Some(zip::read_entry(archive, entry)?)),
            None => Ok(None),
        }
    };
    let json = read(archive, MANIFEST)?.ok_or("no manifest.json: not an export")?;
    let mut found = Verification {
        manifest_sha256: ContentHash::of(&json).hex(),
        ..Verification::default()
    };
    let claimed = read(archive, MANIFEST_HASH)?.unwrap_or_default();
    let claimed = String::from_utf8_lossy(&claimed);
    if claimed.split_whitespace().next() != Some(found.manifest_sha256.as_str()) {
        found.differ.push((
            MANIFEST.into(),
            format!(
                "its SHA-256 is {}, manifest.sha256 says {}",
                found.manifest_sha256,
                claimed.trim()
            ),
        ));
    }
    let manifest: Manifest = serde_json::from_slice(&json)?;
    let mut named = vec![MANIFEST, MANIFEST_HASH, CONTACT_SHEET];
    let mut expected: Vec<(&str, &str, Option<u64>)> = Vec::new();
    for photo in &manifest.photos {
        expected.push((&photo.file, &photo.sha256, Some(photo.size)));
        if let Some(thumb) = &photo.thumbnail {
            expected.push((&thumb.file, &thumb.sha256, None));
        }
    }
    for (file, sha256, size) in expected {
        named.push(file);
        found.checked += 1;
        let Some(bytes) = read(archive, file)? else {
            found
                .differ
                .push((file.into(), "missing from the archive".into()));
            continue;
        };
        let actual = ContentHash::of(&bytes).hex();
        if size.is_some_and(|size| size != bytes.len() as u64) {
            found.differ.push((
                file.into(),
                format!(
                    "{} bytes, the manifest says {}",
                    bytes.len(),
                    size.unwrap_or(0)
                ),
            ));
        } else if actual != sha256 {
            found.differ.push((
                file.into(),
                format!("SHA-256 {actual}, the manifest says {sha256}"),
            ));
        }
    }
    for entry in &entries {
        if !named.contains(&entry.name.as_str()) {
            found
                .differ
                .push((entry.name.clone(), "not named by the manifest".into()));
        }
    }
    Ok(found)
}

/// `verify-export FILE`: prints each difference and the manifest's hash; exit 1 if any differ.
pub fn verify_file(path: &Path) -> Result<i32, CliError> {
    let mut archive = BufReader::new(File::open(path)?);
    let found = verify(&mut archive)?;
    for (file, why) in &found.differ {
        println!("DIFFERS {file}: {why}");
    }
    println!(
        "{}: {} file(s) checked, {} differ; manifest.json SHA-256 {} (compare it with the one handed over with the export)",
        path.display(),
        found.checked,
        found.differ.len(),
        found.manifest_sha256
    );
    Ok(i32::from(!found.differ.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contact_sheet_escapes_everything_it_shows() {
        let manifest = Manifest {
            format: FORMAT.into(),
            job_id: "j-1".into(),
            bucket: "b".into(),
            exported_at: "2026-12-02T15:00:00Z".into(),
            photos: vec![ExportedPhoto {
                file: "photos/a.jpg".into(),
                key: "jobs/j-1/a.jpg".into(),
                version_id: None,
                size: 1,
                sha256: "00".into(),
                content_type: "image/jpeg".into(),
                provenance: "granted".into(),
                uploader: Some("user:<script>alert(1)</script>".into()),
                stored_at: None,
                audit_id: "a".into(),
                thumbnail: None,
                device_claims: DeviceClaims {
                    captured_at: None,
                    latitude: None,
                    longitude: None,
                    camera_model: Some("\"><img src=x onerror=alert(1)>".into()),
                },
            }],
            retractions: vec![],
            erasures: vec![],
        };
        let html = contact_sheet(&manifest);
        assert!(!html.contains("<script>"));
        assert!(html.contains("user:&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<img src=x"));
        assert!(html.contains("&quot;&gt;&lt;img src=x"));
        assert!(html.contains("default-src 'none'"));
    }
}
