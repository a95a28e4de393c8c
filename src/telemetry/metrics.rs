//! CloudWatch metrics in Embedded Metric Format: one JSON line per request on stdout, which
//! CloudWatch Logs turns into metrics. No API call on the request path and no permission beyond
//! writing logs. The alarms in `template.yaml` watch these names.

use std::io::Write;

/// What one request did, counted. Every metric is written on every request (zeros included),
/// so an alarm's period always has data and a quiet hour reads as 0, not as missing.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RequestMetrics {
    pub urls_issued: u64,
    pub completions: u64,
    pub bytes_completed: u64,
    pub unverified_reports: u64,
    pub audit_failures: u64,
    pub s3_failures: u64,
    pub auth_refusals: u64,
    /// Grants refused by a per-principal limit (429).
    pub quota_refusals: u64,
    /// The pipeline's: stored versions recorded, spoofed ones rejected, thumbnails written.
    pub photos_stored: u64,
    pub uploads_rejected: u64,
    pub thumbnails_created: u64,
}

/// What made a request (or an S3 event) fail, as far as the alarms care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 401 or 403.
    AuthRefused,
    /// 429: a per-principal grant limit.
    QuotaRefused,
    /// The audit table (which holds the tokens and the photo index too).
    AuditLog,
    Storage,
    /// Bad input, or anything no alarm watches.
    Other,
}

impl RequestMetrics {
    /// The metrics of a request that ended in `failure`.
    pub fn failed(failure: Failure) -> Self {
        let mut m = RequestMetrics::default();
        match failure {
            Failure::AuthRefused => m.auth_refusals = 1,
            Failure::QuotaRefused => m.quota_refusals = 1,
            Failure::AuditLog => m.audit_failures = 1,
            Failure::Storage => m.s3_failures = 1,
            Failure::Other => {}
        }
        m
    }

    pub fn values(&self) -> [(&'static str, &'static str, u64); 11] {
        [
            ("UrlsIssued", "Count", self.urls_issued),
            ("Completions", "Count", self.completions),
            ("BytesCompleted", "Bytes", self.bytes_completed),
            ("UnverifiedReports", "Count", self.unverified_reports),
            ("AuditFailures", "Count", self.audit_failures),
            ("S3Failures", "Count", self.s3_failures),
            ("AuthRefusals", "Count", self.auth_refusals),
            ("QuotaRefusals", "Count", self.quota_refusals),
            ("PhotosStored", "Count", self.photos_stored),
            ("UploadsRejected", "Count", self.uploads_rejected),
            ("ThumbnailsCreated", "Count", self.thumbnails_created),
        ]
    }
}

/// Where the metrics go: a namespace, and the function's name as their one dimension (two stacks
/// in one account never mix their numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsTarget {
    pub namespace: String,
    pub function_name: String,
    /// Everything in the document but the timestamp and the values, rendered once.
    directive: String,
}

impl MetricsTarget {
    pub fn new(namespace: String, function_name: String) -> Self {
        let definitions: Vec<serde_json::Value> = RequestMetrics::default()
            .values()
            .iter()
            .map(|(name, unit, _)| serde_json::json!({"Name": name, "Unit": unit}))
            .collect();
        let directive = format!(
            r#""CloudWatchMetrics":{}}},"FunctionName":{}"#,
            serde_json::json!([{
                "Namespace": namespace,
                "Dimensions": [["FunctionName"]],
                "Metrics": definitions,
            }]),
            serde_json::Value::from(function_name.as_str()),
        );
        MetricsTarget {
            namespace,
            function_name,
            directive,
        }
    }

    /// The EMF document for `metrics` at `timestamp_ms` (Unix milliseconds), without a newline.
    pub fn emf(&self, timestamp_ms: u64, metrics: &RequestMetrics) -> String {
        let mut doc = String::with_capacity(self.directive.len() + 200);
        doc.push_str(r#"{"_aws":{"Timestamp":"#);
        doc.push_str(itoa::Buffer::new().format(timestamp_ms));
        doc.push(',');
        doc.push_str(&self.directive);
        for (name, _, value) in metrics.values() {
            doc.push_str(",\"");
            doc.push_str(name);
            doc.push_str("\":");
            doc.push_str(itoa::Buffer::new().format(value));
        }
        doc.push('}');
        doc
    }

    /// Writes the line to stdout in one write, so no log line can land inside it.
    pub fn publish(&self, metrics: &RequestMetrics) {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut line = self.emf(now_ms, metrics);
        line.push('\n');
        // Metrics are best effort: a closed stdout must not fail the request.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn target() -> MetricsTarget {
        MetricsTarget::new("QDNPhotos".into(), "qdn-photos-PhotosFunction-abc".into())
    }

    #[test]
    fn the_document_follows_the_emf_specification() {
        let metrics = RequestMetrics {
            completions: 1,
            bytes_completed: 4_200_000,
            ..Default::default()
        };
        let doc: Value = serde_json::from_str(&target().emf(1_764_000_000_123, &metrics)).unwrap();
        // One directive: namespace, dimension set naming a root member, every metric defined.
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(doc["_aws"]["Timestamp"], 1_764_000_000_123u64);
        assert_eq!(directive["Namespace"], "QDNPhotos");
        assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
        assert_eq!(doc["FunctionName"], "qdn-photos-PhotosFunction-abc");
        let defined = directive["Metrics"].as_array().unwrap();
        assert_eq!(defined.len(), metrics.values().len());
        for definition in defined {
            let name = definition["Name"].as_str().unwrap();
            assert!(doc[name].is_u64(), "{name} has a numeric root value");
            let unit = definition["Unit"].as_str().unwrap();
            assert!(
                ["Count", "Bytes"].contains(&unit),
                "{unit} is a CloudWatch unit"
            );
        }
        assert_eq!(doc["Completions"], 1);
        assert_eq!(doc["BytesCompleted"], 4_200_000);
        assert_eq!(doc["UrlsIssued"], 0);
        assert!(!target().emf(0, &metrics).contains('\n'), "one line");
    }
}
