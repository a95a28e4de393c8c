//! `verify-export`'s check: every file the manifest names against its size and SHA-256, the
//! manifest against `manifest.sha256`, and nothing in the archive the manifest does not name.

use std::io::{self, Read, Seek};

use crate::domain::content_hash::ContentHash;
use crate::evidence::manifest::{Manifest, CONTACT_SHEET, MANIFEST, MANIFEST_HASH};
use crate::evidence::zip;

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
pub fn verify<R: Read + Seek>(archive: &mut R) -> io::Result<Verification> {
    let entries = zip::list(archive)?;
    let read = |archive: &mut R, name: &str| -> io::Result<Option<Vec<u8>>> {
        match entries.iter().find(|e| e.name == name) {
            Some(entry) => Ok(Some(zip::read_entry(archive, entry)?)),
            None => Ok(None),
        }
    };
    let json = read(archive, MANIFEST)?.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "no manifest.json: not an export",
        )
    })?;
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
    let manifest: Manifest = serde_json::from_slice(&json).map_err(io::Error::from)?;
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
