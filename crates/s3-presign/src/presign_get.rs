//! Presigned GET URLs (SigV4 query-string auth) for private objects, built in one pass into the
//! URL buffer: the canonical request is hashed straight from the URL's own path and query bytes.
//! The same builder makes presigned PUTs whose `Content-Type` and `Content-Length` are signed
//! headers, so S3 refuses any other type or size ([`presign_put`]).

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::endpoint::BucketEndpoint;
use crate::sigv4::{hex32, uri_encode, SigningSession, ALGORITHM};

/// How presigned GETs are made: lifetime and what S3 is asked to answer with.
#[derive(Debug, Clone, Copy)]
pub struct GetUrlOptions<'a> {
    pub expires_secs: u64,
    /// `Cache-Control` for S3 to answer with, e.g. `private, max-age=7200, immutable`.
    pub response_cache_control: Option<&'a str>,
    /// `Content-Disposition` for S3 to answer with, e.g. `inline`.
    pub response_content_disposition: Option<&'a str>,
    /// The SDK's operation marker (`GetObject`). S3 ignores it; sending it keeps our URLs
    /// byte-identical to aws-sdk-s3's `presigned()` output for the same inputs.
    pub x_id: Option<&'a str>,
}

/// Presigns `GET key` in aws-sdk-s3's exact URL layout: `x-id`, the `response-*` overrides, the
/// `X-Amz-*` block, the signature, then the session token (signed, but printed last).
pub fn presign_get(
    session: &SigningSession,
    endpoint: &BucketEndpoint,
    key: &str,
    options: &GetUrlOptions,
) -> String {
    GetPresigner::new(session, endpoint, options).presign(key)
}

/// A presigned PUT of exactly `content_length` bytes of `content_type`: both are signed
/// headers, so the uploader must send them as signed and S3 refuses anything else.
#[derive(Debug, Clone, Copy)]
pub struct PutUrlOptions<'a> {
    pub expires_secs: u64,
    pub content_type: &'a str,
    pub content_length: u64,
    /// The body's SHA-256 (base64): signed as `x-amz-checksum-sha256`, so S3 stores no other
    /// body.
    pub checksum_sha256: Option<&'a str>,
}

/// Presigns `PUT key` in aws-sdk-s3's layout for `put_object().content_type(…)
/// .content_length(…).presigned(…)`.
pub fn presign_put(
    session: &SigningSession,
    endpoint: &BucketEndpoint,
    key: &str,
    options: &PutUrlOptions,
) -> String {
    let length = itoa::Buffer::new()
        .format(options.content_length)
        .to_owned();
    let mut signed = vec![
        ("content-length", length.as_str()),
        ("content-type", options.content_type),
    ];
    if let Some(sha256) = options.checksum_sha256 {
        signed.push(("x-amz-checksum-sha256", sha256));
    }
    GetPresigner::build(
        session,
        endpoint,
        "PUT\n",
        options.expires_secs,
        &[],
        Some("PutObject"),
        &signed,
    )
    .presign(key)
}

/// Presigns many keys with one session and the same options (a `/photos` page): everything but
/// the key (and its version) is encoded once, and the canonical request's constant parts are kept
/// ready to hash.
pub struct GetPresigner<'s> {
    session: &'s SigningSession<'s>,
    /// `GET\n` (or `PUT\n` for [`presign_put`]): the canonical request's first line.
    method_line: &'static str,
    /// `{origin}{path prefix}/`
    url_base: String,
    /// Where the canonical path starts in a URL: right after the origin.
    origin_len: usize,
    /// `?x-id=…&response-cache-control=…&response-content-disposition=…&` (those set), or `?`.
    query_head: String,
    /// `X-Amz-Algorithm=…&X-Amz-Expires=N&X-Amz-SignedHeaders=host&X-Amz-Signature=`
    query_amz: String,
    /// `&X-Amz-Security-Token=…`, or empty.
    token_param: Arc<str>,
    /// The canonical query up to where a `versionId` sorts: `X-Amz-*`, then `response-*`.
    canonical_before_version: String,
    /// The rest of the canonical request: `&x-id=…`, the host header, the payload marker.
    canonical_after_version: String,
}

impl<'s> GetPresigner<'s> {
    pub fn new(
        session: &'s SigningSession<'s>,
        endpoint: &BucketEndpoint,
        req: &GetUrlOptions,
    ) -> Self {
        Self::build(
            session,
            endpoint,
            "GET\n",
            req.expires_secs,
            &[
                ("response-cache-control=", req.response_cache_control),
                (
                    "response-content-disposition=",
                    req.response_content_disposition,
                ),
            ],
            req.x_id,
            &[],
        )
    }

    /// `overrides`: `response-*=` query names with their values, sorted by name (unset ones are
    /// left out). `headers`: signed besides `host`, lower-case names, values as sent.
    fn build(
        session: &'s SigningSession<'s>,
        endpoint: &BucketEndpoint,
        method_line: &'static str,
        expires_secs: u64,
        overrides: &[(&str, Option<&str>)],
        x_id: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Self {
        let mut url_base =
            String::with_capacity(endpoint.origin().len() + endpoint.path().len() + 1);
        url_base.push_str(endpoint.origin());
        url_base.push_str(endpoint.path());
        url_base.push('/');

        let op = x_id;
        let mut x_id = String::new();
        if let Some(op) = op {
            x_id.push_str("x-id=");
            uri_encode(&mut x_id, op, true);
        }
        // `response-a=…&response-b=…`: the same bytes in the URL and in the canonical query.
        let mut responses = String::new();
        for (name, value) in overrides {
            let Some(value) = value else { continue };
            if !responses.is_empty() {
                responses.push('&');
            }
            responses.push_str(name);
            uri_encode(&mut responses, value, true);
        }
        let mut amz_head = String::with_capacity(160);
        amz_head.push_str("X-Amz-Algorithm=");
        amz_head.push_str(ALGORITHM);
        amz_head.push_str("&X-Amz-Credential=");
        uri_encode(&mut amz_head, session.credential(), true);
        amz_head.push_str("&X-Amz-Date=");
        amz_head.push_str(session.amz_date());
        amz_head.push_str("&X-Amz-Expires=");
        amz_head.push_str(itoa::Buffer::new().format(expires_secs));
        let token_param = session.token_query().clone();
        // Every signed header with `host`, sorted by name as the canonical request lists them.
        let mut all_headers = Vec::with_capacity(headers.len() + 1);
        all_headers.extend_from_slice(headers);
        all_headers.push(("host", endpoint.host()));
        all_headers.sort_unstable_by_key(|(name, _)| *name);
        let signed_names = all_headers
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(";");
        let mut signed_param = String::from("&X-Amz-SignedHeaders=");
        uri_encode(&mut signed_param, &signed_names, true);
        let signed_param = signed_param.as_str();

        let mut query_head = String::with_capacity(x_id.len() + responses.len() + 3);
        query_head.push('?');
        for param in [&x_id, &responses].into_iter().filter(|p| !p.is_empty()) {
            query_head.push_str(param);
            query_head.push('&');
        }
        let mut query_amz = String::with_capacity(amz_head.len() + 48);
        query_amz.push_str(&amz_head);
        query_amz.push_str(signed_param);
        query_amz.push_str("&X-Amz-Signature=");

        // The canonical query is sorted by name: `X-Amz-*` (token among them), then lower-case
        // names: `response-*` < `versionId` < `x-id`.
        let mut canonical_before_version =
            String::with_capacity(amz_head.len() + token_param.len() + responses.len() + 32);
        canonical_before_version.push('\n');
        canonical_before_version.push_str(&amz_head);
        canonical_before_version.push_str(&token_param);
        canonical_before_version.push_str(signed_param);
        if !responses.is_empty() {
            canonical_before_version.push('&');
            canonical_before_version.push_str(&responses);
        }
        let mut canonical_after_version = String::with_capacity(x_id.len() + 96);
        if !x_id.is_empty() {
            canonical_after_version.push('&');
            canonical_after_version.push_str(&x_id);
        }
        canonical_after_version.push('\n');
        for (name, value) in &all_headers {
            canonical_after_version.push_str(name);
            canonical_after_version.push(':');
            canonical_after_version.push_str(value.trim());
            canonical_after_version.push('\n');
        }
        canonical_after_version.push('\n');
        canonical_after_version.push_str(&signed_names);
        canonical_after_version.push_str("\nUNSIGNED-PAYLOAD");

        GetPresigner {
            session,
            method_line,
            origin_len: endpoint.origin().len(),
            url_base,
            query_head,
            query_amz,
            token_param,
            canonical_before_version,
            canonical_after_version,
        }
    }

    /// The latest version of `key`.
    pub fn presign(&self, key: &str) -> String {
        self.presign_version(key, None)
    }

    /// `key` at `version_id` (S3's `versionId`), so the URL keeps showing those bytes even after
    /// the key is written again; the latest version when `None`.
    pub fn presign_version(&self, key: &str, version_id: Option<&str>) -> String {
        let mut version = String::new();
        if let Some(id) = version_id {
            version.push_str("versionId=");
            uri_encode(&mut version, id, true);
        }
        let mut url = String::with_capacity(
            self.url_base.len()
                + key.len() * 3
                + self.query_head.len()
                + version.len()
                + self.query_amz.len()
                + 66
                + self.token_param.len(),
        );
        url.push_str(&self.url_base);
        uri_encode(&mut url, key, false);
        let mut hasher = Sha256::new();
        hasher.update(self.method_line.as_bytes());
        hasher.update(&url.as_bytes()[self.origin_len..]);
        hasher.update(self.canonical_before_version.as_bytes());
        if !version.is_empty() {
            hasher.update(b"&");
            hasher.update(version.as_bytes());
        }
        hasher.update(self.canonical_after_version.as_bytes());
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
        url.push_str(&self.query_head);
        if !version.is_empty() {
            url.push_str(&version);
            url.push('&');
        }
        url.push_str(&self.query_amz);
        url.push_str(std::str::from_utf8(&signature).unwrap_or_default());
        url.push_str(&self.token_param);
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::tests::{at, example_creds};
    use crate::sigv4::Signer;

    const MAY_24_2013: u64 = 1_369_353_600;

    #[test]
    fn signs_aws_published_query_string_example() {
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
                response_cache_control: None,
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
}
