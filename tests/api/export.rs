//! Evidence export (issue 24 point 5), run as operators run it: `qdn-photos export` writes a job's
//! originals at their pinned versions with the manifest, contact sheet and manifest hash;
//! `qdn-photos verify-export` checks every file against the manifest and names what differs.

use std::io::Cursor;

use qdn_photos::dev::test_images::{camera_jpeg, padded_jpeg};
use qdn_photos::domain::content_hash::ContentHash;
use qdn_photos::evidence::zip;
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

/// S3 holding other bytes than a photo's record vouches for (here: overwritten in place, as on a
/// store that keeps no versions) exports nothing: the command fails naming the photo and leaves no
/// file behind; through the API the export settles `failed` with that reason, and no archive.
#[tokio::test]
async fn bytes_the_record_does_not_vouch_for_are_never_exported() {
    let stack = Stack::get();
    let queue = stack.own_export_queue().await;
    let app = stack.app(&[("EXPORT_QUEUE_URL", &queue)]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    upload_listed(&stack, &app, &pipeline, &job, padded_jpeg(88, 2000)).await;
    let swapped = upload_listed(&stack, &app, &pipeline, &job, padded_jpeg(89, 2100)).await;
    stack
        .s3()
        .put_object()
        .bucket(&stack.bucket)
        .key(&swapped)
        .content_type("image/jpeg")
        .body(padded_jpeg(90, 2100).into())
        .send()
        .await
        .unwrap();
    let why =
        format!("{swapped}: S3 holds other bytes than the record's SHA-256; nothing exported");

    let dir = std::env::temp_dir().join(format!("qdn-export-{job}"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{job}.zip"));
    let (code, _, stderr) = qdn(&["export", "--job", &job, "--out", out.to_str().unwrap()]).await;
    assert_ne!(code, Some(0));
    assert!(stderr.contains(&why), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "no archive, whole or partial: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();

    let export_id = ask_export(&app, &job).await["export_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let exports = stack.exports();
    let (_, outcomes) = deliver_export(&stack, &queue, &job, &export_id, &exports).await;
    assert_eq!(outcomes, ["failed"], "no retry mends it");
    let (status, listed) = call(&app, get(&format!("/exports?job_id={job}"))).await;
    assert_eq!(status, 200, "{listed}");
    let export = &listed["exports"][0];
    assert_eq!(
        (export["state"].as_str(), export["reason"].as_str()),
        (Some("failed"), Some(why.as_str())),
        "{export}"
    );
    assert!(export.get("url").is_none(), "{export}");
    let archive = format!("exports/{job}/{export_id}.zip");
    assert!(stack.object(&archive).await.is_none(), "nothing stored");
    assert_eq!(stack.audit_events(&job, "export_failed").await.len(), 1);
}

/// Asks for `job`'s export through the API; its answer.
async fn ask_export(app: &qdn_photos::api::app::App, job: &str) -> Value {
    let (status, asked) = call(
        app,
        post_json(&format!("/exports?job_id={job}"), &Value::Null),
    )
    .await;
    assert_eq!(status, 202, "{asked}");
    asked
}

/// The export the API queued, taken off `queue` and handed to the export role as SQS hands it;
/// the event, to deliver again, and what the role made of it.
async fn deliver_export(
    stack: &Stack,
    queue: &str,
    job: &str,
    export_id: &str,
    exports: &qdn_photos::exports::ExportsContext,
) -> (String, Vec<String>) {
    let body = queued_export(stack, queue, job, export_id).await;
    let event = serde_json::json!({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": body}]})
        .to_string();
    let outcomes = qdn_photos::exports::handle_event(exports, &event)
        .await
        .unwrap();
    (event, outcomes)
}

/// `GET /exports`' newest export, which must be `export_id`, ready with `photos` photos, and its
/// archive as its URL downloads it, with the download's `Content-Disposition`.
async fn newest_ready(
    app: &qdn_photos::api::app::App,
    job: &str,
    export_id: &str,
    photos: usize,
) -> (Value, Vec<u8>, Option<String>) {
    let (status, listed) = call(app, get(&format!("/exports?job_id={job}"))).await;
    assert_eq!(status, 200, "{listed}");
    let export = listed["exports"][0].clone();
    assert_eq!(
        (export["export_id"].as_str(), export["state"].as_str()),
        (Some(export_id), Some("ready"))
    );
    assert_eq!(export["photos"], photos);
    let (status, archive, disposition) = download(export["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    (export, archive, disposition)
}

/// Office staff through the API: `POST /exports` is audited and queued (asking again while it is
/// built answers the same export), the export function builds it from the queue's message (Lambda's
/// SQS event), and `GET /exports` hands out the archive, which `verify-export` checks.
#[tokio::test]
async fn an_export_asked_for_through_the_api_is_built_from_the_queue_and_downloaded_whole() {
    let stack = Stack::get();
    let queue = stack.own_export_queue().await;
    let app = stack.app(&[("EXPORT_QUEUE_URL", &queue)]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let photos = [padded_jpeg(82, 2000), padded_jpeg(83, 2100)];
    for photo in &photos {
        upload_listed(&stack, &app, &pipeline, &job, photo.clone()).await;
    }
    let asked = ask_export(&app, &job).await;
    assert_eq!(asked["state"], "requested");
    let export_id = asked["export_id"].as_str().unwrap().to_owned();
    let again = ask_export(&app, &job).await;
    assert_eq!(
        again["export_id"], asked["export_id"],
        "one build at a time"
    );
    assert_eq!(stack.audit_events(&job, "export_requested").await.len(), 1);

    let exports = stack.exports();
    let (event, outcomes) = deliver_export(&stack, &queue, &job, &export_id, &exports).await;
    assert_eq!(outcomes, ["ready"]);
    // The same message delivered again builds nothing.
    let outcomes = qdn_photos::exports::handle_event(&exports, &event)
        .await
        .unwrap();
    assert_eq!(outcomes, ["already ready"]);

    let (export, archive, disposition) = newest_ready(&app, &job, &export_id, 2).await;
    assert!(disposition.is_some_and(|d| d.starts_with("attachment")));
    assert_eq!(export["size"], archive.len());
    assert_eq!(
        export["manifest_sha256"],
        ContentHash::of(&entry(&archive, "manifest.json")).hex()
    );
    for photo in &photos {
        assert!(
            archive.windows(photo.len()).any(|w| w == photo.as_slice()),
            "each original, whole"
        );
    }
    let verified = qdn_photos::evidence::verify::verify(&mut Cursor::new(&archive)).unwrap();
    assert!(verified.differ.is_empty(), "{:?}", verified.differ);
    assert_eq!(verified.checked, 4, "two originals and their thumbnails");
    let settled = stack.audit_events(&job, "export_ready").await;
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0]["principal"].as_s().unwrap(), "lambda:export");
}

/// An archive bigger than a part goes up a part at a time and reads back byte for byte.
#[tokio::test]
async fn an_archive_larger_than_a_part_is_stored_in_parts_whole() {
    let stack = Stack::get();
    let storage = qdn_photos::store::storage::Storage::new(stack.s3(), stack.bucket.clone());
    let part = qdn_photos::store::storage::ARCHIVE_PART_BYTES;
    let bytes: Vec<u8> = (0..part * 2 + 12_345)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1])
        .collect();
    let path = std::env::temp_dir().join(format!("qdn-archive-{}.zip", new_job()));
    std::fs::write(&path, &bytes).unwrap();
    let key = format!("exports/{}/big.zip", new_job());
    storage.put_archive(&key, &path).await.unwrap();
    std::fs::remove_file(&path).unwrap();
    let stored = stack.object(&key).await.expect("stored");
    assert_eq!(stored.len(), bytes.len());
    assert!(stored == bytes, "byte for byte");
}

/// A removal withdraws the job's exports that hold (or may hold) the photo: the built one loses
/// its archive and its URL, and one that was being built keeps no archive when it settles. Both
/// say why; an export asked for afterwards is built without the photo and stays.
#[tokio::test]
async fn a_removed_photo_withdraws_the_exports_built_or_being_built_and_their_archives_go() {
    let stack = Stack::get();
    let queue = stack.own_export_queue().await;
    let app = stack.app(&[("EXPORT_QUEUE_URL", &queue)]);
    let pipeline = stack.pipeline(&[]);
    let exports = stack.exports();
    let job = new_job();
    let erased = upload_listed(&stack, &app, &pipeline, &job, padded_jpeg(86, 2000)).await;
    let kept = upload_listed(&stack, &app, &pipeline, &job, padded_jpeg(87, 2100)).await;

    let built = ask_export(&app, &job).await["export_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, outcomes) = deliver_export(&stack, &queue, &job, &built, &exports).await;
    assert_eq!(outcomes, ["ready"]);
    // A second export, whose build has passed its check when the photo goes.
    let building = ask_export(&app, &job).await["export_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(building, built, "a built export is not one in flight");
    let parsed = qdn_photos::domain::job::JobId::parse(&job).unwrap();
    let row = exports
        .index
        .export(&parsed, &building)
        .await
        .unwrap()
        .unwrap();

    let erase = ApiEvent::delete(&format!(
        "/photos?job_id={job}&key={erased}&reason=wrong%20house"
    ));
    let (status, body) = call(&app, erase.bearer(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        stack
            .object(&format!("exports/{job}/{built}.zip"))
            .await
            .is_none(),
        "the built archive went"
    );

    let scratch = exports.config.scratch_dir.clone();
    let late = qdn_photos::exports::build::assemble(&exports, &parsed, &building, &scratch)
        .await
        .unwrap();
    let late_archive = format!("exports/{job}/{building}.zip");
    assert!(
        stack.object(&late_archive).await.is_some(),
        "stored before it settles"
    );
    let outcome = qdn_photos::exports::build::settle(&exports, &parsed, &row, late)
        .await
        .unwrap();
    assert!(outcome.starts_with("withdrawn"), "{outcome}");
    assert!(
        stack.object(&late_archive).await.is_none(),
        "a withdrawn export keeps no archive"
    );

    let (status, listed) = call(&app, get(&format!("/exports?job_id={job}"))).await;
    assert_eq!(status, 200, "{listed}");
    for id in [&built, &building] {
        let export = listed["exports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["export_id"] == id.as_str())
            .unwrap();
        assert_eq!(export["state"], "withdrawn", "{export}");
        assert!(export["url"].is_null(), "{export}");
        let reason = export["reason"].as_str().unwrap();
        assert!(
            reason.contains(&erased) && reason.contains("erased"),
            "{reason}"
        );
    }
    let withdrawn = stack.audit_events(&job, "export_withdrawn").await;
    assert_eq!(withdrawn.len(), 2, "one audit row per export");
    let erasure = stack.audit_events(&job, "photo_erased").await;
    assert_eq!(
        withdrawn[0]["principal"], erasure[0]["principal"],
        "by the remover"
    );

    let after = ask_export(&app, &job).await["export_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, outcomes) = deliver_export(&stack, &queue, &job, &after, &exports).await;
    assert_eq!(outcomes, ["ready"]);
    let (_, archive, _) = newest_ready(&app, &job, &after, 1).await;
    let manifest: Value = serde_json::from_slice(&entry(&archive, "manifest.json")).unwrap();
    assert_eq!(manifest["photos"][0]["key"], kept.as_str());
}
