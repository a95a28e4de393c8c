//! Presigned GET URLs (SigV4 query-string auth) for private objects, built in one pass into the
//! URL buffer: the canonical request is hashed straight from the URL's own path and query bytes.

use sha2::{Digest, Sha256};

use crate::endpoint::BucketEndpoint;
use crate::sigv4::{hex32, SigningSession, ALGORITHM};

/// What a presigned GET asks for.
#[derive(Debug, Clone, Copy)]
pub struct GetObjectUrl<'a> {
    pub key: &'a str,
    pub expires_secs: u64,
    /// `Content-Disposition` for S3 to answer with, e.g. `inline`.
    pub response_content_disposition: Option<&'a str>,
    /// The SDK's operation marker (`GetObject`). S3 ignores it; sending it keeps our URLs
    /// byte-identical to aws-sdk-s3's `presigned()` output for the same inputs.
    pub x_id: Option<&'a str>,
}

/// Presigns `req` in aws-sdk-s3's exact URL layout: `x-id`, the `response-*` override, the
/// `X-Amz-*` block, the signature, then the session token (signed, but printed last).
pub fn presign_get(
    session: &SigningSession,
    endpoint: &BucketEndpoint,
    req: &GetObjectUrl,
) -> String {
    let token_len = session.session_token().map_or(0, |t| t.len() * 3);
    let mut url =
        String::with_capacity(360 + endpoint.origin().len() + req.key.len() * 3 + token_len);
    url.push_str(endpoint.origin());
    let path_start = url.len();
    url.push_str(endpoint.path());
    url.push('/');
    uri_encode(&mut url, req.key, false);
    let path = path_start..url.len();
    url.push('?');
    let x_id = req.x_id.map(|op| push_param(&mut url, "x-id=", op));
    let disposition = req
        .response_content_disposition
        .map(|d| push_param(&mut url, "response-content-disposition=", d));
    let amz_start = url.len();
    url.push_str("X-Amz-Algorithm=");
    url.push_str(ALGORITHM);
    url.push_str("&X-Amz-Credential=");
    uri_encode(&mut url, session.credential(), true);
    url.push_str("&X-Amz-Date=");
    url.push_str(session.amz_date());
    url.push_str("&X-Amz-Expires=");
    url.push_str(itoa::Buffer::new().format(req.expires_secs));
    let amz_head = amz_start..url.len();
    url.push_str("&X-Amz-SignedHeaders=host");
    let signed_headers = amz_head.end..url.len();
    // Filled in once the canonical request (which covers what follows it) is hashed.
    url.push_str("&X-Amz-Signature=");
    let signature_at = url.len()..url.len() + 64;
    url.push_str(SIGNATURE_PLACEHOLDER);
    let token = session.session_token().map(|token| {
        let start = url.len() + 1;
        url.push_str("&X-Amz-Security-Token=");
        uri_encode(&mut url, token, true);
        start..url.len()
    });

    // The canonical query is sorted by name: `X-Amz-*` (token among them) before lower-case names.
    let bytes = url.as_bytes();
    let mut hasher = Sha256::new();
    hasher.update(b"GET\n");
    hasher.update(&bytes[path]);
    hasher.update(b"\n");
    hasher.update(&bytes[amz_head]);
    if let Some(token) = token {
        hasher.update(b"&");
        hasher.update(&bytes[token]);
    }
    hasher.update(&bytes[signed_headers]);
    for param in [disposition, x_id].into_iter().flatten() {
        hasher.update(b"&");
        hasher.update(&bytes[param]);
    }
    hasher.update(b"\nhost:");
    hasher.update(endpoint.host().as_bytes());
    hasher.update(b"\n\nhost\nUNSIGNED-PAYLOAD");
    let canonical_hash = hex32(&hasher.finalize().into());

    let signature = session.sign_parts(&[
        ALGORITHM.as_bytes(),
        b"\n",
        session.amz_date().as_bytes(),
        b"\n",
        session.scope().as_bytes(),
        b"\n",
        &canonical_hash,
    ]);
    url.replace_range(
        signature_at,
        std::str::from_utf8(&signature).unwrap_or(SIGNATURE_PLACEHOLDER),
    );
    url
}

const SIGNATURE_PLACEHOLDER: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends `name=value&` (value URI-encoded) and returns the range of `name=value`.
fn push_param(url: &mut String, name_eq: &str, value: &str) -> std::ops::Range<usize> {
    let start = url.len();
    url.push_str(name_eq);
    uri_encode(url, value, true);
    let end = url.len();
    url.push('&');
    start..end
}

/// SigV4 URI encoding: every byte but `A-Za-z0-9-._~` as `%XX`; `/` too when `encode_slash`.
fn uri_encode(out: &mut String, s: &str, encode_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (b == b'/' && !encode_slash)
        {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::tests::{at, example_creds};
    use crate::sigv4::Signer;
    use aws_credential_types::Credentials;

    const MAY_24_2013: u64 = 1_369_353_600;

    #[test]
    fn signs_the_aws_published_example() {
        // AmazonS3 API reference, "Authenticating Requests: Using Query Parameters": GET test.txt.
        let signer = Signer::new("us-east-1");
        let creds = example_creds(None);
        let session = signer.session(&creds, at(MAY_24_2013));
        let endpoint =
            BucketEndpoint::custom("https://s3.amazonaws.com", "examplebucket", false).unwrap();
        let url = presign_get(
            &session,
            &endpoint,
            &GetObjectUrl {
                key: "test.txt",
                expires_secs: 86_400,
                response_content_disposition: None,
                x_id: None,
            },
        );
        assert_eq!(
            url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    /// The SDK's own presigner, with the same credentials, clock and request.
    async fn sdk_url(
        creds: &Credentials,
        endpoint: Option<&str>,
        key: &str,
        expires: u64,
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
            .expires_in(std::time::Duration::from_secs(expires))
            .build()
            .unwrap();
        let req = client
            .get_object()
            .bucket("qdn-uploads")
            .key(key)
            .response_content_disposition("inline");
        req.presigned(presigning).await.unwrap().uri().to_owned()
    }

    #[tokio::test]
    async fn byte_identical_to_the_sdk_presigner() {
        let signer = Signer::new("eu-west-1");
        let keys = [
            "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg",
            "jobs/j 2/odd+name=ü.png",
        ];
        let with_token = Credentials::new(
            "AKIDEXAMPLE",
            "secret/key+x",
            Some("IQoJb3Jp/Z2luX2Vj+EHsa==".into()),
            None,
            "t",
        );
        for creds in [example_creds(None), with_token] {
            let session = signer.session(&creds, at(MAY_24_2013 + 4321));
            for (endpoint, ours_endpoint) in [
                (None, BucketEndpoint::aws("qdn-uploads", "eu-west-1")),
                (
                    Some("http://127.0.0.1:3900"),
                    BucketEndpoint::custom("http://127.0.0.1:3900", "qdn-uploads", true).unwrap(),
                ),
            ] {
                for key in keys {
                    let ours = presign_get(
                        &session,
                        &ours_endpoint,
                        &GetObjectUrl {
                            key,
                            expires_secs: 3600,
                            response_content_disposition: Some("inline"),
                            x_id: Some("GetObject"),
                        },
                    );
                    assert_eq!(ours, sdk_url(&creds, endpoint, key, 3600).await);
                }
            }
        }
    }

    #[test]
    fn uri_encoding_follows_sigv4() {
        let mut out = String::new();
        uri_encode(&mut out, "jobs/a b+c/ü~.-_", false);
        assert_eq!(out, "jobs/a%20b%2Bc/%C3%BC~.-_");
        out.clear();
        uri_encode(&mut out, "a/b=", true);
        assert_eq!(out, "a%2Fb%3D");
    }
}
