//! Evidence export (issue 24 point 5), run as operators run it: `qdn-photos export` writes a job's
//! originals at their pinned versions with the manifest, contact sheet and manifest hash;
//! `qdn-photos verify-export` checks every file against the manifest and names what differs.

use std::io::Cursor;

use qdn_photos::dev::test_images::{camera_jpeg, padded_jpeg};
use qdn_photos::domain::content_hash::ContentHash;
use qdn_photos::ops::zip;
use serde_json::Value;

use crate::support::*;

async fn qdn(args: &[&str]) -> (Option<i32>, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_qdn-photos"))
        .args(args)
        .output()
        .await
        .expect("the binary runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

fn entry(archive: &[u8], name: &str) -> Vec<u8> {
    let mut cursor = Cursor::new(archive);
    let listed = zip::list(&mut cursor).unwrap();
    let found = listed
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name}"));
    zip::read_entry(&mut cursor, found).unwrap()
}

#[tokio::test]
async fn an_export_holds_the_originals_and_their_record_and_verify_export_names_what_was_changed() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let photos = [
        camera_jpeg(640, 480, 1, Some((47.3769, 8.5417)), 90),
        padded_jpeg(80, 3000),
        padded_jpeg(81, 3100),
    ];
    let mut keys = Vec::new();
    for photo in &photos {
        keys.push(upload_listed(&stack, &app, &pipeline, &job, photo.clone()).await);
    }
    let dir = std::env::temp_dir().join(format!("qdn-export-{job}"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{job}.zip"));
    let out_path = out.to_str().unwrap();

    let (code, stdout, stderr) = qdn(&["export", "--job", &job, "--out", out_path]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("3 photo(s)"), "{stdout}");
    assert!(!dir.join(format!("{job}.zip.partial")).exists());
    let archive = std::fs::read(&out).unwrap();

    // The manifest: each original, its version, hash, uploader and record; EXIF as claims.
    let manifest: Value = serde_json::from_slice(&entry(&archive, "manifest.json")).unwrap();
    assert_eq!(manifest["format"], "qdn-photos-export/1");
    assert_eq!(manifest["job_id"], job);
    let listed = manifest["photos"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    for (exported, (key, photo)) in listed.iter().zip(keys.iter().zip(&photos)) {
        assert_eq!(exported["key"], *key);
        assert_eq!(exported["sha256"], ContentHash::of(photo).hex());
        assert_eq!(exported["size"], photo.len());
        assert!(exported["audit_id"].as_str().is_some_and(|a| !a.is_empty()));
        assert!(exported["uploader"].as_str().is_some_and(|u| !u.is_empty()));
        let file = exported["file"].as_str().unwrap();
        assert_eq!(entry(&archive, file), *photo, "the original, byte for byte");
        assert!(exported["thumbnail"]["file"].as_str().is_some());
    }
    let claims = &listed[0]["device_claims"];
    assert!(
        (claims["latitude"].as_f64().unwrap() - 47.3769).abs() < 1e-4,
        "{claims}"
    );
    assert_eq!(manifest["retractions"], serde_json::json!([]));
    let hash_line = String::from_utf8(entry(&archive, "manifest.sha256")).unwrap();
    let manifest_sha256 = ContentHash::of(&entry(&archive, "manifest.json")).hex();
    assert_eq!(hash_line, format!("{manifest_sha256}  manifest.json\n"));
    assert!(stdout.contains(&manifest_sha256));
    let sheet = String::from_utf8(entry(&archive, "index.html")).unwrap();
    assert!(sheet.contains(&keys[1]) && sheet.contains("<img src=\"thumbs/"));

    // Another reader agrees it is a sound archive.
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let checked = tokio::process::Command::new(python)
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.namelist()))",
            out_path,
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&checked.stdout).trim(),
        "9",
        "{checked:?}"
    );

    let (code, stdout, _) = qdn(&["verify-export", out_path]).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("0 differ") && stdout.contains(&manifest_sha256),
        "{stdout}"
    );

    // One byte of the second photo changed: named, exit 1.
    let at = archive
        .windows(photos[1].len())
        .position(|w| w == photos[1])
        .unwrap()
        + 1000;
    let mut changed = archive.clone();
    changed[at] ^= 0x01;
    let tampered = dir.join("tampered.zip");
    std::fs::write(&tampered, &changed).unwrap();
    let (code, stdout, _) = qdn(&["verify-export", tampered.to_str().unwrap()]).await;
    assert_eq!(code, Some(1), "{stdout}");
    let file = listed[1]["file"].as_str().unwrap();
    assert!(
        stdout.contains(&format!("DIFFERS {file}: SHA-256")),
        "{stdout}"
    );
    assert_eq!(stdout.matches("DIFFERS").count(), 1, "{stdout}");

    // The manifest edited to vouch for other bytes: its own hash no longer matches.
    let hex = ContentHash::of(&photos[2]).hex();
    let mut edited = archive.clone();
    let at = edited
        .windows(hex.len())
        .position(|w| w == hex.as_bytes())
        .unwrap();
    edited[at] = if edited[at] == b'0' { b'1' } else { b'0' };
    let forged = dir.join("forged.zip");
    std::fs::write(&forged, &edited).unwrap();
    let (code, stdout, _) = qdn(&["verify-export", forged.to_str().unwrap()]).await;
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("DIFFERS manifest.json"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}
