//! One module per route; each turns a parsed request into a response body or an [`ApiError`](crate::api::error::ApiError).

pub mod complete_uploads;
pub mod issue_upload_url;
pub mod list_exports;
pub mod list_photos;
pub mod remove_photo;
pub mod report_uploads;
pub mod request_export;
