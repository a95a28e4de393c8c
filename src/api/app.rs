//! The application: [`App::handle`] turns any request into a response (never a panic, never an
//! `Err` for the runtime to report). One dispatch: [`decide`] routes, authenticates and parses;
//! then the endpoint's handler runs with the context, the caller and its checked input.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use crate::api::auth::{authorize, Authenticator};
use crate::api::config::ApiConfig;
use crate::api::context::ApiContext;
use crate::api::cors;
use crate::api::error::ApiError;
use crate::api::request::route_path;
use crate::api::response;
use crate::api::router::{route, ApiRequest, Route};
use crate::api::routes::issue_upload_url::Grants;
use crate::api::routes::{
    complete_uploads, issue_upload_url, list_exports, list_photos, remove_photo, report_uploads,
    request_export,
};
use crate::domain::caller::Caller;
use crate::telemetry::metrics::RequestMetrics;

pub struct App {
    ctx: ApiContext,
}

/// What a request is, decided before any I/O.
#[derive(Debug)]
pub enum Decision {
    Preflight { methods: &'static str },
    Call { caller: Caller, request: ApiRequest },
}

/// Routes (404/405), authenticates (401), parses (4xx) and authorizes (403 `job_forbidden`)
/// `req`, in that order: a caller who cannot authenticate learns nothing about what the input
/// would have been refused for, and nothing outside the caller's jobs is touched, since every
/// storage and audit call comes after this. Only a per-person token's lookup may do I/O here.
/// Property tests and the fuzz target call this too, so they test the handler's own parse.
pub async fn decide(
    config: &ApiConfig,
    auth: &Authenticator,
    req: &Request,
) -> Result<Decision, ApiError> {
    match route(req.method(), route_path(req))? {
        Route::Preflight { methods } => Ok(Decision::Preflight { methods }),
        Route::Endpoint(endpoint) => {
            let caller = auth.authenticate(req).await?;
            let request = ApiRequest::parse(endpoint, req, config)?;
            authorize(&caller, request.job())?;
            Ok(Decision::Call { caller, request })
        }
    }
}

impl App {
    pub fn new(ctx: ApiContext) -> Self {
        App { ctx }
    }

    /// Answers one request. Every outcome, including every error, is a JSON response.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let origin = cors::allowed_origin(&self.ctx.config.allowed_origins, &req);
        let mut metrics = RequestMetrics::default();
        let outcome = match decide(&self.ctx.config, &self.ctx.auth, &req).await {
            Err(err) => Err(err),
            Ok(Decision::Preflight { methods }) => Ok(cors::preflight(origin, methods)),
            Ok(Decision::Call { caller, request }) => {
                self.call(&caller, request, &mut metrics).await
            }
        };
        let mut resp = outcome.unwrap_or_else(|err| {
            metrics = RequestMetrics::failed(err.failure());
            response::error(&err)
        });
        cors::add_headers(resp.headers_mut(), origin);
        tracing::info!(method = %req.method(), path = route_path(&req), status = resp.status().as_u16(), "handled");
        if let Some(target) = &self.ctx.config.common.metrics {
            target.publish(&metrics);
        }
        resp
    }

    async fn call(
        &self,
        caller: &Caller,
        request: ApiRequest,
        metrics: &mut RequestMetrics,
    ) -> Result<Response<Body>, ApiError> {
        let ctx = &self.ctx;
        Ok(match request {
            ApiRequest::IssueUploadUrl(input) => {
                let (job, batch) = (input.job.to_string(), input.batch);
                let (status, grants) = issue_upload_url::handle(ctx, caller, input).await?;
                metrics.urls_issued = grants.len() as u64;
                if batch {
                    response::json(
                        status,
                        &Grants {
                            job_id: job,
                            grants,
                        },
                    )
                } else {
                    let grant = grants.first().ok_or_else(ApiError::internal)?;
                    response::json(status, grant)
                }
            }
            ApiRequest::CompleteUploads(input) => {
                let (status, body) = complete_uploads::handle(ctx, caller, input).await?;
                // A repeat (200) answers the first record; only a new record counts.
                if status == StatusCode::CREATED {
                    metrics.completions = 1;
                    metrics.bytes_completed = u64::try_from(body.total_bytes).unwrap_or(0);
                }
                response::json(status, &body)
            }
            ApiRequest::ReportUploads(input) => {
                let (status, body) = report_uploads::handle(ctx, caller, input).await?;
                metrics.unverified_reports = 1;
                response::json(status, &body)
            }
            ApiRequest::ListPhotos(input) => {
                let (status, body) = list_photos::handle(ctx, caller, input).await?;
                response::json(status, &body)
            }
            ApiRequest::RemovePhoto(input) => {
                let (status, body) = remove_photo::handle(ctx, caller, input).await?;
                response::json(status, &body)
            }
            ApiRequest::RequestExport(input) => {
                let (status, body) = request_export::handle(ctx, caller, input).await?;
                response::json(status, &body)
            }
            ApiRequest::ListExports(input) => {
                let (status, body) = list_exports::handle(ctx, caller, input).await?;
                response::json(status, &body)
            }
        })
    }
}
