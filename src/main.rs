//! The Lambda entry point: read the configuration, build the clients once, serve requests.
//! With arguments, an operator command instead (`qdn-photos tokens …`, see `cli.rs`).

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{service_fn, Error};
use qdn_photos::app::App;
use qdn_photos::clients::load_sdk_config;
use qdn_photos::config::{Config, ConfigError};
use qdn_photos::context::Context;

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
    // The event arrives unparsed: `event::parse` reads an HTTP API event in one pass (lambda_http's
    // own `run` would try each event shape in turn), and anything else as lambda_http does.
    let app = &app;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<serde_json::value::RawValue>>| async move {
            let (req, origin) = qdn_photos::event::parse(event.payload.get())?;
            Ok::<_, Error>(qdn_photos::event::response(origin, app.handle(req).await))
        },
    ))
    .await
}

/// A bad setting stops the cold start with one log line naming it.
fn stop(err: &ConfigError) -> ! {
    tracing::error!(variable = err.variable, "{err}");
    eprintln!("{err}");
    std::process::exit(1)
}
