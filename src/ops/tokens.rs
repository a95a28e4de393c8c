//! `qdn-photos tokens create | list | revoke`: per-person bearer tokens in the audit table.

use std::time::SystemTime;

use s3_presign::UtcTime;

use crate::domain::caller::JobScope;
use crate::ops::cli::{env, region, CliError, Flags, USAGE};
use crate::store::clients::{dynamodb_client, load_sdk_config, CallBudget};
use crate::store::tokens::{TokenRecord, TokenStore};

/// Runs `tokens …` (the words after `tokens`); returns the exit code.
pub async fn run(words: &[&str]) -> Result<i32, CliError> {
    match words {
        ["create", rest @ ..] => {
            let flags = Flags::parse(rest, &["--name", "--jobs", "--days"])?;
            let name = flags.required("--name")?;
            if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
                return Err("--name must be 1-128 printable characters".into());
            }
            let scope =
                JobScope::parse(flags.required("--jobs")?).map_err(|e| format!("--jobs: {e}"))?;
            let days = flags.get("--days").map(valid_days).transpose()?;
            let created = token_store()
                .await?
                .create(name, &scope, days, SystemTime::now())
                .await?;
            println!("{}", created.token);
            eprintln!(
                "Created token {} for {} on jobs {}{}. It is shown only now: hand it over, then forget it.",
                created.record.id,
                created.record.principal(),
                scope,
                created.record.expires_at.map(|t| format!(", expiring {}", utc_text(t))).unwrap_or_default(),
            );
            Ok(0)
        }
        ["list"] => {
            println!(
                "{:<14}{:<24}{:<10}{:<22}{:<22}JOBS",
                "ID", "PRINCIPAL", "STATE", "CREATED", "EXPIRES"
            );
            let now = SystemTime::now();
            for (_, record) in token_store().await?.list().await? {
                println!("{}", list_line(&record, now));
            }
            Ok(0)
        }
        ["revoke", which] => {
            let store = token_store().await?;
            let chosen = choose(&store.list().await?, which)?;
            let revoked = store.revoke(&chosen, SystemTime::now()).await?;
            for record in &revoked {
                println!("revoked {} ({})", record.id, record.principal());
            }
            eprintln!(
                "Warm functions may accept a revoked token for up to 60 s (the lookup cache)."
            );
            Ok(0)
        }
        _ => Err(USAGE.into()),
    }
}

/// The longest a token may be valid for: ten years. A token for longer is one nobody will
/// remember to revoke (and a day count near `u64::MAX` would overflow the expiry).
const MAX_DAYS: u64 = 3_650;

/// `--days`: a whole number from 1 to [`MAX_DAYS`]. Zero would create a token already expired.
fn valid_days(text: &str) -> Result<u64, CliError> {
    text.parse::<u64>()
        .ok()
        .filter(|days| (1..=MAX_DAYS).contains(days))
        .ok_or_else(|| format!("--days must be a whole number from 1 to {MAX_DAYS}").into())
}

/// The one token whose id starts with `which` (at least 8 hex digits), or every token of the
/// name `name:<name>`.
fn choose(
    all: &[(String, TokenRecord)],
    which: &str,
) -> Result<Vec<(String, TokenRecord)>, CliError> {
    let chosen: Vec<&(String, TokenRecord)> = match which.strip_prefix("name:") {
        Some(name) => all.iter().filter(|(_, r)| r.name == name).collect(),
        None => {
            if which.len() < 8 || !which.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(
                    "name a token by at least 8 hex digits of its id, or by name:<name>".into(),
                );
            }
            let prefix = which.to_ascii_lowercase();
            all.iter()
                .filter(|(_, r)| r.id.starts_with(&prefix))
                .collect()
        }
    };
    match chosen.len() {
        0 => Err(format!("no token matches `{which}`").into()),
        n if n > 1 && !which.starts_with("name:") => {
            Err(format!("{n} tokens match `{which}`; give more of the id").into())
        }
        _ => Ok(chosen.into_iter().cloned().collect()),
    }
}

fn list_line(record: &TokenRecord, now: SystemTime) -> String {
    let state = match (record.revoked_at, record.is_valid_at(now)) {
        (Some(_), _) => "revoked",
        (None, false) => "expired",
        (None, true) => "active",
    };
    format!(
        "{:<14}{:<24}{:<10}{:<22}{:<22}{}",
        record.id,
        record.principal(),
        state,
        utc_text(record.created_at),
        record
            .expires_at
            .map(utc_text)
            .unwrap_or_else(|| "never".into()),
        record.scope,
    )
}

async fn token_store() -> Result<TokenStore, CliError> {
    let table = env("AUDIT_TABLE")?;
    let sdk = load_sdk_config(&region(), CallBudget::Operator).await;
    Ok(TokenStore::new(dynamodb_client(&sdk), table, 0))
}

fn utc_text(unix_secs: u64) -> String {
    UtcTime::from_unix_secs(unix_secs).rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_one_to_ten_years_never_zero_or_past_what_the_expiry_can_hold() {
        assert_eq!(valid_days("1").unwrap(), 1);
        assert_eq!(valid_days("3650").unwrap(), 3_650);
        for bad in ["0", "3651", "18446744073709551615", "-1", "1.5", "", "30d"] {
            let err = valid_days(bad).unwrap_err().to_string();
            assert_eq!(
                err, "--days must be a whole number from 1 to 3650",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_listed_token_shows_its_state() {
        let record = TokenRecord {
            id: "0123456789ab".into(),
            name: "alice".into(),
            scope: JobScope::All,
            created_at: 1_795_432_800,
            expires_at: Some(1_795_432_900),
            revoked_at: None,
        };
        let at = |s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s);
        let line = list_line(&record, at(1_795_432_850));
        assert!(line.starts_with("0123456789ab  user:alice"), "{line}");
        assert!(
            line.contains("active") && line.contains("2026-11-23T11:20:00Z") && line.ends_with('*')
        );
        assert!(list_line(&record, at(1_795_432_900)).contains("expired"));
        let revoked = TokenRecord {
            revoked_at: Some(1),
            ..record
        };
        assert!(list_line(&revoked, at(0)).contains("revoked"));
    }
}
