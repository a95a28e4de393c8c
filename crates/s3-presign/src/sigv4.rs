//! SigV4 primitives shared by the POST-policy signer and the GET presigner: signing-key derivation,
//! a per-day key cache, and a per-request [`SigningSession`] that holds everything both signers need.
//!
//! Pure: credentials and the clock are passed in; nothing here does I/O.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

use crate::utc::UtcTime;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "s3";

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// What signing needs of a credential set. The key cache keeps a clone of the credentials it
/// derived from, so implement this on something cheap to clone that does not copy the secret
/// (the AWS SDK's `Credentials` is an `Arc` over zeroized fields: wrap it in a newtype).
pub trait Credentials: Clone {
    fn access_key_id(&self) -> &str;
    fn secret_access_key(&self) -> &str;
    fn session_token(&self) -> Option<&str>;
    /// When the credentials stop working; signatures are never made to outlive them.
    fn expiry(&self) -> Option<SystemTime>;
}

/// Credentials held as plain strings: for tools, tests and long-term keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub expiry: Option<SystemTime>,
}

impl StaticCredentials {
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        StaticCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
            expiry: None,
        }
    }

    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    pub fn with_expiry(mut self, expiry: SystemTime) -> Self {
        self.expiry = Some(expiry);
        self
    }
}

impl Credentials for StaticCredentials {
    fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
    fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
    fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
    fn expiry(&self) -> Option<SystemTime> {
        self.expiry
    }
}

/// Derives SigV4 signing keys for one region and keeps the current day's key, already loaded
/// into an HMAC state, so each signature costs one HMAC over the string to sign.
pub struct Signer<C> {
    region: String,
    cached: Mutex<Option<CachedKey<C>>>,
}

struct CachedKey<C> {
    id: u64,
    creds: C,
    date: [u8; 8],
    mac: HmacSha256,
    token_query: Arc<str>,
}

/// Every derived key gets an id no other key (of any `Signer`) shares, so what is built from a
/// session (a POST policy's constant prefix) can be cached under it.
static NEXT_KEY_ID: AtomicU64 = AtomicU64::new(1);

impl<C: Credentials> Signer<C> {
    pub fn new(region: impl Into<String>) -> Self {
        Signer {
            region: region.into(),
            cached: Mutex::new(None),
        }
    }

    /// Everything needed to sign requests at `now` with `creds`.
    pub fn session<'c>(&self, creds: &'c C, now: SystemTime) -> SigningSession<'c> {
        let now = UtcTime::from_system_time(now);
        let date = now.date_stamp();
        let (key_id, mac, token_query) = self.keyed_mac(creds, &date);
        let date = std::str::from_utf8(&date).unwrap_or_default();
        let mut credential = String::with_capacity(creds.access_key_id().len() + 48);
        credential.push_str(creds.access_key_id());
        credential.push('/');
        let scope_start = credential.len();
        for part in [date, "/", &self.region, "/", SERVICE, "/aws4_request"] {
            credential.push_str(part);
        }
        SigningSession {
            key_id,
            session_token: creds.session_token(),
            token_query,
            expiry: creds
                .expiry()
                .map(|t| UtcTime::from_system_time(t).unix_secs),
            now,
            amz_date: now.amz_date(),
            credential,
            scope_start,
            mac,
        }
    }

    fn keyed_mac(&self, creds: &C, date: &[u8; 8]) -> (u64, HmacSha256, Arc<str>) {
        // A poisoned lock only means another request panicked mid-update; the slot is still a valid
        // cache entry or None, so carry on rather than fail every later request.
        let mut slot = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hit) = slot.as_ref().filter(|c| {
            c.date == *date
                && c.creds.access_key_id() == creds.access_key_id()
                && c.creds.secret_access_key() == creds.secret_access_key()
                // Not part of the key, but of what is cached under its id.
                && c.creds.session_token() == creds.session_token()
        }) {
            return (hit.id, hit.mac.clone(), hit.token_query.clone());
        }
        let key = derive_signing_key(creds.secret_access_key(), date, &self.region, SERVICE);
        let mac = new_mac(&key);
        let id = NEXT_KEY_ID.fetch_add(1, Ordering::Relaxed);
        let mut token_query = String::new();
        if let Some(token) = creds.session_token() {
            token_query.push_str("&X-Amz-Security-Token=");
            uri_encode(&mut token_query, token, true);
        }
        let token_query: Arc<str> = token_query.into();
        *slot = Some(CachedKey {
            id,
            creds: creds.clone(),
            date: *date,
            mac: mac.clone(),
            token_query: token_query.clone(),
        });
        (id, mac, token_query)
    }
}

/// One request's signing state: the time, the credential scope and the keyed HMAC.
pub struct SigningSession<'c> {
    /// Names the signing key, the access key id and the session token: the same id, the same three.
    key_id: u64,
    session_token: Option<&'c str>,
    /// `&X-Amz-Security-Token=…` URI-encoded (empty without a token), encoded once per key.
    token_query: Arc<str>,
    /// The credentials' expiry, in Unix seconds.
    expiry: Option<u64>,
    now: UtcTime,
    amz_date: [u8; 16],
    credential: String,
    scope_start: usize,
    mac: HmacSha256,
}

impl SigningSession<'_> {
    pub fn now(&self) -> UtcTime {
        self.now
    }

    /// `20151229T000000Z`
    pub fn amz_date(&self) -> &str {
        std::str::from_utf8(&self.amz_date).unwrap_or_default()
    }

    /// `AKID/20151229/us-east-1/s3/aws4_request`, the `x-amz-credential` value.
    pub fn credential(&self) -> &str {
        &self.credential
    }

    /// `20151229/us-east-1/s3/aws4_request`
    pub fn scope(&self) -> &str {
        &self.credential[self.scope_start..]
    }

    pub fn session_token(&self) -> Option<&str> {
        self.session_token
    }

    /// Seconds a signature made now may stay valid: `ttl_secs`, cut short to the credentials' own
    /// expiry (a URL outliving its credentials would fail at S3 anyway, confusingly). `None` when
    /// the credentials have already expired.
    pub fn validity_secs(&self, ttl_secs: u64) -> Option<u64> {
        let Some(expiry) = self.expiry else {
            return Some(ttl_secs);
        };
        let left = expiry
            .checked_sub(self.now.unix_secs)
            .filter(|&left| left > 0)?;
        Some(ttl_secs.min(left))
    }

    /// `&X-Amz-Security-Token=…` for a query string, or empty.
    pub fn token_query(&self) -> &Arc<str> {
        &self.token_query
    }

    pub(crate) fn key_id(&self) -> u64 {
        self.key_id
    }

    /// The day's signing key, loaded into an HMAC state with nothing hashed yet.
    pub(crate) fn keyed_mac(&self) -> &HmacSha256 {
        &self.mac
    }

    /// Lower-case hex HMAC-SHA256 of `string_to_sign` under the day's signing key.
    pub fn sign(&self, string_to_sign: &[u8]) -> [u8; 64] {
        self.sign_parts(&[string_to_sign])
    }

    /// [`Self::sign`] of the concatenation of `parts`, without building it.
    pub fn sign_parts(&self, parts: &[&[u8]]) -> [u8; 64] {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(part);
        }
        hex_signature(mac)
    }
}

/// The lower-case hex signature of everything `mac` has been fed.
pub(crate) fn hex_signature(mac: HmacSha256) -> [u8; 64] {
    hex32(&mac.finalize().into_bytes().into())
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
pub fn derive_signing_key(secret: &str, date: &[u8; 8], region: &str, service: &str) -> [u8; 32] {
    let mut seed = Vec::with_capacity(secret.len() + 4);
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&seed, date);
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this error type exists only for fixed-key MACs.
    HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length")
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = new_mac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Lower-case hex of a 32-byte digest, as SigV4 writes digests and signatures. Written out rather
/// than `hex::encode_to_slice`, which measured 3% slower on a whole POST issuance (criterion,
/// `make bench`): this runs twice per signature.
pub fn hex32(bytes: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0x0f)];
    }
    out
}

/// SigV4's URI encoding: every byte but `A-Za-z0-9-._~` as `%XX` (upper-case hex).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The same for object keys in a path, where `/` separates segments and stays as it is.
const PATH: &AsciiSet = &QUERY_VALUE.remove(b'/');

/// Appends `s` SigV4-URI-encoded; `/` too when `encode_slash`. Unescaped runs are copied as
/// slices (a session token is ~1 KB of them).
pub fn uri_encode(out: &mut String, s: &str, encode_slash: bool) {
    let set = if encode_slash { QUERY_VALUE } else { PATH };
    out.extend(utf8_percent_encode(s, set));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    pub const EXAMPLE_AKID: &str = "AKIAIOSFODNN7EXAMPLE";
    pub const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    pub fn example_creds(token: Option<&str>) -> StaticCredentials {
        StaticCredentials {
            session_token: token.map(str::to_owned),
            ..StaticCredentials::new(EXAMPLE_AKID, EXAMPLE_SECRET)
        }
    }

    pub fn at(unix_secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix_secs)
    }

    #[test]
    fn derives_the_signing_key_aws_documents() {
        // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
        let key = derive_signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            b"20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            std::str::from_utf8(&hex32(&key)).unwrap(),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn a_session_carries_the_credential_scope_and_date() {
        let signer = Signer::new("us-east-1");
        let creds = example_creds(None);
        let s = signer.session(&creds, at(1_451_347_200));
        assert_eq!(
            s.credential(),
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
        );
        assert_eq!(s.scope(), "20151229/us-east-1/s3/aws4_request");
        assert_eq!(s.amz_date(), "20151229T000000Z");
    }

    #[test]
    fn validity_never_outlives_the_credentials() {
        let signer = Signer::new("us-east-1");
        let forever = example_creds(Some("token"));
        assert_eq!(
            signer.session(&forever, at(1000)).validity_secs(900),
            Some(900)
        );
        let short = StaticCredentials::new("AK", "SK")
            .with_session_token("t")
            .with_expiry(at(1300));
        assert_eq!(
            signer.session(&short, at(1000)).validity_secs(900),
            Some(300)
        );
        assert_eq!(signer.session(&short, at(1000)).validity_secs(60), Some(60));
        assert_eq!(signer.session(&short, at(1300)).validity_secs(900), None);
        assert_eq!(signer.session(&short, at(2000)).validity_secs(900), None);
    }

    #[test]
    fn the_key_cache_follows_the_day_and_the_credentials() {
        let signer = Signer::new("us-east-1");
        let creds = example_creds(None);
        let day1 = signer.session(&creds, at(1_451_347_200)).sign(b"x");
        let day1_later = signer.session(&creds, at(1_451_347_200 + 3600)).sign(b"x");
        let day2 = signer
            .session(&creds, at(1_451_347_200 + 86_400))
            .sign(b"x");
        assert_eq!(day1, day1_later);
        assert_ne!(day1, day2);
        let rotated = StaticCredentials::new(EXAMPLE_AKID, "another-secret");
        let other = signer
            .session(&rotated, at(1_451_347_200 + 86_400))
            .sign(b"x");
        assert_ne!(day2, other);
        // Back to the first credentials: the cache must not hand out the rotated key.
        assert_eq!(
            signer
                .session(&creds, at(1_451_347_200 + 86_400))
                .sign(b"x"),
            day2
        );
    }

    #[test]
    fn uri_encoding_follows_sigv4_rules() {
        let mut out = String::new();
        uri_encode(&mut out, "jobs/a b+c/ü~.-_", false);
        assert_eq!(out, "jobs/a%20b%2Bc/%C3%BC~.-_");
        out.clear();
        uri_encode(&mut out, "a/b=", true);
        assert_eq!(out, "a%2Fb%3D");
    }
}
