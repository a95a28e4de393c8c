//! The SDK's credentials on the `s3-presign` signer: the current credentials from the provider
//! (which caches and refreshes them), a signing session per request, and what a failure means
//! for the caller (503, never a URL that could not work).

use std::time::SystemTime;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use s3_presign::{PostForm, PostPresigner, Signer, SigningSession, UploadPolicy};

use crate::error::{ApiError, Dependency};

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
        let sdk = client
            .put_object()
            .bucket("qdn-uploads")
            .key(key)
            .content_type("image/heic")
            .content_length(123_456)
            .presigned(
                PresigningConfig::builder()
                    .start_time(at(MAY_24_2013 + 4321))
                    .expires_in(Duration::from_secs(900))
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap();
        let ours_creds = SdkCredentials(creds);
        let session = signing.session(&ours_creds, at(MAY_24_2013 + 4321));
        let ours = s3_presign::presign_put(
            &session,
            &BucketEndpoint::custom("http://127.0.0.1:3900", "qdn-uploads", true).unwrap(),
            key,
            &s3_presign::PutUrlOptions {
                expires_secs: 900,
                content_type: "image/heic",
                content_length: 123_456,
            },
        );
        assert_eq!(ours, sdk.uri());
        assert!(ours.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"));
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
