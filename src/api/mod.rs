//! The API role: `GET`/`POST /upload-url` and `GET /photos` behind API Gateway. [`run`] reads
//! [`config::ApiConfig`], builds [`context::ApiContext`] and serves events until the runtime stops.
//!
//! Inside: `app` → `router` → `routes` → {`context`, `auth`, `cors`} → {`signing`, `request`,
//! `response`} → {`config`, `event`, `error`}. A route never imports `app` or `router`.

pub mod app;
pub mod auth;
pub mod config;
pub mod context;
pub mod cors;
pub mod error;
pub mod event;
pub mod request;
pub mod response;
pub mod router;
pub mod routes;
pub mod signing;

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{service_fn, Error};

use crate::config::{stop, Env};
use crate::store::clients::{load_sdk_config, CallBudget};

/// The API function's cold start and invocation loop.
pub async fn run() -> Result<(), Error> {
    let config = config::ApiConfig::from_env(&Env::process()).unwrap_or_else(stop);
    let sdk = load_sdk_config(&config.common.region, CallBudget::Function).await;
    let ctx = context::ApiContext::from_sdk_config(config, &sdk).unwrap_or_else(stop);
    let app = app::App::new(ctx);
    // `run` lets each invocation's future borrow `app`, which lives until the runtime stops.
    let app = &app;
    // The event arrives unparsed: `event::parse` reads an HTTP API event in one pass (lambda_http's
    // own `run` would try each event shape in turn), and anything else as lambda_http does.
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<serde_json::value::RawValue>>| async move {
            let (req, origin) = event::parse(event.payload.get())?;
            Ok::<_, Error>(event::response(origin, app.handle(req).await))
        },
    ))
    .await
}
