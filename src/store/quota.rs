//! Fair use: how many grants one principal may be issued, counted in fixed UTC windows (a minute
//! across all jobs, a day on one job). The counters are updated in the same transaction that
//! audits the grants, so no grant goes uncounted and a refused grant counts nothing.
//!
//! A fixed window lets a caller spend up to twice a limit across a window's edge; what it bounds
//! is the sustained rate, which is what starves other callers.

use aws_sdk_dynamodb::types::{AttributeValue, Update};
use s3_presign::UtcTime;

use crate::domain::job::JobId;
use crate::store::error::StoreError;
use crate::store::keys::{quota_partition_key, quota_sort_key};

/// The limits, from the API's configuration (`GRANTS_PER_MINUTE`, `GRANTS_PER_JOB_PER_DAY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantQuota {
    pub per_minute: u32,
    pub per_job_per_day: u32,
}

/// Which limit a grant ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaWindow {
    /// Grants to one principal in one UTC minute, across every job.
    Minute,
    /// Grants to one principal on one job in one UTC day.
    JobDay,
}

/// A grant refused by a limit: which one, and when its window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaExceeded {
    pub window: QuotaWindow,
    pub limit: u32,
    /// Seconds from the request to the end of the window (at least 1).
    pub retry_after_secs: u64,
}

/// One window's counter row for one principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub window: QuotaWindow,
    pub limit: u32,
    pub pk: String,
    pub sk: String,
    /// Unix time the window ends.
    pub resets_at: u64,
    at: u64,
}

impl GrantQuota {
    /// The counters `count` grants to `principal` on `job` at `at` add to.
    pub fn counters(&self, principal: &str, job: &JobId, at: UtcTime) -> [Counter; 2] {
        let window = |window, limit, length: u64| {
            let start = at.unix_secs - at.unix_secs % length;
            Counter {
                window,
                limit,
                pk: quota_partition_key(principal),
                sk: quota_sort_key(window, job, UtcTime::from_unix_secs(start)),
                resets_at: start + length,
                at: at.unix_secs,
            }
        };
        [
            window(QuotaWindow::Minute, self.per_minute, 60),
            window(QuotaWindow::JobDay, self.per_job_per_day, 86_400),
        ]
    }
}

impl Counter {
    pub fn exceeded(&self) -> QuotaExceeded {
        QuotaExceeded {
            window: self.window,
            limit: self.limit,
            retry_after_secs: self.resets_at.saturating_sub(self.at).max(1),
        }
    }

    /// Adds `count` to the counter if it stays within the limit; more than the limit at once
    /// can never fit, and is refused before anything is written.
    pub fn add(&self, table: &str, count: u32) -> Result<Update, CounterError> {
        if count > self.limit {
            return Err(CounterError::Exceeded(self.exceeded()));
        }
        Update::builder()
            .table_name(table)
            .key("pk", AttributeValue::S(self.pk.clone()))
            .key("sk", AttributeValue::S(self.sk.clone()))
            .update_expression("ADD #n :count SET expire_at = :expire_at")
            .condition_expression("attribute_not_exists(#n) OR #n <= :room")
            .expression_attribute_names("#n", "grants")
            .expression_attribute_values(":count", AttributeValue::N(count.to_string()))
            .expression_attribute_values(
                ":room",
                AttributeValue::N((self.limit - count).to_string()),
            )
            // Kept a day past its window, then DynamoDB's TTL may remove it.
            .expression_attribute_values(
                ":expire_at",
                AttributeValue::N((self.resets_at + 86_400).to_string()),
            )
            .build()
            .map_err(|_| CounterError::Store(StoreError::Internal))
    }
}

/// Why a counter's update could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterError {
    Exceeded(QuotaExceeded),
    Store(StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTA: GrantQuota = GrantQuota {
        per_minute: 60,
        per_job_per_day: 500,
    };

    fn at(rfc3339_secs: u64) -> UtcTime {
        UtcTime::from_unix_secs(rfc3339_secs)
    }

    #[test]
    fn a_minute_counts_the_principal_on_every_job_and_a_day_one_job() {
        // 2026-12-02T14:05:42Z
        let now = at(1_796_220_342);
        let job = JobId::parse("j-1").unwrap();
        let other = JobId::parse("j-2").unwrap();
        let [minute, day] = QUOTA.counters("user:alice", &job, now);
        let [minute2, day2] = QUOTA.counters("user:alice", &other, now);
        assert_eq!(minute.pk, "QUOTA#user:alice");
        assert_eq!(minute.sk, "MINUTE#2026-12-02T14:05");
        assert_eq!(minute, minute2, "one minute counter across jobs");
        assert_eq!(day.sk, "DAY#2026-12-02#JOB#j-1");
        assert_ne!(day.sk, day2.sk, "a day counter per job");
        assert_eq!(
            QUOTA.counters("user:bob", &job, now)[0].pk,
            "QUOTA#user:bob"
        );
    }

    #[test]
    fn retry_after_is_the_rest_of_the_window_and_never_zero() {
        let job = JobId::parse("j-1").unwrap();
        let [minute, day] = QUOTA.counters("p", &job, at(1_796_220_342));
        assert_eq!(minute.exceeded().retry_after_secs, 18);
        assert_eq!(
            day.exceeded().retry_after_secs,
            86_400 - (14 * 3600 + 5 * 60 + 42)
        );
        assert_eq!(minute.exceeded().limit, 60);
        let [on_the_edge, _] = QUOTA.counters("p", &job, at(1_796_220_300));
        assert_eq!(on_the_edge.exceeded().retry_after_secs, 60);
    }

    #[test]
    fn the_update_leaves_room_for_the_count_and_more_than_the_limit_is_refused_unwritten() {
        let job = JobId::parse("j-1").unwrap();
        let [minute, _] = QUOTA.counters("p", &job, at(1_796_220_342));
        let update = minute.add("t", 20).unwrap();
        assert_eq!(
            update.expression_attribute_values().unwrap()[":room"],
            AttributeValue::N("40".into())
        );
        assert_eq!(
            minute
                .add("t", 60)
                .unwrap()
                .expression_attribute_values()
                .unwrap()[":room"],
            AttributeValue::N("0".into())
        );
        assert_eq!(
            minute.add("t", 61).unwrap_err(),
            CounterError::Exceeded(minute.exceeded())
        );
    }
}
