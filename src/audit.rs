//! The audit log: one DynamoDB row per issued credential and per recorded completion, written with
//! a condition so that no other write can ever overwrite an existing row. The SDK's own retry of
//! the same write (its first attempt may have landed before a timeout) matches on `audit_id` and
//! succeeds, rather than being mistaken for a collision.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use crate::error::{ApiError, Dependency};
use crate::request::RequestMeta;
use crate::utc::UtcTime;

pub const EVENT_UPLOAD_URL_ISSUED: &str = "upload_url_issued";
pub const EVENT_UPLOAD_COMPLETED: &str = "upload_completed";

/// One audit row: the common who/when/where, plus the event's own attributes.
pub struct AuditEvent<'a> {
    /// Unique per row (UUID v7); also what makes a retried write recognisable as the same write.
    pub audit_id: &'a str,
    pub event: &'static str,
    pub job_id: &'a str,
    pub principal: &'a str,
    pub meta: &'a RequestMeta,
    pub at: UtcTime,
    /// Unix time after which DynamoDB's TTL may delete the row.
    pub expire_at: u64,
    pub attributes: Vec<(&'static str, AttributeValue)>,
}

impl AuditEvent<'_> {
    /// `JOB#{job_id}`: all of a job's rows in one partition.
    pub fn partition_key(&self) -> String {
        format!("JOB#{}", self.job_id)
    }

    /// `{RFC 3339 millis}#{request id}`: time-ordered within the job, unique per request.
    pub fn sort_key(&self) -> String {
        format!("{}#{}", self.at.rfc3339_millis(), self.meta.request_id)
    }

    pub fn into_item(self) -> HashMap<String, AttributeValue> {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let mut item = HashMap::with_capacity(10 + self.attributes.len());
        item.insert("pk".into(), AttributeValue::S(self.partition_key()));
        item.insert("sk".into(), AttributeValue::S(self.sort_key()));
        item.insert("audit_id".into(), s(self.audit_id));
        item.insert("event".into(), s(self.event));
        item.insert("job_id".into(), s(self.job_id));
        item.insert("principal".into(), s(self.principal));
        item.insert("source_ip".into(), s(&self.meta.source_ip));
        item.insert("user_agent".into(), s(&self.meta.user_agent));
        item.insert("request_id".into(), s(&self.meta.request_id));
        item.insert("at".into(), AttributeValue::S(self.at.rfc3339_millis()));
        item.insert(
            "expire_at".into(),
            AttributeValue::N(self.expire_at.to_string()),
        );
        for (name, value) in self.attributes {
            item.insert(name.into(), value);
        }
        item
    }
}

/// Writes the row, never over an existing one.
pub async fn record(dynamodb: &Client, table: &str, event: AuditEvent<'_>) -> Result<(), ApiError> {
    let audit_id = AttributeValue::S(event.audit_id.to_owned());
    let result = dynamodb
        .put_item()
        .table_name(table)
        .set_item(Some(event.into_item()))
        .condition_expression("attribute_not_exists(pk) OR audit_id = :audit_id")
        .expression_attribute_values(":audit_id", audit_id)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            tracing::warn!("audit row already exists; refusing to overwrite it");
            Err(ApiError::conflict(
                "duplicate_request",
                "This request was already recorded; send a new request.",
            ))
        }
        Err(err) => {
            tracing::warn!(error = %DisplayErrorContext(&err), "audit PutItem failed");
            Err(ApiError::unavailable(Dependency::AuditLog))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_common_attributes() {
        let meta = RequestMeta {
            request_id: "req-1".into(),
            source_ip: "203.0.113.7".into(),
            user_agent: "ua".into(),
        };
        let mut at = UtcTime::from_unix_secs(1_795_432_800);
        at.millis = 5;
        let event = AuditEvent {
            audit_id: "019ab3c4-0000-7000-8000-000000000001",
            event: EVENT_UPLOAD_COMPLETED,
            job_id: "j-1",
            principal: "jwt:u",
            meta: &meta,
            at,
            expire_at: 1_830_000_000,
            attributes: vec![("file_count", AttributeValue::N("2".into()))],
        };
        assert_eq!(event.sort_key(), "2026-11-23T11:20:00.005Z#req-1");
        let item = event.into_item();
        assert_eq!(item["pk"], AttributeValue::S("JOB#j-1".into()));
        assert_eq!(item["event"], AttributeValue::S("upload_completed".into()));
        assert_eq!(
            item["audit_id"],
            AttributeValue::S("019ab3c4-0000-7000-8000-000000000001".into())
        );
        assert_eq!(item["source_ip"], AttributeValue::S("203.0.113.7".into()));
        assert_eq!(item["expire_at"], AttributeValue::N("1830000000".into()));
        assert_eq!(item["file_count"], AttributeValue::N("2".into()));
    }
}
