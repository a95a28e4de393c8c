//! `check-bucket`: reads an existing bucket's settings and says which of the protections the
//! template gives a bucket it creates are missing (for `CreateBucket=false`). Reading is one small
//! function per setting; judging is pure ([`findings`]), so it is tested without a server.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::Client;
use serde_json::Value;

/// What the bucket's configuration calls answered: `Ok(None)` = not configured, `Err(code)` = the
/// server would not say (not implemented, or refused).
#[derive(Debug, Clone)]
pub struct BucketSettings {
    pub versioning: Reading<String>,
    /// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets.
    pub public_access_block: Reading<[bool; 4]>,
    pub default_encryption: Reading<String>,
    pub policy: Reading<String>,
    /// Each rule's allowed origins and methods.
    pub cors: Reading<Vec<(Vec<String>, Vec<String>)>>,
}

pub type Reading<T> = Result<Option<T>, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub setting: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// One finding per protection the uploads bucket relies on (see SECURITY.md).
pub fn findings(s: &BucketSettings, origin: Option<&str>) -> Vec<Finding> {
    let finding = |setting, ok, detail: String| Finding {
        setting,
        ok,
        detail,
    };
    let unreadable =
        |setting, code: &String| finding(setting, false, format!("could not be read ({code})"));
    let mut out = Vec::new();
    out.push(match &s.versioning {
        Ok(Some(status)) if status == "Enabled" => finding("versioning", true, "enabled".into()),
        Ok(status) => finding(
            "versioning",
            false,
            format!(
                "{}: a replayed grant would overwrite a completed photo's bytes",
                status.as_deref().unwrap_or("never enabled")
            ),
        ),
        Err(code) => unreadable("versioning", code),
    });
    out.push(match &s.public_access_block {
        Ok(Some(flags)) if flags.iter().all(|f| *f) => {
            finding("public access block", true, "all four settings on".into())
        }
        Ok(_) => finding(
            "public access block",
            false,
            "not all four settings on: an ACL or policy could make photos public".into(),
        ),
        Err(code) => unreadable("public access block", code),
    });
    out.push(match &s.default_encryption {
        Ok(Some(algorithm)) => finding("default encryption", true, algorithm.clone()),
        Ok(None) => finding("default encryption", false, "none configured".into()),
        Err(code) => unreadable("default encryption", code),
    });
    out.push(match &s.policy {
        Ok(Some(policy)) if denies_insecure_transport(policy) => {
            finding("TLS-only policy", true, "plain HTTP is denied".into())
        }
        Ok(_) => finding(
            "TLS-only policy",
            false,
            "no statement denies s3:* when aws:SecureTransport is false".into(),
        ),
        Err(code) => unreadable("TLS-only policy", code),
    });
    out.push(match &s.cors {
        Ok(Some(rules)) => cors_finding(rules, origin),
        Ok(None) => finding(
            "CORS",
            false,
            "no rules: browsers cannot POST uploads".into(),
        ),
        Err(code) => unreadable("CORS", code),
    });
    out
}

fn cors_finding(rules: &[(Vec<String>, Vec<String>)], origin: Option<&str>) -> Finding {
    let finding = |ok, detail: String| Finding {
        setting: "CORS",
        ok,
        detail,
    };
    if rules
        .iter()
        .any(|(origins, _)| origins.iter().any(|o| o.contains('*')))
    {
        return finding(false, "a rule allows any origin (`*`)".into());
    }
    let Some(origin) = origin else {
        return finding(
            true,
            "rules name exact origins (pass --origin to check yours)".into(),
        );
    };
    let allows = |method: &str| {
        rules.iter().any(|(origins, methods)| {
            origins.iter().any(|o| o == origin) && methods.iter().any(|m| m == method)
        })
    };
    if allows("POST") && allows("GET") {
        finding(true, format!("{origin} may POST and GET"))
    } else {
        finding(
            false,
            format!("{origin} may not both POST uploads and GET photos"),
        )
    }
}

/// Whether a bucket policy has the statement the template writes: deny `s3:*` to everyone when
/// `aws:SecureTransport` is false.
pub fn denies_insecure_transport(policy: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let as_list = |v: &Value| -> Vec<Value> {
        match v {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        }
    };
    as_list(&doc["Statement"]).iter().any(|s| {
        let everyone = s["Principal"] == "*" || s["Principal"]["AWS"] == "*";
        let all_actions = as_list(&s["Action"]).iter().any(|a| a == "s3:*");
        let insecure = as_list(&s["Condition"]["Bool"]["aws:SecureTransport"])
            .iter()
            .any(|v| v == "false" || *v == Value::Bool(false));
        s["Effect"] == "Deny" && everyone && all_actions && insecure
    })
}

/// Reads every setting [`findings`] judges; one call each, none of them changes anything.
pub async fn read_settings(s3: &Client, bucket: &str) -> BucketSettings {
    let versioning = match s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(out) => Ok(out.status().map(|s| s.as_str().to_owned())),
        Err(err) => Err(code_of(&err)),
    };
    let public_access_block = match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => Ok(out.public_access_block_configuration().map(|c| {
            [
                c.block_public_acls().unwrap_or(false),
                c.ignore_public_acls().unwrap_or(false),
                c.block_public_policy().unwrap_or(false),
                c.restrict_public_buckets().unwrap_or(false),
            ]
        })),
        Err(err) => absent_if(&err, "NoSuchPublicAccessBlockConfiguration"),
    };
    let default_encryption = match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => Ok(out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_owned())),
        Err(err) => absent_if(&err, "ServerSideEncryptionConfigurationNotFoundError"),
    };
    let policy = match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(out.policy().map(str::to_owned)),
        Err(err) => absent_if(&err, "NoSuchBucketPolicy"),
    };
    let cors = match s3.get_bucket_cors().bucket(bucket).send().await {
        Ok(out) => Ok(Some(
            out.cors_rules()
                .iter()
                .map(|r| (r.allowed_origins().to_vec(), r.allowed_methods().to_vec()))
                .collect(),
        )),
        Err(err) => absent_if(&err, "NoSuchCORSConfiguration"),
    };
    BucketSettings {
        versioning,
        public_access_block,
        default_encryption,
        policy,
        cors,
    }
}

fn code_of<E: ProvideErrorMetadata>(err: &E) -> String {
    // No code: the server answered something that is not an S3 error, or nothing at all.
    err.code().unwrap_or("no S3 answer").to_owned()
}

/// `Ok(None)` when S3 says the setting was never configured; the error's code otherwise.
fn absent_if<T, E: ProvideErrorMetadata>(err: &E, not_configured: &str) -> Reading<T> {
    match err.code() {
        Some(code) if code == not_configured => Ok(None),
        _ => Err(code_of(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TLS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport",
        "Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],
        "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

    fn complete() -> BucketSettings {
        BucketSettings {
            versioning: Ok(Some("Enabled".into())),
            public_access_block: Ok(Some([true; 4])),
            default_encryption: Ok(Some("AES256".into())),
            policy: Ok(Some(TLS_ONLY.into())),
            cors: Ok(Some(vec![(
                vec!["https://dash.example.com".into()],
                vec!["POST".into(), "GET".into()],
            )])),
        }
    }

    fn failing(settings: &BucketSettings, origin: Option<&str>) -> Vec<&'static str> {
        findings(settings, origin)
            .into_iter()
            .filter(|f| !f.ok)
            .map(|f| f.setting)
            .collect()
    }

    #[test]
    fn a_bucket_configured_like_the_template_passes_every_check() {
        assert!(failing(&complete(), Some("https://dash.example.com")).is_empty());
        assert!(failing(&complete(), None).is_empty());
    }

    #[test]
    fn each_missing_protection_is_named() {
        type Weaken = fn(&mut BucketSettings);
        let cases: [(&str, Weaken); 8] = [
            ("versioning", |s| {
                s.versioning = Ok(Some("Suspended".into()))
            }),
            ("versioning", |s| s.versioning = Ok(None)),
            ("public access block", |s| {
                s.public_access_block = Ok(Some([true, true, false, true]))
            }),
            ("default encryption", |s| s.default_encryption = Ok(None)),
            ("TLS-only policy", |s| s.policy = Ok(None)),
            ("TLS-only policy", |s| {
                s.policy = Ok(Some(TLS_ONLY.replace("Deny", "Allow")))
            }),
            ("CORS", |s| {
                s.cors = Ok(Some(vec![(vec!["*".into()], vec!["POST".into()])]))
            }),
            ("CORS", |s| s.cors = Err("NotImplemented".into())),
        ];
        for (setting, weaken) in cases {
            let mut s = complete();
            weaken(&mut s);
            assert_eq!(failing(&s, None), [setting]);
        }
        assert_eq!(
            failing(&complete(), Some("https://other.example")),
            ["CORS"]
        );
    }

    #[test]
    fn the_tls_statement_is_recognised_in_its_other_spellings() {
        let listed = TLS_ONLY
            .replace(r#""Action":"s3:*""#, r#""Action":["s3:*"]"#)
            .replace(r#""Principal":"*""#, r#""Principal":{"AWS":"*"}"#)
            .replace(r#""false""#, "false");
        assert!(denies_insecure_transport(&listed));
        assert!(!denies_insecure_transport(
            &TLS_ONLY.replace("s3:*", "s3:GetObject")
        ));
        assert!(!denies_insecure_transport("not json"));
    }
}
