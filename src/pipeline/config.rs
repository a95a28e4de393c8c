//! The pipeline role's settings: the record, the thumbnails' size and the decoding budget, and,
//! only where the stack reuses a bucket, that bucket. No auth, no origins, no grant lifetimes.

use crate::config::{err, CommonConfig, ConfigError, Env};
use crate::pipeline::thumbnail::ThumbnailSpec;

#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub common: CommonConfig,
    /// `UPLOADS_BUCKET`, set where the stack reuses a bucket: events from any other bucket are
    /// ignored. Unset where the stack creates the bucket: its notification names this function, so
    /// the function cannot name the bucket (a cycle in CloudFormation); the notification, the
    /// invoke permission and IAM all limit it to that one, and each event names it.
    pub only_bucket: Option<String>,
    pub thumbnail: ThumbnailSpec,
}

impl PipelineConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let common = CommonConfig::from_env(env)?;
        let only_bucket = env.bucket("UPLOADS_BUCKET")?;
        let defaults = ThumbnailSpec::DEFAULT;
        let thumbnail = ThumbnailSpec {
            max_edge: env.number("THUMBNAIL_MAX_EDGE", u64::from(defaults.max_edge), 2048)? as u32,
            max_pixels: env.number("THUMBNAIL_MAX_PIXELS", defaults.max_pixels, 1_000_000_000)?,
            ..defaults
        };
        if thumbnail.max_edge < 16 {
            return Err(err("THUMBNAIL_MAX_EDGE", "must be from 16 to 2048"));
        }
        Ok(PipelineConfig {
            common,
            only_bucket,
            thumbnail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)]) -> Result<PipelineConfig, ConfigError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        PipelineConfig::from_env(&Env::new(&|n| map.get(n).map(|v| v.to_string())))
    }

    const REQUIRED: [(&str, &str); 2] = [("AUDIT_TABLE", "qdn-audit"), ("AWS_REGION", "us-east-1")];

    #[test]
    fn the_pipeline_reads_only_its_own_settings_and_may_go_without_a_bucket() {
        let c = parse(&REQUIRED).unwrap();
        assert_eq!(c.only_bucket, None);
        assert_eq!(
            (c.thumbnail.max_edge, c.thumbnail.max_pixels),
            (320, 100_000_000)
        );
        assert_eq!(c.common.audit_retention_days, 400);
        let c = parse(&[REQUIRED[0], REQUIRED[1], ("UPLOADS_BUCKET", "qdn-uploads")]).unwrap();
        assert_eq!(c.only_bucket.as_deref(), Some("qdn-uploads"));
    }

    #[test]
    fn each_bad_setting_stops_the_start_naming_its_variable() {
        assert_eq!(parse(&REQUIRED[..1]).unwrap_err().variable, "AWS_REGION");
        assert_eq!(parse(&REQUIRED[1..]).unwrap_err().variable, "AUDIT_TABLE");
        for (name, value) in [
            ("UPLOADS_BUCKET", "Bad_Bucket"),
            ("THUMBNAIL_MAX_EDGE", "8"),
            ("THUMBNAIL_MAX_EDGE", "4096"),
            ("THUMBNAIL_MAX_PIXELS", "0"),
            ("AUDIT_RETENTION_DAYS", "89"),
        ] {
            let e = parse(&[REQUIRED[0], REQUIRED[1], (name, value)]).unwrap_err();
            assert_eq!(e.variable, name, "{name}={value:?}: {e}");
        }
    }
}
