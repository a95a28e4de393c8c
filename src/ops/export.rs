//! `qdn-photos verify-export J.zip`: the evidence archive's check, printed for people. (`export`
//! writes the archive through `evidence::archive`.)

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::evidence::verify::verify;
use crate::ops::cli::CliError;

/// `verify-export FILE`: prints each difference and the manifest's hash; exit 1 if any differ.
pub fn verify_file(path: &Path) -> Result<i32, CliError> {
    let mut archive = BufReader::new(File::open(path)?);
    let found = verify(&mut archive)?;
    for (file, why) in &found.differ {
        println!("DIFFERS {file}: {why}");
    }
    println!(
        "{}: {} file(s) checked, {} differ; manifest.json SHA-256 {} (compare it with the one handed over with the export)",
        path.display(),
        found.checked,
        found.differ.len(),
        found.manifest_sha256
    );
    Ok(i32::from(!found.differ.is_empty()))
}
