//! Presigned GET URLs (SigV4 query-string auth) for private objects, built in one pass into the
//! URL buffer: the canonical request is hashed straight from the URL's own path and query bytes.

use sha2::{Digest, Sha256};

use crate::endpoint::BucketEndpoint;
use crate::sigv4::{hex32, SigningSession, ALGORITHM};

/// How presigned GETs are made: lifetime and what S3 is asked to answer with.
#[derive(Debug, Clone, Copy)]
pub struct GetUrlOptions<'a> {
    pub expires_secs: u64,
    /// `Content-Disposition` for S3 to answer with, e.g. `inline`.
    pub response_content_disposition: Option<&'a str>,
    /// The SDK's operation marker (`GetObject`). S3 ignores it; sending it keeps our URLs
    /// byte-identical to aws-sdk-s3's `presigned()` output for the same inputs.
    pub x_id: Option<&'a str>,
}

/// Presigns `GET key` in aws-sdk-s3's exact URL layout: `x-id`, the `response-*` override, the
/// `X-Amz-*` block, the signature, then the session token (signed, but printed last).
pub fn presign_get(
    session: &SigningSession,
    endpoint: &BucketEndpoint,
    key: &str,
    options: &GetUrlOptions,
) -> String {
    GetPresigner::new(session, endpoint, options).presign(key)
}

/// Presigns many keys with one session and the same options (a `/photos` page): everything but
/// the key is encoded once, and the canonical request's constant tail is kept ready to hash.
pub struct GetPresigner<'s> {
    session: &'s SigningSession<'s>,
    /// `{origin}{path prefix}/`
    url_base: String,
    /// Where the canonical path starts in a URL: right after the origin.
    origin_len: usize,
    /// `?x-id=…&response-content-disposition=…&X-Amz-Algorithm=…&X-Amz-Expires=N&X-Amz-SignedHeaders=host&X-Amz-Signature=`
    query_before_signature: String,
    /// `&X-Amz-Security-Token=…`, or empty.
    token_param: String,
    /// Everything of the canonical request after the path.
    canonical_tail: String,
}

impl<'s> GetPresigner<'s> {
    pub fn new(
        session: &'s SigningSession<'s>,
        endpoint: &BucketEndpoint,
        req: &GetUrlOptions,
    ) -> Self {
        let mut url_base =
            String::with_capacity(endpoint.origin().len() + endpoint.path().len() + 1);
        url_base.push_str(endpoint.origin());
        url_base.push_str(endpoint.path());
        url_base.push('/');

        let mut x_id = String::new();
        if let Some(op) = req.x_id {
            x_id.push_str("x-id=");
            uri_encode(&mut x_id, op, true);
        }
        let mut disposition = String::new();
        if let Some(d) = req.response_content_disposition {
            disposition.push_str("response-content-disposition=");
            uri_encode(&mut disposition, d, true);
        }
        let mut amz_head = String::with_capacity(160);
        amz_head.push_str("X-Amz-Algorithm=");
        amz_head.push_str(ALGORITHM);
        amz_head.push_str("&X-Amz-Credential=");
        uri_encode(&mut amz_head, session.credential(), true);
        amz_head.push_str("&X-Amz-Date=");
        amz_head.push_str(session.amz_date());
        amz_head.push_str("&X-Amz-Expires=");
        amz_head.push_str(itoa::Buffer::new().format(req.expires_secs));
        let mut token_param = String::new();
        if let Some(token) = session.session_token() {
            token_param.push_str("&X-Amz-Security-Token=");
            uri_encode(&mut token_param, token, true);
        }
        const SIGNED_HEADERS: &str = "&X-Amz-SignedHeaders=host";

        let mut query_before_signature =
            String::with_capacity(x_id.len() + disposition.len() + amz_head.len() + 64);
        query_before_signature.push('?');
        for param in [&x_id, &disposition].into_iter().filter(|p| !p.is_empty()) {
            query_before_signature.push_str(param);
            query_before_signature.push('&');
        }
        query_before_signature.push_str(&amz_head);
        query_before_signature.push_str(SIGNED_HEADERS);
        query_before_signature.push_str("&X-Amz-Signature=");

        // The canonical query is sorted by name: `X-Amz-*` (token among them) before lower-case names.
        let mut canonical_tail = String::with_capacity(amz_head.len() + token_param.len() + 160);
        canonical_tail.push('\n');
        canonical_tail.push_str(&amz_head);
        canonical_tail.push_str(&token_param);
        canonical_tail.push_str(SIGNED_HEADERS);
        for param in [&disposition, &x_id].into_iter().filter(|p| !p.is_empty()) {
            canonical_tail.push('&');
            canonical_tail.push_str(param);
        }
        canonical_tail.push_str("\nhost:");
        canonical_tail.push_str(endpoint.host());
        canonical_tail.push_str("\n\nhost\nUNSIGNED-PAYLOAD");

        GetPresigner {
            session,
            origin_len: endpoint.origin().len(),
            url_base,
            query_before_signature,
            token_param,
            canonical_tail,
        }
    }

    pub fn presign(&self, key: &str) -> String {
        let mut url = String::with_capacity(
            self.url_base.len()
                + key.len() * 3
                + self.query_before_signature.len()
                + 64
                + self.token_param.len(),
        );
        url.push_str(&self.url_base);
        uri_encode(&mut url, key, false);
        let mut hasher = Sha256::new();
        hasher.update(b"GET\n");
        hasher.update(&url.as_bytes()[self.origin_len..]);
        hasher.update(self.canonical_tail.as_bytes());
        let canonical_hash = hex32(&hasher.finalize().into());
        let signature = self.session.sign_parts(&[
            ALGORITHM.as_bytes(),
            b"\n",
            self.session.amz_date().as_bytes(),
            b"\n",
            self.session.scope().as_bytes(),
            b"\n",
            &canonical_hash,
        ]);
        url.push_str(&self.query_before_signature);
        url.push_str(std::str::from_utf8(&signature).unwrap_or_default());
        url.push_str(&self.token_param);
        url
    }
}

/// Bytes SigV4 leaves unencoded: `A-Za-z0-9-._~`, and `/` in paths (`UNRESERVED[b] == 2`).
const UNRESERVED: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_' || c == b'~' {
            table[b] = 1;
        } else if c == b'/' {
            table[b] = 2;
        }
        b += 1;
    }
    table
};

/// SigV4 URI encoding: every byte but `A-Za-z0-9-._~` as `%XX`; `/` too when `encode_slash`.
/// Runs of bytes that need no encoding are copied as one slice (tokens are ~1 KB of them).
pub(crate) fn uri_encode(out: &mut String, s: &str, encode_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let keep_slash = if encode_slash { 1 } else { 2 };
    let mut run_start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let class = UNRESERVED[usize::from(b)];
        if class == 1 || class == keep_slash {
            continue;
        }
        // A non-empty run is all ASCII, so its ends are char boundaries even in UTF-8 keys.
        if run_start < i {
            out.push_str(&s[run_start..i]);
        }
        let escaped = [b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]];
        out.push_str(std::str::from_utf8(&escaped).unwrap_or_default());
        run_start = i + 1;
    }
    out.push_str(&s[run_start..]);
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
            "test.txt",
            &GetUrlOptions {
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
                        key,
                        &GetUrlOptions {
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
