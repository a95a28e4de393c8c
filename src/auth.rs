//! Who is calling. API Gateway's authorizer context wins when present (it has already checked a
//! JWT or run a Lambda authorizer); otherwise a bearer token whose SHA-256 matches the configured
//! hash. Anything else is 401.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::request::header;
use crate::sigv4::hex32;

/// The caller's identity as written to audit rows, e.g. `jwt:8f2c…` or `token:9f86d081`.
pub fn authenticate(req: &Request, token_sha256: Option<&[u8; 32]>) -> Result<String, ApiError> {
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
    use crate::request::tests::v2_request;
    use serde_json::json;

    fn sha(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    #[test]
    fn bearer_token_checks() {
        let hash = sha("s3cret-token");
        let with = |h: &str| v2_request("GET", "/photos", json!({ "authorization": h }), None);
        let expected = format!("token:{}", std::str::from_utf8(&hex32(&hash)[..8]).unwrap());
        assert_eq!(
            authenticate(&with("Bearer s3cret-token"), Some(&hash)).unwrap(),
            expected
        );
        assert!(authenticate(&with("bearer s3cret-token"), Some(&hash)).is_ok());
        for bad in [
            "Bearer wrong",
            "Basic s3cret-token",
            "Bearer",
            "Bearer ",
            "s3cret-token",
            "",
        ] {
            assert_eq!(
                authenticate(&with(bad), Some(&hash))
                    .unwrap_err()
                    .status
                    .as_u16(),
                401,
                "{bad:?}"
            );
        }
        // No configured hash: even the right token is refused.
        assert!(authenticate(&with("Bearer s3cret-token"), None).is_err());
        let none = v2_request("GET", "/photos", json!({}), None);
        assert!(authenticate(&none, Some(&hash)).is_err());
    }

    fn v2_with_authorizer(authorizer: serde_json::Value) -> Request {
        let event = json!({
            "version": "2.0", "routeKey": "GET /photos", "rawPath": "/photos", "rawQueryString": "",
            "requestContext": {"stage": "$default", "requestId": "r", "timeEpoch": 0, "authorizer": authorizer,
                "http": {"method": "GET", "path": "/photos", "sourceIp": "1.2.3.4"}},
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    #[test]
    fn authorizer_context_is_a_principal() {
        let jwt = v2_with_authorizer(
            json!({"jwt": {"claims": {"sub": "user-42", "iss": "x"}, "scopes": null}}),
        );
        assert_eq!(authenticate(&jwt, None).unwrap(), "jwt:user-42");
        let lambda = v2_with_authorizer(json!({"lambda": {"principalId": "tech-7"}}));
        assert_eq!(authenticate(&lambda, None).unwrap(), "authorizer:tech-7");
        let empty = v2_with_authorizer(json!({"jwt": {"claims": {"sub": ""}}}));
        assert!(authenticate(&empty, None).is_err());
    }

    #[test]
    fn rest_api_authorizers() {
        let event = json!({
            "resource": "/photos", "path": "/photos", "httpMethod": "GET", "headers": {},
            "requestContext": {"stage": "prod", "requestId": "r", "resourcePath": "/photos", "httpMethod": "GET",
                "identity": {"sourceIp": "1.2.3.4"}, "authorizer": {"principalId": "tech-9", "integrationLatency": 1}},
            "isBase64Encoded": false
        });
        let req = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(authenticate(&req, None).unwrap(), "authorizer:tech-9");
    }
}
