//! The API role's settings: the uploads bucket (required), where browsers reach it, the grants'
//! and photo URLs' lifetimes, the types it grants, who may call and from which origins.

use s3_presign::BucketEndpoint;

use crate::config::{err, CommonConfig, ConfigError, Env};
use crate::domain::image_type::ImageType;
use crate::store::quota::GrantQuota;

const MAX_PRESIGN_SECS: u64 = 604_800; // SigV4's limit for presigned requests: 7 days.
const MAX_S3_POST_BYTES: u64 = 5 * 1024 * 1024 * 1024; // S3's single-request object limit.
/// A revoked token keeps working for at most this long in a warm function (the lookup cache).
pub const MAX_TOKEN_CACHE_SECS: u64 = 60;

/// How callers are identified (`AUTH_MODE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// API Gateway's JWT authorizer checked the token; identity and scope come from its claims.
    Jwt(JwtClaims),
    /// Per-person bearer tokens, looked up in the audit table and cached for `cache_secs`.
    Tokens { cache_secs: u64 },
    /// One bearer token whose SHA-256 is configured: every holder is `principal`, on every job.
    SharedToken { sha256: [u8; 32], principal: String },
}

/// Which JWT claims carry a caller's jobs and groups, and which group may reach every job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtClaims {
    pub jobs_claim: String,
    pub groups_claim: String,
    pub admin_group: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub common: CommonConfig,
    pub uploads_bucket: String,
    /// Where browsers reach the bucket: presigned URLs are signed for this host.
    pub bucket_endpoint: BucketEndpoint,
    pub upload_url_ttl_secs: u64,
    pub photo_url_ttl_secs: u64,
    /// Photo URLs handed out within one such window are byte-identical (cacheable): see
    /// `signing::CacheWindow`.
    pub photo_url_window_secs: u64,
    pub max_upload_bytes: u64,
    /// In the order given; the first is the default when a request names no type.
    pub allowed_types: Vec<ImageType>,
    pub auth: AuthMode,
    /// Exact origins (`https://dash.example.com`) allowed to call the API from a browser.
    pub allowed_origins: Vec<String>,
    /// Grants per principal per minute, and per principal per job per UTC day.
    pub grant_quota: GrantQuota,
    /// The most photos one `/photos` page lists (a larger `limit` is served this many, with a
    /// cursor): each costs two signatures and ~2.5 KB of response with Lambda's credentials.
    pub photos_page_max: i32,
    /// How long after S3 stored a photo its uploader may retract it; 0: never (a job's admin
    /// may still erase it).
    pub retract_window_secs: u64,
    /// The queue the export function reads (`POST /exports`); unset: no exports here.
    pub export_queue_url: Option<String>,
}

impl ApiConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let common = CommonConfig::from_env(env)?;
        let uploads_bucket = env
            .bucket("UPLOADS_BUCKET")?
            .ok_or_else(|| err("UPLOADS_BUCKET", "is required"))?;
        // Browsers use the public endpoint when given, else the one the SDK uses, else AWS's.
        let path_style = common.force_path_style;
        let bucket_endpoint = match (
            env.get("S3_PUBLIC_ENDPOINT"),
            env.get("AWS_ENDPOINT_URL_S3"),
        ) {
            (Some(url), _) => BucketEndpoint::custom(&url, &uploads_bucket, path_style)
                .map_err(|problem| err("S3_PUBLIC_ENDPOINT", problem))?,
            (None, Some(url)) => BucketEndpoint::custom(&url, &uploads_bucket, path_style)
                .map_err(|problem| err("AWS_ENDPOINT_URL_S3", problem))?,
            (None, None) => BucketEndpoint::aws(&uploads_bucket, &common.region),
        };

        let upload_url_ttl_secs = env.number("UPLOAD_URL_TTL_SECS", 900, MAX_PRESIGN_SECS)?;
        let photo_url_ttl_secs = env.number("PHOTO_URL_TTL_SECS", 3600, MAX_PRESIGN_SECS)?;
        let photo_url_window_secs = env.number("PHOTO_URL_WINDOW_SECS", 3600, 86_400)?;
        // A window that divides the day never straddles midnight: photo URLs are signed with the
        // same day's key as everything else.
        if 86_400 % photo_url_window_secs != 0 {
            return Err(err(
                "PHOTO_URL_WINDOW_SECS",
                "must divide a day (86400 s): 60, 300, 900, 1800, 3600, 7200, …",
            ));
        }
        if photo_url_window_secs + photo_url_ttl_secs > MAX_PRESIGN_SECS {
            return Err(err(
                "PHOTO_URL_WINDOW_SECS",
                format!("plus PHOTO_URL_TTL_SECS must be at most {MAX_PRESIGN_SECS} (a URL lives up to both)"),
            ));
        }
        let max_upload_bytes = env.number("MAX_UPLOAD_BYTES", 52_428_800, MAX_S3_POST_BYTES)?;

        let types = env
            .get("ALLOWED_CONTENT_TYPES")
            .unwrap_or_else(|| "image/jpeg,image/png,image/heic,image/webp".into());
        let mut allowed_types = Vec::new();
        for mime in types.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            let image = ImageType::by_mime(&mime.to_ascii_lowercase()).ok_or_else(|| {
                err(
                    "ALLOWED_CONTENT_TYPES",
                    format!("`{mime}` is not a supported raster image type"),
                )
            })?;
            if !allowed_types.contains(&image) {
                allowed_types.push(image);
            }
        }
        if allowed_types.is_empty() {
            return Err(err("ALLOWED_CONTENT_TYPES", "lists no type"));
        }

        let auth = auth_mode(env)?;

        let mut allowed_origins = Vec::new();
        for origin in env
            .get("ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            if !is_origin(origin) {
                return Err(err(
                    "ALLOWED_ORIGINS",
                    format!("`{origin}` is not an origin like https://dash.example.com (no path, no `*`)"),
                ));
            }
            allowed_origins.push(origin.to_owned());
        }

        let grant_quota = GrantQuota {
            per_minute: env.number("GRANTS_PER_MINUTE", 120, 10_000)? as u32,
            per_job_per_day: env.number("GRANTS_PER_JOB_PER_DAY", 1000, 1_000_000)? as u32,
        };
        let photos_page_max = env.number("PHOTOS_PAGE_MAX", 200, 1000)? as i32;
        let retract_window_secs = 60 * env.number_from("RETRACT_WINDOW_MINUTES", 0, 60, 10_080)?;
        let export_queue_url = env.get("EXPORT_QUEUE_URL");

        Ok(ApiConfig {
            common,
            uploads_bucket,
            bucket_endpoint,
            upload_url_ttl_secs,
            photo_url_ttl_secs,
            photo_url_window_secs,
            max_upload_bytes,
            allowed_types,
            auth,
            allowed_origins,
            grant_quota,
            photos_page_max,
            retract_window_secs,
            export_queue_url,
        })
    }
}

fn auth_mode(env: &Env) -> Result<AuthMode, ConfigError> {
    let token_sha256 = env
        .get("AUTH_TOKEN_SHA256")
        .map(|hex| {
            parse_sha256_hex(&hex)
                .ok_or_else(|| err("AUTH_TOKEN_SHA256", "must be 64 hex digits (a SHA-256)"))
        })
        .transpose()?;
    // Unset only keeps a deployment from before AUTH_MODE working: a hash alone meant shared-token.
    let mode = match (env.get("AUTH_MODE"), token_sha256) {
        (Some(mode), _) => mode,
        (None, Some(_)) => "shared-token".to_owned(),
        (None, None) => return Err(err("AUTH_MODE", "is required: jwt, tokens or shared-token")),
    };
    match mode.as_str() {
        "jwt" => Ok(AuthMode::Jwt(JwtClaims {
            jobs_claim: env
                .get("JWT_JOBS_CLAIM")
                .unwrap_or_else(|| "custom:jobs".into()),
            groups_claim: env
                .get("JWT_GROUPS_CLAIM")
                .unwrap_or_else(|| "cognito:groups".into()),
            admin_group: env.get("JWT_ADMIN_GROUP"),
        })),
        "tokens" => {
            let cache_secs = match env.get("TOKEN_CACHE_SECS") {
                None => MAX_TOKEN_CACHE_SECS,
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n <= MAX_TOKEN_CACHE_SECS)
                    .ok_or_else(|| {
                        err(
                            "TOKEN_CACHE_SECS",
                            format!("must be a whole number from 0 to {MAX_TOKEN_CACHE_SECS}"),
                        )
                    })?,
            };
            Ok(AuthMode::Tokens { cache_secs })
        }
        // `token` is what the template called this mode before per-person tokens existed.
        "shared-token" | "token" => {
            let sha256 = token_sha256
                .ok_or_else(|| err("AUTH_TOKEN_SHA256", "is required in shared-token mode"))?;
            let principal = env.get("SHARED_TOKEN_PRINCIPAL").unwrap_or_else(|| {
                // Earlier releases named the token by its hash's prefix; rows stay comparable.
                let hex = hex::encode(sha256);
                format!("token:{}", &hex[..8])
            });
            Ok(AuthMode::SharedToken { sha256, principal })
        }
        _ => Err(err("AUTH_MODE", "must be jwt, tokens or shared-token")),
    }
}

fn is_origin(origin: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

fn parse_sha256_hex(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)]) -> Result<ApiConfig, ConfigError> {
        let mut map: HashMap<String, String> = [
            ("UPLOADS_BUCKET", "qdn-uploads"),
            ("AUDIT_TABLE", "qdn-audit"),
            ("AWS_REGION", "us-east-1"),
            ("AUTH_MODE", "jwt"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in vars {
            map.insert(k.to_string(), v.to_string());
        }
        ApiConfig::from_env(&Env::new(&|name| map.get(name).cloned()))
    }

    #[test]
    fn unset_settings_take_their_documented_defaults() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.upload_url_ttl_secs, 900);
        assert_eq!(c.photo_url_ttl_secs, 3600);
        assert_eq!(c.photo_url_window_secs, 3600);
        assert_eq!(c.max_upload_bytes, 52_428_800);
        assert_eq!(c.common.audit_retention_days, 400);
        let mimes: Vec<&str> = c.allowed_types.iter().map(|t| t.mime()).collect();
        assert_eq!(
            mimes,
            ["image/jpeg", "image/png", "image/heic", "image/webp"]
        );
        assert_eq!(
            c.bucket_endpoint.post_url(),
            "https://qdn-uploads.s3.us-east-1.amazonaws.com/"
        );
        assert!(c.allowed_origins.is_empty());
        assert_eq!(c.common.metrics, None);
        assert_eq!(
            c.auth,
            AuthMode::Jwt(JwtClaims {
                jobs_claim: "custom:jobs".into(),
                groups_claim: "cognito:groups".into(),
                admin_group: None,
            })
        );
    }

    #[test]
    fn local_endpoints_are_where_browsers_reach_s3() {
        let c = parse(&[
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:3900"),
            ("S3_FORCE_PATH_STYLE", "true"),
        ])
        .unwrap();
        assert_eq!(
            c.bucket_endpoint.post_url(),
            "http://127.0.0.1:3900/qdn-uploads/"
        );
        let c = parse(&[
            ("AWS_ENDPOINT_URL_S3", "http://garage:3900"),
            ("S3_PUBLIC_ENDPOINT", "http://localhost:3900"),
            ("S3_FORCE_PATH_STYLE", "1"),
        ])
        .unwrap();
        assert_eq!(c.bucket_endpoint.host(), "localhost:3900");
        // Written as browsers send it, so signatures match: default port dropped, host lower-cased.
        let c = parse(&[("S3_PUBLIC_ENDPOINT", "https://S3.Example.com:443")]).unwrap();
        assert_eq!(c.bucket_endpoint.host(), "qdn-uploads.s3.example.com");
        let c = parse(&[
            ("S3_PUBLIC_ENDPOINT", "http://Files.Example.com:80"),
            ("S3_FORCE_PATH_STYLE", "true"),
        ])
        .unwrap();
        assert_eq!(
            c.bucket_endpoint.post_url(),
            "http://files.example.com/qdn-uploads/"
        );
    }

    #[test]
    fn metrics_go_to_the_namespace_under_the_functions_name() {
        let c = parse(&[("METRICS_NAMESPACE", "QDN/Photos")]).unwrap();
        let target = c.common.metrics.unwrap();
        assert_eq!(
            (target.namespace.as_str(), target.function_name.as_str()),
            ("QDN/Photos", "local")
        );
        let c = parse(&[
            ("METRICS_NAMESPACE", "QDNPhotos"),
            ("AWS_LAMBDA_FUNCTION_NAME", "qdn-photos-PhotosFunction-x1"),
        ])
        .unwrap();
        assert_eq!(
            c.common.metrics.unwrap().function_name,
            "qdn-photos-PhotosFunction-x1"
        );
    }

    #[test]
    fn each_bad_setting_stops_the_start_naming_its_variable() {
        let cases: &[(&str, &str, &str)] = &[
            ("UPLOADS_BUCKET", "", "UPLOADS_BUCKET"),
            ("UPLOADS_BUCKET", "Bad_Bucket", "UPLOADS_BUCKET"),
            ("AUDIT_TABLE", "a", "AUDIT_TABLE"),
            ("AWS_REGION", "", "AWS_REGION"),
            ("S3_FORCE_PATH_STYLE", "yes", "S3_FORCE_PATH_STYLE"),
            ("S3_PUBLIC_ENDPOINT", "localhost:3900", "S3_PUBLIC_ENDPOINT"),
            ("AWS_ENDPOINT_URL_S3", "http://h/p", "AWS_ENDPOINT_URL_S3"),
            ("UPLOAD_URL_TTL_SECS", "0", "UPLOAD_URL_TTL_SECS"),
            ("UPLOAD_URL_TTL_SECS", "604801", "UPLOAD_URL_TTL_SECS"),
            ("PHOTO_URL_TTL_SECS", "1h", "PHOTO_URL_TTL_SECS"),
            ("PHOTO_URL_WINDOW_SECS", "0", "PHOTO_URL_WINDOW_SECS"),
            ("PHOTO_URL_WINDOW_SECS", "7000", "PHOTO_URL_WINDOW_SECS"),
            ("PHOTO_URL_WINDOW_SECS", "172800", "PHOTO_URL_WINDOW_SECS"),
            // Seven days is SigV4's limit; the window comes on top of the TTL.
            ("PHOTO_URL_TTL_SECS", "604800", "PHOTO_URL_WINDOW_SECS"),
            ("MAX_UPLOAD_BYTES", "-5", "MAX_UPLOAD_BYTES"),
            ("AUDIT_RETENTION_DAYS", "0", "AUDIT_RETENTION_DAYS"),
            ("AUDIT_RETENTION_DAYS", "89", "AUDIT_RETENTION_DAYS"),
            ("AUTH_MODE", "none", "AUTH_MODE"),
            ("AUTH_MODE", "shared-token", "AUTH_TOKEN_SHA256"),
            (
                "ALLOWED_CONTENT_TYPES",
                "image/svg+xml",
                "ALLOWED_CONTENT_TYPES",
            ),
            (
                "ALLOWED_CONTENT_TYPES",
                "text/html,image/png",
                "ALLOWED_CONTENT_TYPES",
            ),
            ("ALLOWED_CONTENT_TYPES", " , ", "ALLOWED_CONTENT_TYPES"),
            ("AUTH_TOKEN_SHA256", "abc", "AUTH_TOKEN_SHA256"),
            ("AUTH_TOKEN_SHA256", &"g".repeat(64), "AUTH_TOKEN_SHA256"),
            ("ALLOWED_ORIGINS", "*", "ALLOWED_ORIGINS"),
            ("METRICS_NAMESPACE", "AWS/Lambda", "METRICS_NAMESPACE"),
            ("METRICS_NAMESPACE", "QDN{Photos}", "METRICS_NAMESPACE"),
            ("METRICS_NAMESPACE", &"n".repeat(256), "METRICS_NAMESPACE"),
            (
                "ALLOWED_ORIGINS",
                "https://a.example/path",
                "ALLOWED_ORIGINS",
            ),
        ];
        for (name, value, named) in cases {
            let e = parse(&[(name, value)]).unwrap_err();
            assert_eq!(e.variable, *named, "{name}={value:?}: {e}");
        }
    }

    #[test]
    fn the_token_hash_and_origins_parse_and_a_bare_hash_still_means_shared_token() {
        let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let c = parse(&[
            ("AUTH_MODE", ""),
            ("AUTH_TOKEN_SHA256", hash),
            (
                "ALLOWED_ORIGINS",
                "http://localhost:8080, https://dash.example.com",
            ),
            ("ALLOWED_CONTENT_TYPES", "image/PNG,image/png"),
        ])
        .unwrap();
        let AuthMode::SharedToken { sha256, principal } = c.auth else {
            panic!("{:?}", c.auth)
        };
        assert_eq!((sha256[0], sha256[31]), (0x9f, 0x08));
        assert_eq!(principal, "token:9f86d081");
        assert_eq!(
            c.allowed_origins,
            ["http://localhost:8080", "https://dash.example.com"]
        );
        assert_eq!(c.allowed_types.len(), 1, "duplicates collapse");
        // With neither a mode nor a hash, the start stops rather than guess who may call.
        assert_eq!(
            parse(&[("AUTH_MODE", "")]).unwrap_err().variable,
            "AUTH_MODE"
        );
    }

    #[test]
    fn each_mode_reads_its_own_settings() {
        let c = parse(&[
            ("AUTH_MODE", "token"),
            ("AUTH_TOKEN_SHA256", &"ab".repeat(32)),
            ("SHARED_TOKEN_PRINCIPAL", "dashboard"),
        ])
        .unwrap();
        assert!(
            matches!(c.auth, AuthMode::SharedToken { ref principal, .. } if principal == "dashboard")
        );
        let c = parse(&[("AUTH_MODE", "tokens")]).unwrap();
        assert_eq!(c.auth, AuthMode::Tokens { cache_secs: 60 });
        let c = parse(&[("AUTH_MODE", "tokens"), ("TOKEN_CACHE_SECS", "0")]).unwrap();
        assert_eq!(c.auth, AuthMode::Tokens { cache_secs: 0 });
        let e = parse(&[("AUTH_MODE", "tokens"), ("TOKEN_CACHE_SECS", "61")]).unwrap_err();
        assert_eq!(e.variable, "TOKEN_CACHE_SECS");
        let c = parse(&[
            ("JWT_JOBS_CLAIM", "qdn:jobs"),
            ("JWT_GROUPS_CLAIM", "groups"),
            ("JWT_ADMIN_GROUP", "office"),
        ])
        .unwrap();
        assert_eq!(
            c.auth,
            AuthMode::Jwt(JwtClaims {
                jobs_claim: "qdn:jobs".into(),
                groups_claim: "groups".into(),
                admin_group: Some("office".into()),
            })
        );
    }
}
