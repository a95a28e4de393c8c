//! The application: configuration and clients built once, and [`App::handle`], which turns any
//! request into a response (never a panic, never an `Err` for the runtime to report).

use std::time::SystemTime;

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::auth::authenticate;
use crate::clients;
use crate::config::{Config, ConfigError};
use crate::error::{ApiError, Dependency};
use crate::request::{header, route_path, RequestMeta};
use crate::response;
use crate::router::{route, Route};
use crate::routes::{complete_uploads, issue_upload_url, list_photos};
use crate::sigv4::Signer;
use crate::utc::UtcTime;

pub struct App {
    config: Config,
    s3: aws_sdk_s3::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    credentials: SharedCredentialsProvider,
    signer: Signer,
}

/// The authenticated caller of one request.
pub struct Caller {
    pub principal: String,
    pub meta: RequestMeta,
    pub now: SystemTime,
}

impl App {
    pub fn new(
        config: Config,
        s3: aws_sdk_s3::Client,
        dynamodb: aws_sdk_dynamodb::Client,
        credentials: SharedCredentialsProvider,
    ) -> Self {
        let signer = Signer::new(config.region.clone());
        App {
            config,
            s3,
            dynamodb,
            credentials,
            signer,
        }
    }

    /// The production wiring: clients and credentials from one shared SDK configuration.
    pub fn from_sdk_config(config: Config, sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let credentials = sdk.credentials_provider().ok_or_else(|| ConfigError {
            variable: "AWS_ACCESS_KEY_ID",
            problem: "no AWS credentials provider could be configured".into(),
        })?;
        let s3 = clients::s3_client(sdk, config.force_path_style);
        let dynamodb = clients::dynamodb_client(sdk);
        Ok(App::new(config, s3, dynamodb, credentials))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        &self.dynamodb
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The current credentials (the SDK's provider caches and refreshes them).
    pub async fn credentials(&self) -> Result<Credentials, ApiError> {
        self.credentials.provide_credentials().await.map_err(|err| {
            tracing::error!(error = %aws_sdk_s3::error::DisplayErrorContext(&err), "no credentials to sign with");
            ApiError::unavailable(Dependency::Credentials)
        })
    }

    pub fn credentials_expired() -> ApiError {
        tracing::error!("credentials expired before signing");
        ApiError::unavailable(Dependency::Credentials)
    }

    /// When an audit row written at `now` may be removed by DynamoDB's TTL.
    pub fn audit_expiry(&self, now: UtcTime) -> u64 {
        now.unix_secs + self.config.audit_retention_days * 86_400
    }

    /// Answers one request. Every outcome, including every error, is a JSON response.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let origin = response::allowed_origin(&self.config.allowed_origins, header(&req, "origin"));
        let path = route_path(&req);
        let mut resp = match route(req.method(), path) {
            Err(err) => response::error(&err),
            Ok(Route::Preflight { methods }) => response::preflight(origin, methods),
            Ok(route) => match self.dispatch(route, &req).await {
                Ok(resp) => resp,
                Err(err) => response::error(&err),
            },
        };
        response::add_cors(resp.headers_mut(), origin);
        tracing::info!(method = %req.method(), path, status = resp.status().as_u16(), "handled");
        resp
    }

    async fn dispatch(&self, route: Route, req: &Request) -> Result<Response<Body>, ApiError> {
        let caller = Caller {
            principal: authenticate(req, self.config.auth_token_sha256.as_ref())?,
            meta: RequestMeta::of(req),
            now: SystemTime::now(),
        };
        match route {
            Route::IssueUploadUrl => reply(issue_upload_url::handle(self, req, &caller).await),
            Route::CompleteUploads => reply(complete_uploads::handle(self, req, &caller).await),
            Route::ListPhotos => reply(list_photos::handle(self, req, &caller).await),
            Route::Preflight { .. } => Err(ApiError::not_found()),
        }
    }
}

/// Everything [`App::handle`] decides before any I/O: route, caller, and the route's own input
/// checks. For property tests and fuzzing, which must see a 4xx or `Ok` for any input.
pub fn check_offline(config: &Config, req: &Request) -> Result<Route, ApiError> {
    let route = route(req.method(), route_path(req))?;
    if matches!(route, Route::Preflight { .. }) {
        return Ok(route);
    }
    authenticate(req, config.auth_token_sha256.as_ref())?;
    match route {
        Route::IssueUploadUrl => issue_upload_url::parse(req, config).map(drop),
        Route::CompleteUploads => complete_uploads::parse(req).map(drop),
        Route::ListPhotos => list_photos::parse(req).map(drop),
        Route::Preflight { .. } => Ok(()),
    }?;
    Ok(route)
}

fn reply<T: Serialize>(
    result: Result<(lambda_http::http::StatusCode, T), ApiError>,
) -> Result<Response<Body>, ApiError> {
    result.map(|(status, body)| response::json(status, &body))
}
