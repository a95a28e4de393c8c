//! The Lambda entry point: read the configuration, build the clients once, serve requests (or,
//! as the pipeline function, S3 events). With arguments, an operator command instead
//! (`qdn-photos tokens …`, see `cli.rs`).

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{service_fn, Error};
use qdn_photos::app::App;
use qdn_photos::clients::load_sdk_config;
use qdn_photos::config::{Config, ConfigError};
use qdn_photos::context::Context;
use qdn_photos::pipeline;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        std::process::exit(qdn_photos::cli::main(&args).await);
    }
    qdn_photos::logging::init();
    let config = Config::from_env().unwrap_or_else(|err| stop(&err));
    let sdk = load_sdk_config(&config.region).await;
    let app = App::new(Context::from_sdk_config(config, &sdk).unwrap_or_else(|err| stop(&err)));
    // `run` lets each invocation's future borrow `app`, which lives until the runtime stops.
    let app = &app;
    if role_is_pipeline() {
        let ctx = app.context();
        return lambda_runtime::run(service_fn(
            move |event: LambdaEvent<Box<serde_json::value::RawValue>>| async move {
                pipeline::handle_event(ctx, event.payload.get(), &event.context.request_id).await
            },
        ))
        .await;
    }
    // The event arrives unparsed: `event::parse` reads an HTTP API event in one pass (lambda_http's
    // own `run` would try each event shape in turn), and anything else as lambda_http does.
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<serde_json::value::RawValue>>| async move {
            let (req, origin) = qdn_photos::event::parse(event.payload.get())?;
            Ok::<_, Error>(qdn_photos::event::response(origin, app.handle(req).await))
        },
    ))
    .await
}

/// The role is the template's `Handler`, which Lambda passes as `_HANDLER`: `photo-pipeline`
/// runs the S3-event pipeline, anything else (`bootstrap`) the API. Fixed per function at deploy
/// time, never chosen by what an event looks like: an S3 event sent to the API function, or an
/// API request sent to the pipeline, is an error, not a change of role.
fn role_is_pipeline() -> bool {
    std::env::var("_HANDLER").is_ok_and(|h| h == "photo-pipeline")
}

/// A bad setting stops the cold start with one log line naming it.
fn stop(err: &ConfigError) -> ! {
    tracing::error!(variable = err.variable, "{err}");
    eprintln!("{err}");
    std::process::exit(1)
}
