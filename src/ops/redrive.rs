//! `qdn-photos redrive [--queue-url URL]`: the pipeline's failed events, back through the same
//! processing. Lambda sends an asynchronous invocation that failed every retry to the stack's
//! on-failure queue as a destination record (`requestPayload` is the S3 event). Each message is
//! processed by the pipeline role's own handler and deleted only once that succeeded: a failure
//! leaves it in the queue (visible again after its visibility timeout), so nothing is lost.

use aws_sdk_sqs::Client;
use serde::Deserialize;

use crate::ops::cli::CliError;
use crate::pipeline::context::PipelineContext;
use crate::pipeline::handle_event;

/// What Lambda writes to an on-failure destination, as far as a redrive reads it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DestinationRecord {
    request_payload: Box<serde_json::value::RawValue>,
}

/// The S3 event a destination record carries, or why the message is not one.
pub fn event_of(body: &str) -> Result<String, String> {
    serde_json::from_str::<DestinationRecord>(body)
        .map(|record| record.request_payload.get().to_owned())
        .map_err(|e| format!("not a Lambda destination record: {e}"))
}

/// Counts of a redrive.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Redriven {
    pub recorded: usize,
    /// Left in the queue: unreadable, or failed again.
    pub left: usize,
}

/// Drains `queue_url` through the pipeline once: every message received is tried once.
pub async fn run(
    ctx: &PipelineContext,
    sqs: &Client,
    queue_url: &str,
) -> Result<Redriven, CliError> {
    let mut done = Redriven::default();
    let mut tried = std::collections::HashSet::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            // Long enough to process a batch; a message that fails is back after it.
            .visibility_timeout(300)
            .send()
            .await?;
        let messages = received.messages();
        if messages.is_empty() {
            return Ok(done);
        }
        for message in messages {
            let id = message.message_id().unwrap_or_default().to_owned();
            if !tried.insert(id.clone()) {
                continue;
            }
            let outcome = match event_of(message.body().unwrap_or_default()) {
                Ok(event) => handle_event(ctx, &event, &format!("redrive-{id}"))
                    .await
                    .map_err(|e| e.to_string()),
                Err(why) => Err(why),
            };
            match outcome {
                Ok(outcomes) => {
                    if let Some(receipt) = message.receipt_handle() {
                        sqs.delete_message()
                            .queue_url(queue_url)
                            .receipt_handle(receipt)
                            .send()
                            .await?;
                    }
                    eprintln!("redrive {id}: {}", outcomes.join(", "));
                    done.recorded += 1;
                }
                Err(why) => {
                    eprintln!("redrive {id}: left in the queue: {why}");
                    done.left += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s3_event_is_read_out_of_lambdas_destination_record() {
        let record = r#"{"version":"1.0","timestamp":"2026-12-02T08:00:00.000Z",
            "requestContext":{"requestId":"r","functionArn":"arn:aws:lambda:us-east-1:1:function:p:$LATEST",
                              "condition":"RetriesExhausted","approximateInvokeCount":3},
            "requestPayload":{"Records":[{"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]},
            "responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},
            "responsePayload":{"errorMessage":"timed out"}}"#;
        let event = event_of(record).unwrap();
        assert!(event.starts_with(r#"{"Records""#), "{event}");
        assert!(event_of("hello").is_err());
        assert!(event_of(r#"{"Records":[]}"#).is_err());
    }
}
