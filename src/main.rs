//! The Lambda entry point: picks the role and runs it. With arguments, an operator command
//! instead (`qdn-photos tokens …`, see `ops::cli`).

use lambda_runtime::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        std::process::exit(qdn_photos::ops::cli::main(&args).await);
    }
    qdn_photos::telemetry::logging::init();
    // The role is the template's `Handler`, which Lambda passes as `_HANDLER`: `photo-pipeline`
    // runs the S3-event pipeline, `photo-export` the evidence exports, anything else
    // (`bootstrap`) the API. Fixed per function at deploy time, never chosen by what an event
    // looks like: an S3 event sent to the API function, or an API request sent to the pipeline,
    // is an error, not a change of role.
    match std::env::var("_HANDLER").as_deref() {
        Ok("photo-pipeline") => qdn_photos::pipeline::run().await,
        Ok("photo-export") => qdn_photos::exports::run().await,
        _ => qdn_photos::api::run().await,
    }
}
