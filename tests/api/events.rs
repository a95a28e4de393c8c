//! Every API Gateway event in `events/` is answered with the status `events/expected-status.txt`
//! promises, and every S3 event (`events/s3-*.json`) with the pipeline outcomes it names
//! (scripts/check-events.sh checks the same through `cargo lambda invoke`).

use crate::support::*;

#[tokio::test]
async fn every_event_file_gets_the_status_expected_status_txt_promises() {
    let stack = Stack::get();
    // The events carry a JWT authorizer's claims, as API Gateway sends them in jwt mode.
    let app = stack.app(&[("AUTH_MODE", "jwt")]);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let expected = std::fs::read_to_string(format!("{dir}/expected-status.txt")).unwrap();
    let mut checked = Vec::new();
    for line in expected
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (file, status) = line.split_once(char::is_whitespace).unwrap();
        let json = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        let (req, _) =
            qdn_photos::api::event::parse(&json).unwrap_or_else(|e| panic!("{file}: {e}"));
        let resp = app.handle(req).await;
        assert_eq!(resp.status().as_u16().to_string(), status.trim(), "{file}");
        checked.push(file.to_owned());
    }
    // The S3 events, through the pipeline (no object of theirs is in the local bucket).
    assert_eq!(
        pipeline(&stack.pipeline(&[]), dir, "s3-object-created.json").await,
        ["ignored: no longer in S3", "ignored: not an upload key"]
    );
    assert!(pipeline(&stack.pipeline(&[]), dir, "s3-test-event.json")
        .await
        .is_empty());
    checked.extend([
        "s3-object-created.json".to_owned(),
        "s3-test-event.json".to_owned(),
    ]);
    // No event file goes unchecked.
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    checked.sort();
    assert_eq!(on_disk, checked);
}

async fn pipeline(
    pipeline: &qdn_photos::pipeline::context::PipelineContext,
    dir: &str,
    file: &str,
) -> Vec<String> {
    let json = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
    qdn_photos::pipeline::handle_event(pipeline, &json, "events")
        .await
        .unwrap()
}
