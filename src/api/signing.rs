//! The SDK's credentials on the `s3-presign` signer: the current credentials from the provider
//! (which caches and refreshes them), a signing session per request, and what a failure means
//! for the caller (503, never a URL that could not work).

use std::time::SystemTime;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use s3_presign::{PostForm, PostPresigner, Signer, SigningSession, UploadPolicy};

use crate::api::error::{ApiError, Dependency};

/// The SDK's `Credentials` (an `Arc` over zeroized fields) as the signer's credentials: the key
/// cache keeps a clone of the `Arc`, never a copy of the secret.
#[derive(Clone, Debug)]
pub struct SdkCredentials(pub aws_credential_types::Credentials);

impl s3_presign::Credentials for SdkCredentials {
    fn access_key_id(&self) -> &str {
        self.0.access_key_id()
    }
    fn secret_access_key(&self) -> &str {
        self.0.secret_access_key()
    }
    fn session_token(&self) -> Option<&str> {
        self.0.session_token()
    }
    fn expiry(&self) -> Option<SystemTime> {
        self.0.expiry()
    }
}

/// Credentials and the signer, built once at cold start.
pub struct Signing {
    credentials: SharedCredentialsProvider,
    signer: Signer<SdkCredentials>,
    post: PostPresigner,
}

impl Signing {
    pub fn new(credentials: SharedCredentialsProvider, region: &str) -> Self {
        Signing {
            credentials,
            signer: Signer::new(region),
            post: PostPresigner::new(),
        }
    }

    /// The current credentials.
    pub async fn credentials(&self) -> Result<SdkCredentials, ApiError> {
        self.credentials
            .provide_credentials()
            .await
            .map(SdkCredentials)
            .map_err(|err| {
                tracing::error!(error = %aws_sdk_s3::error::DisplayErrorContext(&err), "no credentials to sign with");
                ApiError::unavailable(Dependency::Credentials)
            })
    }

    pub fn session<'c>(&self, creds: &'c SdkCredentials, now: SystemTime) -> SigningSession<'c> {
        self.signer.session(creds, now)
    }

    /// A session signing at the start of `now`'s [`CacheWindow`], and the `X-Amz-Expires` its
    /// GET URLs get: every page signed inside one window carries the same URLs.
    pub fn window_session<'c>(
        &self,
        creds: &'c SdkCredentials,
        now: SystemTime,
        window_secs: u64,
        ttl_secs: u64,
    ) -> Result<(SigningSession<'c>, u64), ApiError> {
        let window = CacheWindow::containing(now, window_secs, ttl_secs);
        let session = self.session(creds, window.signed_at);
        let expires_secs = window.validity_secs(&session, now)?;
        Ok((session, expires_secs))
    }

    /// A presigned POST form; the policy's constant prefix is hashed once per signing key.
    pub fn presign_post(&self, session: &SigningSession, policy: &UploadPolicy) -> PostForm {
        self.post.presign(session, policy)
    }
}

/// How long a signature made in `session` may live: `ttl_secs`, cut to the credentials' expiry;
/// 503 when they have already expired (a URL that cannot work is never handed out).
pub fn validity_secs(session: &SigningSession, ttl_secs: u64) -> Result<u64, ApiError> {
    session.validity_secs(ttl_secs).ok_or_else(|| {
        tracing::error!("credentials expired before signing");
        ApiError::unavailable(Dependency::Credentials)
    })
}

/// When a page of photo URLs is signed and how long its URLs live, chosen so that every page
/// handed out inside one `window_secs`-long window carries byte-identical URLs: the browser then
/// serves a refreshed strip from its HTTP cache instead of downloading every image again.
///
/// The arithmetic, with W the window and TTL the promised lifetime (`PHOTO_URL_TTL_SECS`):
/// - signing time t0 = now - (now mod W), so t0 <= now < t0 + W;
/// - `X-Amz-Expires` = W + TTL, so the URL works until t0 + W + TTL, which is after now + TTL for
///   every `now` inside the window. Every URL has at least TTL left when it is handed out, and at
///   most TTL + W.
///
/// t0 and W + TTL are the same for every request in the window, and so is everything else that is
/// signed (key, version, credentials, overrides): so are the URLs. W divides a day (config), so t0
/// is always on the same UTC day as `now` and the day's signing key is the one POSTs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheWindow {
    pub signed_at: SystemTime,
    pub expires_secs: u64,
}

impl CacheWindow {
    pub fn containing(now: SystemTime, window_secs: u64, ttl_secs: u64) -> Self {
        let now_secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let window_secs = window_secs.max(1);
        CacheWindow {
            signed_at: SystemTime::UNIX_EPOCH
                + std::time::Duration::from_secs(now_secs - now_secs % window_secs),
            expires_secs: window_secs + ttl_secs,
        }
    }

    /// `X-Amz-Expires` for URLs signed in `session` (made at `signed_at`): the window's, cut to
    /// the credentials' expiry (the same cut for the whole window). 503 when the URL would already
    /// be dead at `now`.
    pub fn validity_secs(
        &self,
        session: &SigningSession,
        now: SystemTime,
    ) -> Result<u64, ApiError> {
        let secs = validity_secs(session, self.expires_secs)?;
        let dies = self.signed_at + std::time::Duration::from_secs(secs);
        if dies <= now {
            tracing::error!("credentials expire before a photo URL could be used");
            return Err(ApiError::unavailable(Dependency::Credentials));
        }
        Ok(secs)
    }
}

/// `Cache-Control` for S3 to answer photo URLs with: what a URL shows never changes (it is pinned
/// to a version, a thumbnail's key names its version), so the browser may keep it for as long as
/// the URL itself lives and never revalidate it.
pub fn photo_cache_control(expires_secs: u64) -> String {
    format!("private, max-age={expires_secs}, immutable")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use s3_presign::{BucketEndpoint, GetPresigner, GetUrlOptions};
    use std::time::{Duration, UNIX_EPOCH};

    const MAY_24_2013: u64 = 1_369_353_600;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// Sessions come from the credentials passed in; the provider is not asked in these tests.
    fn signing(region: &str) -> Signing {
        let unused = Credentials::new("unused", "unused", None, None, "t");
        Signing::new(SharedCredentialsProvider::new(unused), region)
    }

    /// The SDK's own presigner, with the same credentials, clock and request.
    async fn sdk_url(
        creds: &Credentials,
        endpoint: Option<&str>,
        key: &str,
        version: Option<&str>,
    ) -> String {
        use aws_sdk_s3::config::{BehaviorVersion, Region};
        use aws_sdk_s3::presigning::PresigningConfig;
        let mut conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(creds.clone());
        if let Some(endpoint) = endpoint {
            conf = conf.endpoint_url(endpoint).force_path_style(true);
        }
        let client = aws_sdk_s3::Client::from_conf(conf.build());
        let presigning = PresigningConfig::builder()
            .start_time(at(MAY_24_2013 + 4321))
            .expires_in(Duration::from_secs(3600))
            .build()
            .unwrap();
        let req = client
            .get_object()
            .bucket("qdn-uploads")
            .key(key)
            .set_version_id(version.map(str::to_owned))
            .response_cache_control("private, max-age=3600, immutable")
            .response_content_disposition("inline");
        req.presigned(presigning).await.unwrap().uri().to_owned()
    }

    #[tokio::test]
    async fn photo_urls_are_byte_identical_to_the_sdk_presigner() {
        let signing = signing("eu-west-1");
        let keys = [
            "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg",
            "jobs/j 2/odd+name=ü.png",
        ];
        let plain = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", None, None, "t");
        let with_token = Credentials::new(
            "AKIDEXAMPLE",
            "secret/key+x",
            Some("IQoJb3Jp/Z2luX2Vj+EHsa==".into()),
            None,
            "t",
        );
        for creds in [plain, with_token] {
            let ours_creds = SdkCredentials(creds.clone());
            let session = signing.session(&ours_creds, at(MAY_24_2013 + 4321));
            for (endpoint, ours_endpoint) in [
                (None, BucketEndpoint::aws("qdn-uploads", "eu-west-1")),
                (
                    Some("http://127.0.0.1:3900"),
                    BucketEndpoint::custom("http://127.0.0.1:3900", "qdn-uploads", true).unwrap(),
                ),
            ] {
                let presigner = GetPresigner::new(
                    &session,
                    &ours_endpoint,
                    &GetUrlOptions {
                        expires_secs: 3600,
                        response_cache_control: Some(&photo_cache_control(3600)),
                        response_content_disposition: Some("inline"),
                        x_id: Some("GetObject"),
                    },
                );
                for key in keys {
                    for version in [
                        None,
                        Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"),
                    ] {
                        let ours = presigner.presign_version(key, version);
                        assert_eq!(ours, sdk_url(&creds, endpoint, key, version).await);
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn put_urls_are_byte_identical_to_the_sdk_presigner() {
        use aws_sdk_s3::config::{BehaviorVersion, Region};
        use aws_sdk_s3::presigning::PresigningConfig;
        let signing = signing("eu-west-1");
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "secret/key+x",
            Some("IQoJb3Jp/Z2luX2Vj+EHsa==".into()),
            None,
            "t",
        );
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(creds.clone())
            .endpoint_url("http://127.0.0.1:3900")
            .force_path_style(true);
        let client = aws_sdk_s3::Client::from_conf(conf.build());
        let key = "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.heic";
        let ours_creds = SdkCredentials(creds);
        let session = signing.session(&ours_creds, at(MAY_24_2013 + 4321));
        let sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        for checksum in [None, Some(sha256)] {
            let sdk = client
                .put_object()
                .bucket("qdn-uploads")
                .key(key)
                .content_type("image/heic")
                .content_length(123_456)
                .set_checksum_sha256(checksum.map(str::to_owned))
                .presigned(
                    PresigningConfig::builder()
                        .start_time(at(MAY_24_2013 + 4321))
                        .expires_in(Duration::from_secs(900))
                        .build()
                        .unwrap(),
                )
                .await
                .unwrap();
            let ours = s3_presign::presign_put(
                &session,
                &BucketEndpoint::custom("http://127.0.0.1:3900", "qdn-uploads", true).unwrap(),
                key,
                &s3_presign::PutUrlOptions {
                    expires_secs: 900,
                    content_type: "image/heic",
                    content_length: 123_456,
                    checksum_sha256: checksum,
                },
            );
            assert_eq!(ours, sdk.uri(), "{checksum:?}");
            let signed = match checksum {
                None => "content-length%3Bcontent-type%3Bhost",
                Some(_) => "content-length%3Bcontent-type%3Bhost%3Bx-amz-checksum-sha256",
            };
            assert!(ours.contains(&format!("X-Amz-SignedHeaders={signed}&")));
        }
    }

    #[test]
    fn every_url_of_a_window_is_signed_alike_and_lives_at_least_the_ttl() {
        const W: u64 = 3600;
        const TTL: u64 = 900;
        let start = MAY_24_2013 + 7 * W;
        let first = CacheWindow::containing(at(start), W, TTL);
        for offset in [0, 1, 1799, W - 1] {
            let now = start + offset;
            let window = CacheWindow::containing(at(now), W, TTL);
            assert_eq!(window, first, "{offset} s into the window");
            let dies = start + window.expires_secs;
            assert!(dies >= now + TTL, "{offset}: only {} s left", dies - now);
            assert!(dies - now <= TTL + W);
        }
        assert_eq!(first.signed_at, at(start));
        let next = CacheWindow::containing(at(start + W), W, TTL);
        assert_eq!(next.signed_at, at(start + W));
        // A window of one second is signing at the current second, with the TTL plus that second.
        assert_eq!(
            CacheWindow::containing(at(start + 17), 1, TTL),
            CacheWindow {
                signed_at: at(start + 17),
                expires_secs: TTL + 1
            }
        );
    }

    #[test]
    fn a_window_is_cut_to_the_credentials_and_never_hands_out_a_dead_url() {
        let signing = signing("us-east-1");
        let window = CacheWindow::containing(at(7200 + 600), 3600, 900);
        let expiring = |secs| {
            SdkCredentials(Credentials::new(
                "AK",
                "SK",
                Some("t".into()),
                Some(at(secs)),
                "t",
            ))
        };
        // Credentials good for a day: the whole window plus the TTL.
        let creds = expiring(86_400);
        let session = signing.session(&creds, window.signed_at);
        assert_eq!(window.validity_secs(&session, at(7200 + 600)), Ok(4500));
        // Expiring 20 minutes after the window opened: cut, and the same cut all window long.
        let creds = expiring(7200 + 1200);
        let session = signing.session(&creds, window.signed_at);
        assert_eq!(window.validity_secs(&session, at(7200 + 600)), Ok(1200));
        // Expired between the window's start and now: no URL.
        let err = window.validity_secs(&session, at(7200 + 1200)).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.code),
            (503, "credentials_unavailable")
        );
    }

    #[test]
    fn expired_credentials_sign_nothing() {
        let signing = signing("us-east-1");
        let creds = SdkCredentials(Credentials::new(
            "AK",
            "SK",
            Some("t".into()),
            Some(at(1000)),
            "t",
        ));
        let err = validity_secs(&signing.session(&creds, at(1000)), 900).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.code),
            (503, "credentials_unavailable")
        );
        assert_eq!(
            validity_secs(&signing.session(&creds, at(400)), 900),
            Ok(600)
        );
    }
}
