//! The queue of evidence exports (SQS): the API sends `{job_id, export_id}` once the request is
//! audited; Lambda's SQS event source hands it to the export function, which builds the archive
//! outside any HTTP request (an archive of a 2 GB job takes minutes; a request has seconds).

use serde::{Deserialize, Serialize};

use crate::domain::job::JobId;
use crate::store::error::{Dependency, StoreError};

/// One export to build: its job and id (the `EXPORT#` row says who asked, and when).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportMessage {
    pub job_id: String,
    pub export_id: String,
}

pub struct ExportQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl ExportQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> Self {
        ExportQueue { client, url }
    }

    pub async fn send(&self, job: &JobId, export_id: &str) -> Result<(), StoreError> {
        let body = serde_json::to_string(&ExportMessage {
            job_id: job.to_string(),
            export_id: export_id.to_owned(),
        })
        .map_err(|_| StoreError::Internal)?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::sdk_failure(
                "SendMessage",
                Dependency::ExportQueue,
            ))
    }
}
