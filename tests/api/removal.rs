//! Retract and erase (issue 24 point 4): `DELETE /photos`. The uploader retracts their own photo
//! within the window; a job's admin erases any photo with a reason. Either way the tombstone (who,
//! when, why, the hash of what went) is audited, the photo leaves `/photos`, and every stored
//! version of it, its thumbnails and its duplicates is removed. Versions need moto's S3; the
//! unversioned case (and the export's record of removals) runs on Garage.

use lambda_http::http::StatusCode;
use qdn_photos::api::app::App;
use qdn_photos::dev::s3_events::notification;
use qdn_photos::dev::test_images::padded_jpeg;
use qdn_photos::domain::content_hash::ContentHash;
use qdn_photos::pipeline::context::PipelineContext;
use qdn_photos::pipeline::handle_event;
use serde_json::{json, Value};

use crate::support::*;

/// A field worker on one job (the JWT's jobs claim).
fn worker(sub: &str, job: &str) -> Value {
    json!({"sub": sub, "custom:jobs": job})
}

/// The office: the admin group, every job.
fn office(sub: &str) -> Value {
    json!({"sub": sub, "cognito:groups": "[office]"})
}

/// A JWT-mode API on a versioned bucket, its pipeline, and one job.
struct Versioned {
    stack: Stack,
    bucket: String,
    s3: aws_sdk_s3::Client,
    app: App,
    pipeline: PipelineContext,
    job: String,
}

impl Versioned {
    async fn new(params: &[(&str, &str)]) -> Versioned {
        let stack = Stack::get();
        let moto = stack.dynamodb_endpoint.clone();
        let (bucket, s3) = stack.versioned_bucket().await;
        let mut all = vec![
            ("GrantsPerMinute", "10000"),
            ("GrantsPerJobPerDay", "1000000"),
        ];
        all.extend_from_slice(params);
        let overrides = [
            ("AUTH_MODE", "jwt"),
            ("JWT_ADMIN_GROUP", "office"),
            ("UPLOADS_BUCKET", bucket.as_str()),
            ("AWS_ENDPOINT_URL_S3", moto.as_str()),
        ];
        let app = stack.app_on(&all, &overrides, &moto);
        let pipeline = stack.pipeline_on(&[], &moto);
        Versioned {
            stack,
            bucket,
            s3,
            app,
            pipeline,
            job: new_job(),
        }
    }

    async fn call_as(&self, claims: &Value, event: ApiEvent) -> (StatusCode, Value) {
        call(
            &self.app,
            event.authorizer(json!({"jwt": {"claims": claims}})),
        )
        .await
    }

    /// Uploads `bytes` as `claims` under a hash-bound grant and delivers S3's event; returns the
    /// key and what the pipeline made of it.
    async fn upload_as(&self, claims: &Value, bytes: &[u8]) -> (String, Vec<String>) {
        let sha256 = ContentHash::of(bytes).hex();
        let query = format!("/upload-url?job_id={}&sha256={sha256}", self.job);
        let (status, grant) = self.call_as(claims, ApiEvent::get(&query)).await;
        assert_eq!(status, 200, "{grant}");
        let (status, body) = post_form(&grant, |_| {}, bytes.to_vec()).await;
        assert!((200..300).contains(&status), "{body}");
        let key = grant["key"].as_str().unwrap().to_owned();
        (key.clone(), self.deliver(&key).await)
    }

    /// S3's event for the current version of `key`.
    async fn deliver(&self, key: &str) -> Vec<String> {
        let head = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        let size = head.content_length().unwrap() as u64;
        let stored = (key, size, head.e_tag().unwrap(), head.version_id());
        let event = notification(&self.bucket, &[stored]);
        handle_event(&self.pipeline, &event, "test-delivery")
            .await
            .unwrap()
    }

    async fn remove(&self, claims: &Value, key: &str, reason: Option<&str>) -> (StatusCode, Value) {
        let mut query = format!("/photos?job_id={}&key={key}", self.job);
        if let Some(reason) = reason {
            query.push_str(&format!("&reason={}", reason.replace(' ', "%20")));
        }
        self.call_as(claims, ApiEvent::delete(&query)).await
    }

    async fn listed(&self) -> Vec<String> {
        let query = format!("/photos?job_id={}&include=pending", self.job);
        let (status, page) = self
            .call_as(&office("auditor"), ApiEvent::get(&query))
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["pending"], json!([]), "nothing removed is pending");
        photo_keys(&page)
    }

    /// How many versions and delete markers S3 keeps of `key` and of everything under `key/`.
    async fn stored_versions(&self, key: &str) -> usize {
        let out = self
            .s3
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(key)
            .send()
            .await
            .unwrap();
        out.versions().len() + out.delete_markers().len()
    }
}

#[tokio::test]
async fn an_uploader_retracts_their_own_photo_within_the_window_and_nothing_of_it_stays_but_the_record(
) {
    let v = Versioned::new(&[("RetractWindowMinutes", "60")]).await;
    let alice = worker("alice", &v.job);
    let bob = worker("bob", &v.job);
    let mistake = padded_jpeg(90, 2000);
    let (key, outcome) = v.upload_as(&alice, &mistake).await;
    assert_eq!(outcome, ["listed, thumbnail created"]);
    let (kept, _) = v.upload_as(&alice, &padded_jpeg(91, 2100)).await;
    let thumbs = format!("thumbs/{key}");
    assert_eq!(
        (
            v.stored_versions(&key).await,
            v.stored_versions(&thumbs).await
        ),
        (1, 1)
    );

    // The listing tells the uploader until when, and nobody else.
    let query = format!("/photos?job_id={}", v.job);
    for (who, offered) in [(&alice, true), (&bob, false)] {
        let (_, page) = v.call_as(who, ApiEvent::get(&query)).await;
        let photos = page["photos"].as_array().unwrap();
        assert!(
            photos
                .iter()
                .all(|p| p["retractable_until"].is_string() == offered),
            "{page}"
        );
    }

    // Someone else on the job may not.
    let (status, body) = v.remove(&bob, &key, None).await;
    assert_eq!(error_code(status, &body, 403), "not_your_photo");
    let (status, body) = v.remove(&bob, &key, Some("not mine")).await;
    assert_eq!(error_code(status, &body, 403), "not_your_photo");
    assert_eq!(v.listed().await.len(), 2, "a refusal removes nothing");

    let (status, removed) = v.remove(&alice, &key, None).await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["removal"], "retracted");
    assert_eq!(removed["removed_by"], "jwt:alice");
    assert_eq!(removed["sha256"], ContentHash::of(&mistake).hex());
    assert_eq!(v.listed().await, std::slice::from_ref(&kept));
    assert_eq!(
        (
            v.stored_versions(&key).await,
            v.stored_versions(&thumbs).await
        ),
        (0, 0)
    );

    // The tombstone's audit row: who, when, the hash of what went, and the row that verified it.
    let rows = v.stack.audit_events(&v.job, "photo_retracted").await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["principal"].as_s().unwrap(), "jwt:alice");
    assert_eq!(row["key"].as_s().unwrap(), &key);
    assert_eq!(
        row["sha256"].as_s().unwrap(),
        &ContentHash::of(&mistake).hex()
    );
    assert_eq!(
        row["audit_id"].as_s().unwrap(),
        removed["audit_id"].as_str().unwrap()
    );
    let verified = v.stack.audit_events(&v.job, "object_verified").await;
    assert!(verified
        .iter()
        .any(|r| r["audit_id"] == row["verified_audit_id"] && r["key"].as_s().unwrap() == &key));

    // A repeat (the answer was lost) answers the same removal; a late event lists nothing again.
    let (status, again) = v.remove(&alice, &key, None).await;
    assert_eq!(
        (status.as_u16(), &again["audit_id"]),
        (200, &removed["audit_id"])
    );
    assert_eq!(
        v.stack.audit_events(&v.job, "photo_retracted").await.len(),
        1
    );
    let version =
        v.s3.put_object()
            .bucket(&v.bucket)
            .key(&key)
            .content_type("image/jpeg")
            .body(mistake.clone().into())
            .send()
            .await
            .unwrap();
    assert!(version.version_id().is_some());
    assert_eq!(
        v.deliver(&key).await,
        ["its photo was removed: removed too"]
    );
    assert_eq!(v.listed().await, [kept]);
    assert_eq!(
        v.stored_versions(&key).await,
        0,
        "the late version is removed too"
    );
}

#[tokio::test]
async fn past_the_window_only_an_admin_erases_with_a_reason_and_every_version_goes() {
    // 0: no retraction at all, so every request here is past the window.
    let v = Versioned::new(&[("RetractWindowMinutes", "0")]).await;
    let alice = worker("alice", &v.job);
    let face = padded_jpeg(92, 2200);
    let (key, _) = v.upload_as(&alice, &face).await;
    // A second version stored under the key, whose event has not arrived.
    v.s3.put_object()
        .bucket(&v.bucket)
        .key(&key)
        .body(padded_jpeg(93, 900).into())
        .send()
        .await
        .unwrap();
    assert_eq!(v.stored_versions(&key).await, 2);

    let (status, body) = v.remove(&alice, &key, None).await;
    assert_eq!(error_code(status, &body, 403), "retract_window_passed");
    let admin = office("carol");
    let (status, body) = v.remove(&admin, &key, None).await;
    assert_eq!(error_code(status, &body, 400), "reason_required");
    assert_eq!(v.listed().await, std::slice::from_ref(&key));

    let (status, erased) = v
        .remove(&admin, &key, Some("customer's face, erasure request"))
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["removal"], "erased");
    assert_eq!(erased["reason"], "customer's face, erasure request");
    assert!(v.listed().await.is_empty());
    assert_eq!(v.stored_versions(&key).await, 0, "every version");
    assert_eq!(v.stored_versions(&format!("thumbs/{key}")).await, 0);
    let rows = v.stack.audit_events(&v.job, "photo_erased").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["principal"].as_s().unwrap(), "jwt:carol");
    assert_eq!(
        rows[0]["reason"].as_s().unwrap(),
        "customer's face, erasure request"
    );
    assert_eq!(rows[0]["uploader"].as_s().unwrap(), "jwt:alice");
    assert_eq!(
        rows[0]["sha256"].as_s().unwrap(),
        &ContentHash::of(&face).hex()
    );

    // Erased is erased: the uploader's repeat learns the erasure, and an unknown key is a 404.
    let (status, body) = v.remove(&alice, &key, None).await;
    assert_eq!(
        (status.as_u16(), body["removal"].as_str()),
        (200, Some("erased"))
    );
    let unknown = format!("jobs/{}/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg", v.job);
    let (status, body) = v.remove(&admin, &unknown, Some("x")).await;
    assert_eq!(error_code(status, &body, 404), "photo_not_found");
}

#[tokio::test]
async fn an_erasure_takes_the_photos_duplicates_with_it_and_the_same_bytes_may_come_back() {
    let v = Versioned::new(&[]).await;
    let alice = worker("alice", &v.job);
    let bytes = padded_jpeg(94, 2300);
    let (first, _) = v.upload_as(&alice, &bytes).await;
    let (again, outcome) = v.upload_as(&alice, &bytes).await;
    assert_eq!(outcome, [format!("duplicate of {first}")]);
    assert_eq!(
        v.stored_versions(&again).await,
        1,
        "a duplicate's bytes are kept"
    );

    let (status, erased) = v.remove(&office("carol"), &first, Some("wrong job")).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["duplicates"], json!([again.clone()]));
    assert_eq!(
        v.stored_versions(&again).await,
        0,
        "the same bytes under another key go too"
    );

    // The job's claim on those bytes went with the photo: sent again, they are a photo again.
    let (back, outcome) = v.upload_as(&alice, &bytes).await;
    assert_eq!(outcome, ["listed, thumbnail created"]);
    assert_eq!(v.listed().await, [back]);
}

/// Garage keeps no versions and lists none: the current objects go. The export then names the
/// removals with their hashes, and hands over only what is still a photo.
#[tokio::test]
async fn on_an_unversioned_store_a_removal_deletes_the_object_and_the_export_records_it() {
    let stack = Stack::get();
    // The shared token's holder is every job's admin, and the uploader of what it sends.
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let bytes = padded_jpeg(95, 2400);
    let retracted = upload_listed(&stack, &app, &pipeline, &job, bytes.clone()).await;
    let erased = upload_listed(&stack, &app, &pipeline, &job, padded_jpeg(96, 2500)).await;
    let kept = upload_listed(&stack, &app, &pipeline, &job, padded_jpeg(97, 2600)).await;
    let delete = |key: &str, reason: &str| {
        ApiEvent::delete(&format!("/photos?job_id={job}&key={key}&reason={reason}")).bearer(TOKEN)
    };
    // An earlier evidence archive of the job holds copies: it goes with the photo.
    let archive = format!("exports/{job}/earlier.zip");
    stack
        .s3()
        .put_object()
        .bucket(&stack.bucket)
        .key(&archive)
        .body(b"PK".to_vec().into())
        .send()
        .await
        .unwrap();
    let (status, body) = call(&app, delete(&retracted, "")).await;
    assert_eq!(
        (status.as_u16(), body["removal"].as_str()),
        (200, Some("retracted")),
        "{body}"
    );
    let (status, body) = call(&app, delete(&erased, "duplicate%20shot")).await;
    assert_eq!(
        (status.as_u16(), body["removal"].as_str()),
        (200, Some("erased")),
        "{body}"
    );
    for key in [&retracted, &erased] {
        assert!(stack.object(key).await.is_none(), "{key}");
        assert!(stack
            .object(&format!("thumbs/{key}/null.jpg"))
            .await
            .is_none());
    }
    assert!(
        stack.object(&archive).await.is_none(),
        "the job's archives go too"
    );
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(page["photos"].as_array().unwrap().len(), 1);
    assert_eq!(page["photos"][0]["key"], kept.as_str());

    let out = std::env::temp_dir().join(format!("qdn-removals-{job}.zip"));
    let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_qdn-photos"))
        .args(["export", "--job", &job, "--out", out.to_str().unwrap()])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let archive = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    let mut cursor = std::io::Cursor::new(&archive);
    let entries = qdn_photos::evidence::zip::list(&mut cursor).unwrap();
    let manifest = entries.iter().find(|e| e.name == "manifest.json").unwrap();
    let manifest: Value = serde_json::from_slice(
        &qdn_photos::evidence::zip::read_entry(&mut cursor, manifest).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["photos"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["retractions"][0]["key"], retracted.as_str());
    assert_eq!(
        manifest["retractions"][0]["sha256"],
        ContentHash::of(&bytes).hex()
    );
    assert_eq!(manifest["erasures"][0]["key"], erased.as_str());
    assert_eq!(manifest["erasures"][0]["reason"], "duplicate shot");
    assert!(manifest["erasures"][0]["removed_by"]
        .as_str()
        .is_some_and(|p| !p.is_empty()));
}
