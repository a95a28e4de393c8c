//! The export role's settings: the record, the bucket it reads photos from and writes archives to,
//! and where it writes an archive before storing it.

use std::path::PathBuf;

use crate::config::{CommonConfig, ConfigError, Env};

#[derive(Debug, Clone)]
pub struct ExportsConfig {
    pub common: CommonConfig,
    pub bucket: String,
    /// `EXPORT_SCRATCH_DIR` (Lambda's `/tmp`, sized by the template's `EphemeralStorage`).
    pub scratch_dir: PathBuf,
}

impl ExportsConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let common = CommonConfig::from_env(env)?;
        let bucket = env
            .bucket("UPLOADS_BUCKET")?
            .ok_or_else(|| crate::config::err("UPLOADS_BUCKET", "is required"))?;
        let scratch_dir = env
            .get("EXPORT_SCRATCH_DIR")
            .map_or_else(std::env::temp_dir, PathBuf::from);
        Ok(ExportsConfig {
            common,
            bucket,
            scratch_dir,
        })
    }
}
