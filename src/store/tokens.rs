//! Per-person bearer tokens, kept in the audit table (single-table design): one row per token at
//! `pk = TOKENS`, `sk = TOKEN#<hex sha256>`, holding the principal's name, its job scope, when it
//! was created, when it expires and whether it was revoked. The token itself is never stored.
//!
//! One partition for all tokens keeps listing a `Query`, never a `Scan` of the audit log; lookups
//! are cached for at most `TOKEN_CACHE_SECS` (60 s at the most, see the API config), which is
//! how long a revocation may take to reach a warm function.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::domain::caller::JobScope;
use crate::store::error::{Dependency, StoreError};
use crate::store::keys::{token_sort_key, TOKENS};

/// Past this many cached tokens, expired entries are dropped (and all of them if none were).
const MAX_CACHED: usize = 10_000;

/// What a token row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The first 12 hex digits of the token's SHA-256: how operators name a token.
    pub id: String,
    pub name: String,
    pub scope: JobScope,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub revoked_at: Option<u64>,
}

impl TokenRecord {
    /// The principal written to audit rows for this token's holder.
    pub fn principal(&self) -> String {
        format!("user:{}", self.name)
    }

    pub fn is_valid_at(&self, now: SystemTime) -> bool {
        let now = unix_secs(now);
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }

    /// The record a row holds, or `None` for a row that does not parse: such a row authenticates
    /// no one. An optional time that is there but not a whole number is not read as absent, or
    /// a malformed `revoked_at` would be a token never revoked.
    fn from_item(item: &HashMap<String, AttributeValue>) -> Option<TokenRecord> {
        let s = |name: &str| item.get(name)?.as_s().ok().cloned();
        let n = |name: &str| item.get(name)?.as_n().ok()?.parse::<u64>().ok();
        let optional = |name: &str| match item.get(name) {
            None => Some(None),
            Some(_) => n(name).map(Some),
        };
        let hex = item
            .get("sk")?
            .as_s()
            .ok()?
            .strip_prefix("TOKEN#")?
            .to_owned();
        Some(TokenRecord {
            id: hex.get(..12)?.to_owned(),
            name: s("name")?,
            scope: JobScope::parse(&s("jobs")?).ok()?,
            created_at: n("created_at")?,
            expires_at: optional("expires_at")?,
            revoked_at: optional("revoked_at")?,
        })
    }
}

/// A freshly created token: the secret (shown once) and its row.
#[derive(Debug)]
pub struct NewToken {
    pub token: String,
    pub record: TokenRecord,
}

/// The token rows, through the client built at cold start, with the lookup cache.
pub struct TokenStore {
    client: Client,
    table: String,
    cache_for: Duration,
    cache: Mutex<TokenCache>,
}

/// Token digest → when it was read, and what it said.
type TokenCache = HashMap<[u8; 32], (Instant, Arc<TokenRecord>)>;

impl TokenStore {
    pub fn new(client: Client, table: String, cache_secs: u64) -> Self {
        TokenStore {
            client,
            table,
            cache_for: Duration::from_secs(cache_secs),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The token whose SHA-256 is `digest`, `None` when there is none (or its row does not
    /// parse: refused, never guessed at). Revoked and expired tokens are returned; the caller decides (they are cached too,
    /// so a revocation is seen the moment the cache entry is refreshed).
    pub async fn lookup(&self, digest: &[u8; 32]) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        if let Some(record) = self.cached(digest, Instant::now()) {
            return Ok(Some(record));
        }
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(TOKENS.into()))
            .key("sk", AttributeValue::S(token_sort_key(digest)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk_failure(
                "token GetItem",
                Dependency::Identity,
            ))?
            .item;
        let Some(record) = item.as_ref().and_then(TokenRecord::from_item).map(Arc::new) else {
            return Ok(None);
        };
        self.remember(*digest, record.clone(), Instant::now());
        Ok(Some(record))
    }

    fn cached(&self, digest: &[u8; 32], now: Instant) -> Option<Arc<TokenRecord>> {
        let cache = self.cache.lock().ok()?;
        let (at, record) = cache.get(digest)?;
        (now.duration_since(*at) < self.cache_for).then(|| record.clone())
    }

    fn remember(&self, digest: [u8; 32], record: Arc<TokenRecord>, now: Instant) {
        if self.cache_for.is_zero() {
            return;
        }
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                cache.retain(|_, (at, _)| now.duration_since(*at) < self.cache_for);
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
            }
            cache.insert(digest, (now, record));
        }
    }

    /// Creates a token for `name` on `scope`, valid for `valid_days` (forever when `None`).
    pub async fn create(
        &self,
        name: &str,
        scope: &JobScope,
        valid_days: Option<u64>,
        now: SystemTime,
    ) -> Result<NewToken, StoreError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|_| StoreError::Internal)?;
        let token = format!("qdn_{}", URL_SAFE_NO_PAD.encode(secret));
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let created_at = unix_secs(now);
        let expires_at =
            valid_days.map(|days| created_at.saturating_add(days.saturating_mul(86_400)));
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(TOKENS.into()))
            .item("sk", AttributeValue::S(token_sort_key(&digest)))
            .item("name", AttributeValue::S(name.into()))
            .item("jobs", AttributeValue::S(scope.to_string()))
            .item("created_at", AttributeValue::N(created_at.to_string()))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(at) = expires_at {
            put = put.item("expires_at", AttributeValue::N(at.to_string()));
        }
        put.send().await.map_err(StoreError::sdk_failure(
            "token PutItem",
            Dependency::Identity,
        ))?;
        Ok(NewToken {
            record: TokenRecord {
                id: hex::encode(&digest[..6]),
                name: name.into(),
                scope: scope.clone(),
                created_at,
                expires_at,
                revoked_at: None,
            },
            token,
        })
    }

    /// Every token row, oldest first within a name.
    pub async fn list(&self) -> Result<Vec<(String, TokenRecord)>, StoreError> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(TOKENS.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(StoreError::sdk_failure("token Query", Dependency::Identity))?;
            for item in page.items() {
                if let (Some(record), Some(sk)) = (
                    TokenRecord::from_item(item),
                    item.get("sk").and_then(|v| v.as_s().ok()),
                ) {
                    records.push((sk.clone(), record));
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        records.sort_by(|(_, a), (_, b)| (&a.name, a.created_at).cmp(&(&b.name, b.created_at)));
        Ok(records)
    }

    /// Revokes `chosen` (rows as [`list`](Self::list) returns them). Returns what was revoked;
    /// revoking twice changes nothing.
    pub async fn revoke(
        &self,
        chosen: &[(String, TokenRecord)],
        now: SystemTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let at = unix_secs(now);
        let mut revoked = Vec::new();
        for (sk, record) in chosen {
            if record.revoked_at.is_none() {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key("pk", AttributeValue::S(TOKENS.into()))
                    .key("sk", AttributeValue::S(sk.clone()))
                    .update_expression("SET revoked_at = if_not_exists(revoked_at, :at)")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":at", AttributeValue::N(at.to_string()))
                    .send()
                    .await
                    .map_err(StoreError::sdk_failure(
                        "token UpdateItem",
                        Dependency::Identity,
                    ))?;
            }
            revoked.push(TokenRecord {
                revoked_at: record.revoked_at.or(Some(at)),
                ..record.clone()
            });
        }
        Ok(revoked)
    }
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::job::JobId;

    fn record(expires_at: Option<u64>, revoked_at: Option<u64>) -> TokenRecord {
        TokenRecord {
            id: "0123456789ab".into(),
            name: "alice".into(),
            scope: JobScope::Jobs(vec![JobId::parse("j-1").unwrap()]),
            created_at: 1_000,
            expires_at,
            revoked_at,
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_token_is_valid_until_it_expires_or_is_revoked() {
        assert!(record(None, None).is_valid_at(at(u64::from(u32::MAX))));
        assert!(record(Some(2_000), None).is_valid_at(at(1_999)));
        assert!(!record(Some(2_000), None).is_valid_at(at(2_000)));
        assert!(!record(None, Some(1_500)).is_valid_at(at(1_200)));
        assert_eq!(record(None, None).principal(), "user:alice");
    }

    #[test]
    fn a_row_reads_back_as_the_record_it_was_written_from() {
        let digest = [0xab; 32];
        let item: HashMap<String, AttributeValue> = [
            ("pk", AttributeValue::S(TOKENS.into())),
            ("sk", AttributeValue::S(token_sort_key(&digest))),
            ("name", AttributeValue::S("alice".into())),
            ("jobs", AttributeValue::S("j-1".into())),
            ("created_at", AttributeValue::N("1000".into())),
            ("revoked_at", AttributeValue::N("1500".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let read = TokenRecord::from_item(&item).unwrap();
        assert_eq!(
            read,
            TokenRecord {
                id: "abababababab".into(),
                ..record(None, Some(1_500))
            }
        );
    }

    #[test]
    fn a_row_whose_times_do_not_parse_authenticates_no_one() {
        let digest = [0xab; 32];
        let row = |name: &str, value: AttributeValue| -> HashMap<String, AttributeValue> {
            [
                ("pk", AttributeValue::S(TOKENS.into())),
                ("sk", AttributeValue::S(token_sort_key(&digest))),
                ("name", AttributeValue::S("alice".into())),
                ("jobs", AttributeValue::S("*".into())),
                ("created_at", AttributeValue::N("1000".into())),
                (name, value),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
        };
        for (name, value) in [
            ("revoked_at", AttributeValue::S("2026-11-24".into())),
            ("revoked_at", AttributeValue::N("soon".into())),
            ("revoked_at", AttributeValue::Bool(true)),
            ("expires_at", AttributeValue::N("-1".into())),
            ("expires_at", AttributeValue::Null(true)),
        ] {
            assert_eq!(
                TokenRecord::from_item(&row(name, value.clone())),
                None,
                "{name} = {value:?}"
            );
        }
        // Well-formed, the same row reads.
        let good = row("revoked_at", AttributeValue::N("1500".into()));
        assert_eq!(
            TokenRecord::from_item(&good).unwrap().revoked_at,
            Some(1500)
        );
    }

    fn store(cache_secs: u64) -> TokenStore {
        TokenStore::new(
            crate::dev::api_events::offline_dynamodb(),
            "t".into(),
            cache_secs,
        )
    }

    #[test]
    fn lookups_are_cached_for_less_than_the_configured_time() {
        let store = store(60);
        let t0 = Instant::now();
        let digest = [1; 32];
        store.remember(digest, Arc::new(record(None, None)), t0);
        assert!(store
            .cached(&digest, t0 + Duration::from_secs(59))
            .is_some());
        assert!(store
            .cached(&digest, t0 + Duration::from_secs(60))
            .is_none());
        assert!(store.cached(&[2; 32], t0).is_none());
    }

    #[test]
    fn a_zero_cache_remembers_nothing_and_a_full_one_drops_stale_entries() {
        let zero = store(0);
        let t0 = Instant::now();
        zero.remember([1; 32], Arc::new(record(None, None)), t0);
        assert!(zero.cached(&[1; 32], t0).is_none());

        let store = store(60);
        for i in 0..MAX_CACHED {
            let mut digest = [0; 32];
            digest[..8].copy_from_slice(&(i as u64).to_le_bytes());
            store.remember(digest, Arc::new(record(None, None)), t0);
        }
        let later = t0 + Duration::from_secs(61);
        store.remember([0xff; 32], Arc::new(record(None, None)), later);
        assert_eq!(store.cache.lock().unwrap().len(), 1);
    }
}
