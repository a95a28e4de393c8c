//! The evidence archive: a job's photos with their record, as something a customer, an insurer or
//! a court can check without us. Written by the operators' `export` command and by the export
//! role alike, and checked by `verify-export`.
//!
//! The archive holds each listed photo's original at its pinned version (`photos/`), its thumbnail
//! (`thumbs/`), `manifest.json` (per photo: key, version, size, SHA-256, uploader, when S3 stored
//! it, the audit row that verified it, and the EXIF time, place and camera as the device's
//! claims), `index.html` (a contact sheet) and `manifest.sha256` (`sha256sum -c` reads it).

pub mod archive;
pub mod contact_sheet;
pub mod manifest;
pub mod verify;
pub mod zip;
