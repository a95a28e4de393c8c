//! S3 presigning with SigV4, and nothing else: no I/O, no async runtime, no AWS SDK.
//!
//! - [`post_policy`]: presigned **POST** policies for browser uploads, whose conditions (exact key,
//!   content type, size range, expiry, metadata) S3 itself enforces. The Rust AWS SDK has no
//!   presigned POST (aws-sdk-rust#863). [`PostPresigner`] keeps the policy's constant prefix
//!   (with the session token) hashed, so a token costs nothing per upload.
//! - [`presign_get`]: presigned GET URLs (and [`presign_put`]: PUTs of one exact type and size),
//!   byte-identical to aws-sdk-s3's `presigned()` output.
//! - [`sigv4`]: signing keys derived once per day and kept inside a keyed HMAC state, so a
//!   signature costs one HMAC over the string to sign; [`sigv4::Credentials`] is the only thing a
//!   caller implements (or use [`sigv4::StaticCredentials`]).
//! - [`endpoint`]: the bucket's public address, normalised as browsers send `Host`.
//! - [`utc`]: the date formats SigV4 and policies need, without a date library.
//!
//! ```
//! use std::time::SystemTime;
//! use s3_presign::{BucketEndpoint, GetUrlOptions, Signer, StaticCredentials, presign_get};
//!
//! let signer = Signer::new("eu-west-1");
//! let creds = StaticCredentials::new("AKIDEXAMPLE", "secret");
//! let session = signer.session(&creds, SystemTime::now());
//! let endpoint = BucketEndpoint::aws("my-bucket", "eu-west-1");
//! let options = GetUrlOptions { expires_secs: 600, response_cache_control: None, response_content_disposition: None, x_id: None };
//! let url = presign_get(&session, &endpoint, "photos/a.jpg", &options);
//! assert!(url.starts_with("https://my-bucket.s3.eu-west-1.amazonaws.com/photos/a.jpg?X-Amz-Algorithm="));
//! ```

pub mod endpoint;
pub mod post_policy;
pub mod presign_get;
pub mod sigv4;
pub mod utc;

pub use endpoint::BucketEndpoint;
pub use post_policy::{presign_post, PostForm, PostPresigner, UploadPolicy};
pub use presign_get::{presign_get, presign_put, GetPresigner, GetUrlOptions, PutUrlOptions};
pub use sigv4::{Credentials, Signer, SigningSession, StaticCredentials};
pub use utc::UtcTime;
