//! Method + path → route (404 for unknown paths, 405 for known paths with the wrong method), and
//! each endpoint's checked input. Everything here is decided before any I/O.

use lambda_http::http::Method;
use lambda_http::Request;

use crate::api::config::ApiConfig;
use crate::api::error::ApiError;
use crate::api::routes::complete_uploads::{self, Completion, PostedUploads};
use crate::api::routes::issue_upload_url::{self, UploadRequest};
use crate::api::routes::list_photos::{self, PageRequest};
use crate::api::routes::remove_photo::{self, RemovalRequest};
use crate::api::routes::report_uploads::ClientReport;
use crate::api::routes::request_export::{self, ExportRequest};
use crate::domain::job::JobId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A CORS preflight for a path whose endpoints take `methods`.
    Preflight {
        methods: &'static str,
    },
    Endpoint(Endpoint),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    IssueUploadUrl,
    CompleteUploads,
    ListPhotos,
    RemovePhoto,
    RequestExport,
    ListExports,
}

/// An endpoint's request, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRequest {
    IssueUploadUrl(UploadRequest),
    CompleteUploads(Completion),
    /// The legacy completion body: the client's unverified report.
    ReportUploads(ClientReport),
    ListPhotos(PageRequest),
    RemovePhoto(RemovalRequest),
    RequestExport(ExportRequest),
    ListExports(ExportRequest),
}

pub fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    use Endpoint::*;
    match (path, method) {
        ("/upload-url", &Method::GET) => Ok(Route::Endpoint(IssueUploadUrl)),
        ("/upload-url", &Method::POST) => Ok(Route::Endpoint(CompleteUploads)),
        ("/upload-url", &Method::OPTIONS) => Ok(Route::Preflight {
            methods: "GET, POST",
        }),
        ("/upload-url", _) => Err(ApiError::method_not_allowed("GET, POST, OPTIONS")),
        ("/photos", &Method::GET) => Ok(Route::Endpoint(ListPhotos)),
        ("/photos", &Method::DELETE) => Ok(Route::Endpoint(RemovePhoto)),
        ("/photos", &Method::OPTIONS) => Ok(Route::Preflight {
            methods: "GET, DELETE",
        }),
        ("/photos", _) => Err(ApiError::method_not_allowed("GET, DELETE, OPTIONS")),
        ("/exports", &Method::GET) => Ok(Route::Endpoint(ListExports)),
        ("/exports", &Method::POST) => Ok(Route::Endpoint(RequestExport)),
        ("/exports", &Method::OPTIONS) => Ok(Route::Preflight {
            methods: "GET, POST",
        }),
        ("/exports", _) => Err(ApiError::method_not_allowed("GET, POST, OPTIONS")),
        _ => Err(ApiError::not_found()),
    }
}

impl ApiRequest {
    /// The job the request is about: what the caller's scope is checked against.
    pub fn job(&self) -> &JobId {
        match self {
            ApiRequest::IssueUploadUrl(input) => &input.job,
            ApiRequest::CompleteUploads(input) => &input.job,
            ApiRequest::ReportUploads(input) => &input.job,
            ApiRequest::ListPhotos(input) => &input.job,
            ApiRequest::RemovePhoto(input) => &input.job,
            ApiRequest::RequestExport(input) | ApiRequest::ListExports(input) => &input.job,
        }
    }

    pub fn parse(endpoint: Endpoint, req: &Request, config: &ApiConfig) -> Result<Self, ApiError> {
        Ok(match endpoint {
            Endpoint::IssueUploadUrl => {
                ApiRequest::IssueUploadUrl(issue_upload_url::parse(req, config)?)
            }
            Endpoint::CompleteUploads => match complete_uploads::parse(req, config)? {
                PostedUploads::Completion(c) => ApiRequest::CompleteUploads(c),
                PostedUploads::Report(r) => ApiRequest::ReportUploads(r),
                PostedUploads::Grants(g) => ApiRequest::IssueUploadUrl(g),
            },
            Endpoint::ListPhotos => {
                ApiRequest::ListPhotos(list_photos::parse(req, config.photos_page_max)?)
            }
            Endpoint::RemovePhoto => ApiRequest::RemovePhoto(remove_photo::parse(req)?),
            Endpoint::RequestExport => ApiRequest::RequestExport(request_export::parse(req)?),
            Endpoint::ListExports => ApiRequest::ListExports(request_export::parse(req)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_endpoint_has_its_method_and_path() {
        assert_eq!(
            route(&Method::GET, "/upload-url"),
            Ok(Route::Endpoint(Endpoint::IssueUploadUrl))
        );
        assert_eq!(
            route(&Method::POST, "/upload-url"),
            Ok(Route::Endpoint(Endpoint::CompleteUploads))
        );
        assert_eq!(
            route(&Method::GET, "/photos"),
            Ok(Route::Endpoint(Endpoint::ListPhotos))
        );
        assert_eq!(
            route(&Method::DELETE, "/photos"),
            Ok(Route::Endpoint(Endpoint::RemovePhoto))
        );
        assert_eq!(
            route(&Method::POST, "/exports"),
            Ok(Route::Endpoint(Endpoint::RequestExport))
        );
        assert_eq!(
            route(&Method::GET, "/exports"),
            Ok(Route::Endpoint(Endpoint::ListExports))
        );
    }

    #[test]
    fn options_is_a_preflight_naming_the_paths_methods() {
        assert_eq!(
            route(&Method::OPTIONS, "/photos"),
            Ok(Route::Preflight {
                methods: "GET, DELETE"
            })
        );
        assert_eq!(
            route(&Method::OPTIONS, "/upload-url"),
            Ok(Route::Preflight {
                methods: "GET, POST"
            })
        );
    }

    #[test]
    fn a_wrong_method_is_405_with_allow() {
        let e = route(&Method::DELETE, "/upload-url").unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.allow),
            (405, Some("GET, POST, OPTIONS"))
        );
        let e = route(&Method::POST, "/photos").unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.allow),
            (405, Some("GET, DELETE, OPTIONS"))
        );
    }

    #[test]
    fn any_other_path_is_404() {
        for path in ["/", "/upload-urls", "/Photos", "/photos/x", "/jobs"] {
            assert_eq!(
                route(&Method::GET, path).unwrap_err().status.as_u16(),
                404,
                "{path}"
            );
        }
    }
}
