//! Who is calling. API Gateway's authorizer context wins when present (it has already checked a
//! JWT or run a Lambda authorizer); otherwise a bearer token whose SHA-256 matches the configured
//! hash. Anything else is 401.

use std::time::SystemTime;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use s3_presign::sigv4::hex32;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::request::{header, RequestMeta};

/// The authenticated caller of one request: who, from where, and when the call was made.
#[derive(Debug, Clone)]
pub struct Caller {
    /// As written to audit rows, e.g. `jwt:8f2c…` or `token:9f86d081`.
    pub principal: String,
    pub meta: RequestMeta,
    pub now: SystemTime,
}

/// The caller of `req`, or 401.
pub fn authenticate(req: &Request, token_sha256: Option<&[u8; 32]>) -> Result<Caller, ApiError> {
    Ok(Caller {
        principal: principal(req, token_sha256)?,
        meta: RequestMeta::of(req),
        now: SystemTime::now(),
    })
}

fn principal(req: &Request, token_sha256: Option<&[u8; 32]>) -> Result<String, ApiError> {
    if let Some(principal) = authorizer_principal(req.request_context_ref()) {
        return Ok(principal);
    }
    let (Some(expected), Some(authorization)) = (token_sha256, header(req, "authorization")) else {
        return Err(ApiError::unauthorized());
    };
    match bearer_token(authorization) {
        Some(token) if token_matches(token, expected) => {
            // Name the token by its configured hash's prefix: identifies which token, reveals nothing.
            let hex = hex32(expected);
            Ok(format!(
                "token:{}",
                std::str::from_utf8(&hex[..8]).unwrap_or_default()
            ))
        }
        _ => Err(ApiError::unauthorized()),
    }
}

fn authorizer_principal(ctx: Option<&RequestContext>) -> Option<String> {
    let non_empty = |s: &str| !s.is_empty();
    match ctx? {
        RequestContext::ApiGatewayV2(ctx) => {
            let authorizer = ctx.authorizer.as_ref()?;
            if let Some(sub) = authorizer
                .jwt
                .as_ref()
                .and_then(|jwt| jwt.claims.get("sub"))
                .filter(|s| non_empty(s))
            {
                return Some(format!("jwt:{sub}"));
            }
            lambda_authorizer_id(&authorizer.fields)
        }
        RequestContext::ApiGatewayV1(ctx) => {
            let fields = &ctx.authorizer.fields;
            let cognito_sub = fields
                .get("claims")
                .and_then(|claims| claims.get("sub"))
                .and_then(|s| s.as_str());
            if let Some(sub) = cognito_sub.filter(|s| non_empty(s)) {
                return Some(format!("jwt:{sub}"));
            }
            lambda_authorizer_id(fields)
        }
        _ => None,
    }
}

fn lambda_authorizer_id(
    fields: &std::collections::HashMap<String, serde_json::Value>,
) -> Option<String> {
    ["principalId", "sub"]
        .iter()
        .find_map(|name| fields.get(*name)?.as_str().filter(|s| !s.is_empty()))
        .map(|id| format!("authorizer:{id}"))
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 7235).
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Compares digests in constant time, so response timing says nothing about how close a guess was.
fn token_matches(token: &str, expected_sha256: &[u8; 32]) -> bool {
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    digest.ct_eq(expected_sha256).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::ApiEvent;
    use serde_json::json;

    fn sha(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    fn principal_of(event: ApiEvent, hash: Option<&[u8; 32]>) -> Result<String, ApiError> {
        authenticate(&event.request(), hash).map(|caller| caller.principal)
    }

    fn with_authorization(value: &str) -> ApiEvent {
        ApiEvent::get("/photos").header("authorization", value)
    }

    #[test]
    fn the_configured_bearer_token_is_a_principal_named_by_its_hash() {
        let hash = sha("s3cret-token");
        let expected = format!("token:{}", std::str::from_utf8(&hex32(&hash)[..8]).unwrap());
        assert_eq!(
            principal_of(with_authorization("Bearer s3cret-token"), Some(&hash)).unwrap(),
            expected
        );
        assert!(principal_of(with_authorization("bearer s3cret-token"), Some(&hash)).is_ok());
    }

    #[test]
    fn any_other_authorization_is_401() {
        let hash = sha("s3cret-token");
        for bad in [
            "Bearer wrong",
            "Basic s3cret-token",
            "Bearer",
            "Bearer ",
            "s3cret-token",
            "",
        ] {
            let err = principal_of(with_authorization(bad), Some(&hash)).unwrap_err();
            assert_eq!(err.status.as_u16(), 401, "{bad:?}");
        }
        assert!(principal_of(ApiEvent::get("/photos"), Some(&hash)).is_err());
    }

    #[test]
    fn with_no_configured_hash_even_the_right_token_is_refused() {
        assert!(principal_of(with_authorization("Bearer s3cret-token"), None).is_err());
    }

    #[test]
    fn api_gateway_authorizer_context_is_a_principal() {
        let jwt = ApiEvent::get("/photos")
            .authorizer(json!({"jwt": {"claims": {"sub": "user-42", "iss": "x"}, "scopes": null}}));
        assert_eq!(principal_of(jwt, None).unwrap(), "jwt:user-42");
        let lambda =
            ApiEvent::get("/photos").authorizer(json!({"lambda": {"principalId": "tech-7"}}));
        assert_eq!(principal_of(lambda, None).unwrap(), "authorizer:tech-7");
        let empty = ApiEvent::get("/photos").authorizer(json!({"jwt": {"claims": {"sub": ""}}}));
        assert!(principal_of(empty, None).is_err());
    }

    #[test]
    fn rest_api_authorizer_context_is_a_principal() {
        let rest = ApiEvent::get("/photos")
            .rest_api()
            .authorizer(json!({"principalId": "tech-9", "integrationLatency": 1}));
        assert_eq!(principal_of(rest, None).unwrap(), "authorizer:tech-9");
    }

    #[test]
    fn the_caller_carries_the_request_context() {
        let caller = authenticate(
            &ApiEvent::get("/photos")
                .header("user-agent", "Mozilla/5.0")
                .authorizer(json!({"jwt": {"claims": {"sub": "u"}}}))
                .request(),
            None,
        )
        .unwrap();
        assert_eq!(caller.meta.user_agent, "Mozilla/5.0");
        assert_eq!(caller.meta.source_ip, crate::test_util::SOURCE_IP);
    }
}
