//! Method + path → route. Unknown paths are 404, known paths with the wrong method 405.

use lambda_http::http::Method;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    IssueUploadUrl,
    CompleteUploads,
    ListPhotos,
    /// A CORS preflight for a route that takes `methods`.
    Preflight {
        methods: &'static str,
    },
}

pub fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    const UPLOAD_URL_METHODS: &str = "GET, POST";
    const PHOTOS_METHODS: &str = "GET";
    match (path, method) {
        ("/upload-url", &Method::GET) => Ok(Route::IssueUploadUrl),
        ("/upload-url", &Method::POST) => Ok(Route::CompleteUploads),
        ("/upload-url", &Method::OPTIONS) => Ok(Route::Preflight {
            methods: UPLOAD_URL_METHODS,
        }),
        ("/upload-url", _) => Err(ApiError::method_not_allowed("GET, POST, OPTIONS")),
        ("/photos", &Method::GET) => Ok(Route::ListPhotos),
        ("/photos", &Method::OPTIONS) => Ok(Route::Preflight {
            methods: PHOTOS_METHODS,
        }),
        ("/photos", _) => Err(ApiError::method_not_allowed("GET, OPTIONS")),
        _ => Err(ApiError::not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route(&Method::GET, "/upload-url"),
            Ok(Route::IssueUploadUrl)
        );
        assert_eq!(
            route(&Method::POST, "/upload-url"),
            Ok(Route::CompleteUploads)
        );
        assert_eq!(route(&Method::GET, "/photos"), Ok(Route::ListPhotos));
        assert_eq!(
            route(&Method::OPTIONS, "/photos"),
            Ok(Route::Preflight { methods: "GET" })
        );
        let e = route(&Method::DELETE, "/upload-url").unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.allow),
            (405, Some("GET, POST, OPTIONS"))
        );
        assert_eq!(
            route(&Method::POST, "/photos").unwrap_err().status.as_u16(),
            405
        );
        for path in ["/", "/upload-urls", "/Photos", "/photos/x", "/jobs"] {
            assert_eq!(
                route(&Method::GET, path).unwrap_err().status.as_u16(),
                404,
                "{path}"
            );
        }
    }
}
