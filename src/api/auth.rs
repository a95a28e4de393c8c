//! Who is calling, and which jobs they may touch. One mode per deployment (`AUTH_MODE`):
//!
//! - `jwt`: API Gateway's JWT authorizer has checked the token; the principal is its `sub`, the
//!   job scope its jobs claim, and the admin group (from the groups claim) reaches every job.
//! - `tokens`: a per-person bearer token, looked up by its SHA-256 in the table ([`TokenStore`]).
//! - `shared-token`: one bearer token whose SHA-256 is configured; every holder reaches every job.
//!
//! The authorizer context is read only in `jwt` mode: in the token modes nothing in front of the
//! function checked it, so anyone invoking the function directly could have written it.

use std::time::SystemTime;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::api::config::{AuthMode, JwtClaims};
use crate::api::error::ApiError;
use crate::api::request::{header, request_meta};
use crate::domain::caller::{list_items, Caller, JobScope};
use crate::domain::job::JobId;
use crate::store::tokens::TokenStore;

/// Authenticates requests in the configured mode.
pub struct Authenticator {
    mode: AuthMode,
    tokens: TokenStore,
}

impl Authenticator {
    pub fn new(mode: AuthMode, tokens: TokenStore) -> Self {
        Authenticator { mode, tokens }
    }

    /// The caller of `req`, or 401 (503 when the token table cannot be read). Only `tokens`
    /// mode does I/O here, and only on a cache miss.
    pub async fn authenticate(&self, req: &Request) -> Result<Caller, ApiError> {
        let now = SystemTime::now();
        let (principal, scope) = match &self.mode {
            AuthMode::Jwt(claims) => jwt_identity(req.request_context_ref(), claims)?,
            AuthMode::SharedToken { sha256, principal } => {
                let digest = bearer_digest(req)?;
                if !bool::from(digest.ct_eq(sha256)) {
                    return Err(ApiError::unauthorized());
                }
                (principal.clone(), JobScope::All)
            }
            AuthMode::Tokens { .. } => {
                let digest = bearer_digest(req)?;
                let token = self
                    .tokens
                    .lookup(&digest)
                    .await?
                    .ok_or_else(ApiError::unauthorized)?;
                if !token.is_valid_at(now) {
                    return Err(ApiError::unauthorized());
                }
                (token.principal(), token.scope.clone())
            }
        };
        Ok(Caller {
            principal,
            scope,
            meta: request_meta(req),
            now,
        })
    }
}

/// 403 `job_forbidden` unless `caller` may touch `job`. Refusals are logged, not audited (SECURITY.md).
pub fn authorize(caller: &Caller, job: &JobId) -> Result<(), ApiError> {
    if caller.scope.allows(job) {
        return Ok(());
    }
    tracing::warn!(principal = %caller.principal, job = %job, request_id = %caller.meta.request_id, "access_denied");
    Err(ApiError::forbidden(
        "job_forbidden",
        format!("You may not access job `{job}`."),
    ))
}

/// The SHA-256 of an `Authorization: Bearer <token>` header's token, or 401.
fn bearer_digest(req: &Request) -> Result<[u8; 32], ApiError> {
    let token = header(req, "authorization")
        .and_then(bearer_token)
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Sha256::digest(token.as_bytes()).into())
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 7235).
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `jwt:<sub>` and its scope, from the claims API Gateway's JWT (HTTP API) or Cognito (REST
/// API) authorizer put in the request context; 401 without a `sub`.
fn jwt_identity(
    ctx: Option<&RequestContext>,
    rules: &JwtClaims,
) -> Result<(String, JobScope), ApiError> {
    let claim = |name: &str| -> Option<String> {
        match ctx? {
            RequestContext::ApiGatewayV2(ctx) => ctx
                .authorizer
                .as_ref()?
                .jwt
                .as_ref()?
                .claims
                .get(name)
                .cloned(),
            RequestContext::ApiGatewayV1(ctx) => {
                match ctx.authorizer.fields.get("claims")?.get(name)? {
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                }
            }
            _ => None,
        }
    };
    let sub = claim("sub")
        .filter(|s| !s.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let is_admin = rules.admin_group.as_deref().is_some_and(|admin| {
        claim(&rules.groups_claim).is_some_and(|groups| list_items(&groups).any(|g| g == admin))
    });
    let scope = if is_admin {
        JobScope::All
    } else {
        // Only well-formed ids can match a request's job; `*` here grants nothing (a user may be
        // able to edit their own custom attributes, never their group membership).
        let jobs = claim(&rules.jobs_claim).unwrap_or_default();
        JobScope::Jobs(
            list_items(&jobs)
                .filter_map(|id| JobId::parse(id).ok())
                .collect(),
        )
    };
    Ok((format!("jwt:{sub}"), scope))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::api_events::{offline_authenticator, ApiEvent, TOKEN};
    use futures_util::FutureExt;
    use serde_json::json;

    fn jwt_rules() -> AuthMode {
        AuthMode::Jwt(JwtClaims {
            jobs_claim: "custom:jobs".into(),
            groups_claim: "cognito:groups".into(),
            admin_group: Some("office".into()),
        })
    }

    fn shared(principal: &str) -> AuthMode {
        AuthMode::SharedToken {
            sha256: Sha256::digest(TOKEN.as_bytes()).into(),
            principal: principal.into(),
        }
    }

    /// Authenticates without I/O: only `tokens` mode would await, and these tests never use it.
    fn caller(mode: AuthMode, event: ApiEvent) -> Result<Caller, ApiError> {
        offline_authenticator(mode)
            .authenticate(&event.request())
            .now_or_never()
            .expect("jwt and shared-token modes never wait")
    }

    fn job(id: &str) -> JobId {
        JobId::parse(id).unwrap()
    }

    #[test]
    fn the_shared_token_is_the_configured_principal_on_every_job() {
        for header in [format!("Bearer {TOKEN}"), format!("bearer  {TOKEN} ")] {
            let event = ApiEvent::get("/photos").header("authorization", &header);
            let c = caller(shared("dashboard"), event).unwrap();
            assert_eq!(
                (c.principal.as_str(), &c.scope),
                ("dashboard", &JobScope::All)
            );
        }
    }

    #[test]
    fn any_other_authorization_is_401() {
        for bad in [
            "Bearer wrong",
            &format!("Basic {TOKEN}"),
            "Bearer",
            "Bearer ",
            TOKEN,
            "",
        ] {
            let event = ApiEvent::get("/photos").header("authorization", bad);
            let err = caller(shared("p"), event).unwrap_err();
            assert_eq!(err.status.as_u16(), 401, "{bad:?}");
        }
        assert!(caller(shared("p"), ApiEvent::get("/photos")).is_err());
    }

    #[test]
    fn a_forged_authorizer_context_is_ignored_outside_jwt_mode() {
        let forged = ApiEvent::get("/photos")
            .authorizer(json!({"jwt": {"claims": {"sub": "admin", "cognito:groups": "[office]"}}}));
        assert_eq!(
            caller(shared("p"), forged).unwrap_err().status.as_u16(),
            401
        );
    }

    #[test]
    fn jwt_claims_give_the_principal_and_its_jobs() {
        let event = ApiEvent::get("/photos").authorizer(json!({"jwt": {
            "claims": {"sub": "user-42", "custom:jobs": "[j-1 j-2 ../x]"}, "scopes": null}}));
        let c = caller(jwt_rules(), event).unwrap();
        assert_eq!(c.principal, "jwt:user-42");
        assert!(c.scope.allows(&job("j-1")) && c.scope.allows(&job("j-2")));
        assert!(!c.scope.allows(&job("j-3")));
    }

    #[test]
    fn the_admin_group_reaches_every_job_and_a_star_claim_reaches_none() {
        let admin = ApiEvent::get("/photos").authorizer(
            json!({"jwt": {"claims": {"sub": "u", "cognito:groups": "[crew office]"}}}),
        );
        assert_eq!(caller(jwt_rules(), admin).unwrap().scope, JobScope::All);
        let star = ApiEvent::get("/photos")
            .authorizer(json!({"jwt": {"claims": {"sub": "u", "custom:jobs": "*", "cognito:groups": "[officer]"}}}));
        assert_eq!(
            caller(jwt_rules(), star).unwrap().scope,
            JobScope::Jobs(vec![])
        );
    }

    #[test]
    fn rest_api_cognito_claims_are_read_too() {
        let rest = ApiEvent::get("/photos").rest_api().authorizer(
            json!({"claims": {"sub": "tech-9", "custom:jobs": "j-7,j-8"}, "principalId": "x"}),
        );
        let c = caller(jwt_rules(), rest).unwrap();
        assert_eq!(c.principal, "jwt:tech-9");
        assert_eq!(c.scope, JobScope::Jobs(vec![job("j-7"), job("j-8")]));
    }

    #[test]
    fn jwt_mode_needs_a_subject_and_ignores_bearer_tokens() {
        let no_sub = ApiEvent::get("/photos").authorizer(json!({"jwt": {"claims": {"sub": ""}}}));
        assert!(caller(jwt_rules(), no_sub).is_err());
        let lambda = ApiEvent::get("/photos").authorizer(json!({"lambda": {"principalId": "t"}}));
        assert!(caller(jwt_rules(), lambda).is_err());
        let bearer = ApiEvent::get("/photos").bearer(TOKEN);
        assert!(caller(jwt_rules(), bearer).is_err());
    }

    #[test]
    fn a_job_outside_the_scope_is_403_job_forbidden() {
        let c = Caller {
            principal: "user:p2".into(),
            scope: JobScope::Jobs(vec![job("j-2")]),
            meta: request_meta(&ApiEvent::get("/photos").request()),
            now: SystemTime::now(),
        };
        assert!(authorize(&c, &job("j-2")).is_ok());
        let err = authorize(&c, &job("j-1")).unwrap_err();
        assert_eq!((err.status.as_u16(), err.code), (403, "job_forbidden"));
    }

    #[test]
    fn scopes_parse_from_star_or_a_list_and_print_back() {
        assert_eq!(JobScope::parse(" * ").unwrap(), JobScope::All);
        let scope = JobScope::parse("j-1, j-2").unwrap();
        assert_eq!(scope, JobScope::Jobs(vec![job("j-1"), job("j-2")]));
        assert_eq!(scope.to_string(), "j-1,j-2");
        assert!(JobScope::parse("j-1,../x").is_err());
        assert!(JobScope::parse(" , ").is_err());
    }

    #[test]
    fn the_caller_carries_the_request_context() {
        let event = ApiEvent::get("/photos")
            .header("user-agent", "Mozilla/5.0")
            .bearer(TOKEN);
        let c = caller(shared("p"), event).unwrap();
        assert_eq!(c.meta.user_agent, "Mozilla/5.0");
        assert_eq!(c.meta.source_ip, crate::dev::api_events::SOURCE_IP);
    }
}
