//! The local stack (started by `make test` / `scripts/stack.sh`), the real [`App`] wired to it,
//! and a browser-like multipart POST to S3. Requests are built with the crate's own
//! [`ApiEvent`], so every test parses events exactly as the Lambda runtime does.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use lambda_http::http::StatusCode;
use lambda_http::Body;
use qdn_photos::api::app::App;
use qdn_photos::api::config::ApiConfig;
use qdn_photos::api::context::ApiContext;
use qdn_photos::config::Env;
pub use qdn_photos::dev::api_events::{ApiEvent, SOURCE_IP, TOKEN};
use qdn_photos::pipeline::config::PipelineConfig;
use qdn_photos::pipeline::context::PipelineContext;
use qdn_photos::store::clients::CallBudget;
use serde_json::Value;

/// The running local stack, from the variables `scripts/stack.sh` writes to `.stack/env`.
#[derive(Clone, Debug)]
pub struct Stack {
    pub s3_endpoint: String,
    pub dynamodb_endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    pub bucket: String,
    pub table: String,
    /// The export queue (moto's SQS), as template.yaml's `ExportRequests`.
    pub export_queue_url: String,
}

/// One function of template.yaml, as deployed for some parameters.
#[derive(Clone, Debug)]
pub struct TemplateFunction {
    pub handler: String,
    pub memory_size: String,
    pub variables: HashMap<String, String>,
}

/// Whose SDK budget a client gets: the function's own (2 s per attempt, as in production), or the
/// test's, generous enough that a slow machine never fails a test by reading its results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    Function,
    Test,
}

impl Budget {
    pub fn sdk_config(self, region: &str, creds: Credentials) -> SdkConfig {
        // The test's: an operator's patience (30 s attempts, five tries).
        let (timeouts, retries) = match self {
            Budget::Function => CallBudget::Function,
            Budget::Test => CallBudget::Operator,
        }
        .timeouts_and_retries();
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .timeout_config(timeouts)
            .retry_config(retries)
            .build()
    }
}

impl Stack {
    pub fn get() -> Stack {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: run the tests with `make test`, which starts the local stack")
            })
        };
        Stack {
            s3_endpoint: var("AWS_ENDPOINT_URL_S3"),
            dynamodb_endpoint: var("AWS_ENDPOINT_URL_DYNAMODB"),
            access_key: var("AWS_ACCESS_KEY_ID"),
            secret_key: var("AWS_SECRET_ACCESS_KEY"),
            region: var("AWS_REGION"),
            bucket: var("UPLOADS_BUCKET"),
            table: var("AUDIT_TABLE"),
            export_queue_url: var("EXPORT_QUEUE_URL"),
        }
    }

    pub fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key,
            &self.secret_key,
            None,
            None,
            "local-stack",
        )
    }

    /// The test's own S3 client, for setup and for reading back what S3 holds.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.s3_at(&self.s3_endpoint, self.credentials(), Budget::Test)
    }

    pub fn s3_at(&self, endpoint: &str, creds: Credentials, budget: Budget) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&budget.sdk_config(&self.region, creds))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// An SQS client on moto's queues (the export queue, the pipeline's failure queue).
    pub fn sqs(&self, budget: Budget) -> aws_sdk_sqs::Client {
        let conf = aws_sdk_sqs::config::Builder::from(
            &budget.sdk_config(&self.region, self.credentials()),
        )
        .endpoint_url(&self.dynamodb_endpoint)
        .build();
        aws_sdk_sqs::Client::from_conf(conf)
    }

    /// A new export queue of the test's own (nothing else, `make dev`'s stand-in included, reads
    /// it), as `EXPORT_QUEUE_URL` overrides for the API.
    pub async fn own_export_queue(&self) -> String {
        let name = format!("exports-{}", &new_job()[2..]);
        let made = self
            .sqs(Budget::Test)
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap();
        made.queue_url().unwrap().to_owned()
    }

    /// The export role as `template.yaml` deploys it, wired to the stack.
    pub fn exports(&self) -> qdn_photos::exports::ExportsContext {
        let vars = self.lambda_env("ExportFunction", &[]);
        let lookup = |name: &str| vars.get(name).cloned();
        let config = qdn_photos::exports::ExportsConfig::from_env(&Env::new(&lookup))
            .expect("the template's export environment");
        qdn_photos::exports::ExportsContext::new(
            config,
            self.s3_at(&self.s3_endpoint, self.credentials(), Budget::Test),
            self.dynamodb_at(&self.dynamodb_endpoint, Budget::Test),
        )
    }

    /// The test's own DynamoDB client, for setup and for reading back the audit log.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        self.dynamodb_at(&self.dynamodb_endpoint, Budget::Test)
    }

    pub fn dynamodb_at(&self, endpoint: &str, budget: Budget) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::config::Builder::from(
            &budget.sdk_config(&self.region, self.credentials()),
        )
        .endpoint_url(endpoint)
        .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    /// `function` as template.yaml deploys it for `params` (the others at their defaults): its
    /// `Handler`, `MemorySize` and `Environment.Variables`, the stack's bucket and table named as
    /// the local servers have them. Read once per set of parameters (scripts/template_env.py).
    pub fn template_env(&self, function: &str, params: &[(&str, &str)]) -> TemplateFunction {
        static READ: Mutex<Vec<(String, TemplateFunction)>> = Mutex::new(Vec::new());
        let mut args = vec![
            "scripts/template_env.py".to_owned(),
            function.to_owned(),
            format!("--resource=UploadsBucket={}", self.bucket),
            format!("--resource=AuditTable={}", self.table),
            format!("--resource=ExportRequests={}", self.export_queue_url),
        ];
        args.extend(params.iter().map(|(k, v)| format!("--param={k}={v}")));
        let id = args.join(" ");
        let mut read = READ.lock().unwrap();
        if let Some((_, function)) = read.iter().find(|(key, _)| *key == id) {
            return function.clone();
        }
        let out = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python".into()))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("python (the venv scripts/lib.sh puts on PATH) runs scripts/template_env.py");
        assert!(
            out.status.success(),
            "template_env.py {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let function = TemplateFunction {
            handler: json["Handler"].as_str().unwrap().to_owned(),
            memory_size: json["MemorySize"].as_str().unwrap().to_owned(),
            variables: serde_json::from_value(json["Variables"].clone()).unwrap(),
        };
        read.push((id, function.clone()));
        function
    }

    /// Everything `function` deployed with `params` finds in its environment: the template's
    /// variables; what Lambda itself sets (`_HANDLER` from the template's `Handler`, the region,
    /// the function's name, memory, version and log names, the role's credentials); and the local
    /// servers' addresses where AWS's would be (`AWS_ENDPOINT_URL_*`, path-style addressing for
    /// Garage). Nothing else.
    pub fn lambda_env(&self, function: &str, params: &[(&str, &str)]) -> HashMap<String, String> {
        let deployed = self.template_env(function, params);
        let mut vars = deployed.variables;
        let log_group = format!("/aws/lambda/{function}");
        for (name, value) in [
            ("_HANDLER", deployed.handler.as_str()),
            ("AWS_REGION", &self.region),
            ("AWS_LAMBDA_FUNCTION_NAME", function),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &deployed.memory_size),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", &log_group),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/12/02/[$LATEST]0123456789abcdef",
            ),
            ("AWS_ACCESS_KEY_ID", &self.access_key),
            ("AWS_SECRET_ACCESS_KEY", &self.secret_key),
            ("AWS_ENDPOINT_URL_S3", &self.s3_endpoint),
            ("AWS_ENDPOINT_URL_DYNAMODB", &self.dynamodb_endpoint),
            ("S3_FORCE_PATH_STYLE", "true"),
        ] {
            vars.insert(name.to_owned(), value.to_owned());
        }
        vars
    }

    /// The parameters of a stack that reuses this bucket (`CreateBucket=false`).
    pub fn reusing_bucket(&self) -> [(&str, &str); 2] {
        [
            ("CreateBucket", "false"),
            ("UploadsBucketName", self.bucket.as_str()),
        ]
    }

    /// The pipeline role as `template.yaml` deploys it with `params`, wired to the stack.
    pub fn pipeline(&self, params: &[(&str, &str)]) -> PipelineContext {
        self.pipeline_on(params, &self.s3_endpoint)
    }

    /// The same, its S3 calls going to `s3_endpoint` (moto's, which keeps versions).
    pub fn pipeline_on(&self, params: &[(&str, &str)], s3_endpoint: &str) -> PipelineContext {
        self.pipeline_with(params, s3_endpoint, Budget::Function)
    }

    /// The pipeline with the test's SDK budget, for tests that load moto with many requests at
    /// once: there an answer slower than the function's 2 s attempt says nothing about the test.
    pub fn pipeline_under_load(&self, params: &[(&str, &str)]) -> PipelineContext {
        self.pipeline_with(params, &self.s3_endpoint, Budget::Test)
    }

    fn pipeline_with(
        &self,
        params: &[(&str, &str)],
        s3_endpoint: &str,
        budget: Budget,
    ) -> PipelineContext {
        let vars = self.lambda_env("PipelineFunction", params);
        let lookup = |name: &str| vars.get(name).cloned();
        let config = PipelineConfig::from_env(&Env::new(&lookup))
            .expect("the template's pipeline environment");
        PipelineContext::new(
            config,
            self.s3_at(s3_endpoint, self.credentials(), budget),
            self.dynamodb_at(&self.dynamodb_endpoint, budget),
        )
    }

    /// The API role as `template.yaml` deploys it for the tests (shared token, the dashboard at
    /// `http://localhost:8080`), plus `overrides` (an empty value unsets). Every test acts as the
    /// shared token's one principal, so its grant limits are the template's highest.
    pub fn config(&self, overrides: &[(&str, &str)]) -> ApiConfig {
        self.config_with(
            &[
                ("GrantsPerMinute", "10000"),
                ("GrantsPerJobPerDay", "1000000"),
            ],
            overrides,
        )
    }

    /// The same with the template's `params`.
    pub fn config_with(&self, params: &[(&str, &str)], overrides: &[(&str, &str)]) -> ApiConfig {
        let hash = qdn_photos::dev::api_events::token_sha256_hex();
        let mut all = vec![
            ("DashboardOrigin", "http://localhost:8080"),
            ("AuthMode", "shared-token"),
            ("AuthTokenSha256", hash.as_str()),
        ];
        all.extend_from_slice(params);
        let vars = self.lambda_env("PhotosFunction", &all);
        let lookup = |name: &str| match overrides.iter().rev().find(|(n, _)| *n == name) {
            Some((_, value)) => Some((*value).to_owned()),
            None => vars.get(name).cloned(),
        };
        let config = ApiConfig::from_env(&Env::new(&lookup));
        config.unwrap_or_else(|err| panic!("test configuration: {err}"))
    }

    /// The function as it runs in production (its own SDK budget), wired to the stack.
    pub fn app(&self, overrides: &[(&str, &str)]) -> App {
        self.app_with(
            overrides,
            &self.s3_endpoint,
            &self.dynamodb_endpoint,
            self.credentials(),
        )
    }

    pub fn app_with(
        &self,
        overrides: &[(&str, &str)],
        s3: &str,
        dynamodb: &str,
        creds: Credentials,
    ) -> App {
        self.app_budget(
            self.config(overrides),
            s3,
            dynamodb,
            creds,
            Budget::Function,
        )
    }

    /// The function with the test's SDK budget, for tests that load moto (see
    /// [`Stack::pipeline_under_load`]).
    pub fn app_under_load(&self, overrides: &[(&str, &str)]) -> App {
        let (s3, dynamodb) = (&self.s3_endpoint, &self.dynamodb_endpoint);
        let config = self.config(overrides);
        self.app_budget(config, s3, dynamodb, self.credentials(), Budget::Test)
    }

    /// The function deployed with the template's `params` (the tests' defaults otherwise).
    pub fn app_deployed_with(&self, params: &[(&str, &str)], overrides: &[(&str, &str)]) -> App {
        let (s3, dynamodb) = (&self.s3_endpoint, &self.dynamodb_endpoint);
        let config = self.config_with(params, overrides);
        self.app_budget(config, s3, dynamodb, self.credentials(), Budget::Function)
    }

    /// The same on another S3 endpoint (moto's, for versions).
    pub fn app_on(&self, params: &[(&str, &str)], overrides: &[(&str, &str)], s3: &str) -> App {
        let config = self.config_with(params, overrides);
        let (dynamodb, creds) = (&self.dynamodb_endpoint, self.credentials());
        self.app_budget(config, s3, dynamodb, creds, Budget::Function)
    }

    fn app_budget(
        &self,
        config: ApiConfig,
        s3: &str,
        dynamodb: &str,
        creds: Credentials,
        budget: Budget,
    ) -> App {
        App::new(
            ApiContext::new(
                config,
                self.s3_at(s3, creds.clone(), budget),
                self.dynamodb_at(dynamodb, budget),
                SharedCredentialsProvider::new(creds),
            )
            .with_export_queue(self.sqs(budget)),
        )
    }

    /// A new bucket with versioning on, in moto's S3 (Garage keeps no versions), and the test's
    /// client for it.
    pub async fn versioned_bucket(&self) -> (String, aws_sdk_s3::Client) {
        let bucket = format!(
            "qdn-versions-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let s3 = self.s3_at(&self.dynamodb_endpoint, self.credentials(), Budget::Test);
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        s3.put_bucket_versioning()
            .bucket(&bucket)
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        (bucket, s3)
    }

    /// All of a job's audit rows, oldest first (its index rows left out).
    pub async fn audit_rows(&self, job_id: &str) -> Vec<HashMap<String, AttributeValue>> {
        let mut rows = self.partition(job_id).await;
        rows.retain(|r| r.contains_key("event"));
        rows
    }

    /// A job's index rows whose sort key starts with `prefix` (`GRANT#` or `PHOTO#`).
    pub async fn index_rows(
        &self,
        job_id: &str,
        prefix: &str,
    ) -> Vec<HashMap<String, AttributeValue>> {
        let mut rows = self.partition(job_id).await;
        rows.retain(|r| r["sk"].as_s().is_ok_and(|sk| sk.starts_with(prefix)));
        rows
    }

    /// Every row of the job's partition (every page of the query).
    async fn partition(&self, job_id: &str) -> Vec<HashMap<String, AttributeValue>> {
        let dynamodb = self.dynamodb();
        let mut rows = Vec::new();
        let mut start = None;
        loop {
            let page = dynamodb
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(format!("JOB#{job_id}")))
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("query audit rows");
            rows.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return rows;
            }
        }
    }

    /// The audit rows of one event, e.g. `upload_completed`.
    pub async fn audit_events(
        &self,
        job_id: &str,
        event: &str,
    ) -> Vec<HashMap<String, AttributeValue>> {
        let mut rows = self.audit_rows(job_id).await;
        rows.retain(|r| r["event"].as_s().is_ok_and(|e| e == event));
        rows
    }

    pub async fn object(&self, key: &str) -> Option<Vec<u8>> {
        match self
            .s3()
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Some(out.body.collect().await.unwrap().into_bytes().to_vec()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => None,
            Err(err) => panic!(
                "GetObject {key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&err)
            ),
        }
    }
}

/// The message the API queued for `job`'s export `export_id`, taken off the export queue (others'
/// messages are left for them).
pub async fn queued_export(stack: &Stack, queue_url: &str, job: &str, export_id: &str) -> String {
    let sqs = stack.sqs(Budget::Test);
    // Short polls (moto answers one request at a time: a long poll would stall the other tests).
    for _ in 0..240 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        for message in received.messages() {
            let body = message.body().unwrap_or_default();
            let parsed: Value = serde_json::from_str(body).unwrap_or_default();
            let handle = message.receipt_handle().unwrap();
            if parsed["job_id"] == job && parsed["export_id"] == export_id {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .unwrap();
                return body.to_owned();
            }
            sqs.change_message_visibility()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
        }
    }
    panic!("no export message for {job} {export_id}");
}

/// The keys of a `/photos` page's photos, in its order.
pub fn photo_keys(page: &Value) -> Vec<String> {
    page["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap().to_owned())
        .collect()
}

/// A job id of its own for each test, so tests never see each other's objects or rows.
pub fn new_job() -> String {
    format!("t-{}", uuid::Uuid::new_v4().simple())
}

/// `GET path_and_query` with the test bearer token.
pub fn get(path_and_query: &str) -> ApiEvent {
    ApiEvent::get(path_and_query)
        .bearer(TOKEN)
        .header("user-agent", "qdn-photos-tests")
}

/// `POST path` with the test bearer token and `body` as JSON.
pub fn post_json(path: &str, body: &Value) -> ApiEvent {
    ApiEvent::post(path)
        .bearer(TOKEN)
        .header("user-agent", "qdn-photos-tests")
        .json(body)
}

/// A port on loopback that refuses connections: bound (so nothing else takes it) but never
/// listening. Keep the socket for as long as the port must stay dead.
pub fn dead_port() -> (tokio::net::TcpSocket, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, format!("http://127.0.0.1:{port}"))
}

/// Calls the handler; returns the status and the JSON body (every response must be JSON).
pub async fn call(app: &App, event: ApiEvent) -> (StatusCode, Value) {
    let resp = app.handle(event.request()).await;
    let status = resp.status();
    assert_eq!(
        resp.headers()["content-type"],
        "application/json",
        "every response is JSON"
    );
    (status, body_json(resp.body()))
}

/// A response body as JSON (every response must be JSON).
pub fn body_json(body: &Body) -> Value {
    let bytes = match body {
        Body::Binary(b) => b.clone(),
        Body::Text(t) => t.clone().into_bytes(),
        _ => Vec::new(),
    };
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {bytes:?}"))
}

/// Asserts the documented error envelope and returns its code.
pub fn error_code(status: StatusCode, body: &Value, expected_status: u16) -> String {
    assert_eq!(status.as_u16(), expected_status, "body: {body}");
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    error["code"].as_str().expect("error.code").to_owned()
}

/// Asks for an upload URL for `job_id`, asserting success.
pub async fn issue(app: &App, job_id: &str, query: &str) -> Value {
    let (status, body) = call(app, get(&format!("/upload-url?job_id={job_id}{query}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A PUT of `bytes` to a presigned URL with `headers`; S3's status and body.
pub async fn put_to_s3(url: &str, headers: &[(&str, &str)], bytes: Vec<u8>) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .put(url)
        .body(bytes)
        .timeout(Duration::from_secs(60));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.expect("PUT to S3");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// S3 refused an upload (Garage's codes differ from AWS's; any 4xx is a refusal).
pub fn assert_refused(status: u16, body: &str) {
    assert!(
        (400..500).contains(&status),
        "S3 should refuse, got {status}: {body}"
    );
}

/// Issues a URL for `job_id` and uploads `bytes` with it, asserting S3's 201; returns the key.
pub async fn upload(app: &App, job_id: &str, bytes: Vec<u8>) -> String {
    let grant = issue(app, job_id, "").await;
    let (status, body) = post_form(&grant, |_| {}, bytes).await;
    assert_eq!(status, 201, "{body}");
    grant["key"].as_str().unwrap().to_owned()
}

/// What a browser sends: the returned fields in order (with `edit` applied), then the file.
pub async fn post_form(
    grant: &Value,
    edit: impl FnOnce(&mut Vec<(String, String)>),
    file: Vec<u8>,
) -> (u16, String) {
    let mut fields: Vec<(String, String)> = grant["fields"]
        .as_object()
        .expect("fields")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string field").to_owned()))
        .collect();
    edit(&mut fields);
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name, value);
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(file).file_name("photo.jpg"),
    );
    let resp = reqwest::Client::new()
        .post(grant["url"].as_str().expect("url"))
        .multipart(form)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("POST to S3");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// Uploads `bytes` to `job` and records the completion, asserting both; returns the key.
pub async fn upload_completed(app: &App, job_id: &str, bytes: Vec<u8>) -> String {
    let key = upload(app, job_id, bytes).await;
    let body = serde_json::json!({"job_id": job_id, "keys": [key]});
    let (status, resp) = call(app, post_json("/upload-url", &body)).await;
    assert_eq!(status, StatusCode::CREATED, "{resp}");
    key
}

/// The size and ETag of `key` as Garage stores it now.
pub async fn stored(stack: &Stack, key: &str) -> (u64, String) {
    let head = stack
        .s3()
        .head_object()
        .bucket(&stack.bucket)
        .key(key)
        .send()
        .await
        .expect("the object is stored");
    let size = head.content_length().unwrap_or_default() as u64;
    (size, head.e_tag().unwrap_or_default().to_owned())
}

/// GETs `url` (a presigned photo or thumbnail URL): its status, bytes and Content-Disposition.
pub async fn download(url: &str) -> (u16, Vec<u8>, Option<String>) {
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    let disposition = resp
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, resp.bytes().await.unwrap().to_vec(), disposition)
}

/// What S3 would send the pipeline for `key` as it is stored now (Garage sends no events): the
/// pipeline role checks, records and lists it. Returns the outcomes it logs.
pub async fn deliver(stack: &Stack, pipeline: &PipelineContext, key: &str) -> Vec<String> {
    let (size, etag) = stored(stack, key).await;
    let event =
        qdn_photos::dev::s3_events::notification(&stack.bucket, &[(key, size, &etag, None)]);
    qdn_photos::pipeline::handle_event(pipeline, &event, "test-delivery")
        .await
        .expect("the pipeline handles the event")
}

/// Uploads `bytes` (a photo the pipeline accepts) to `job`, records the completion and delivers
/// S3's event to the pipeline, asserting each step; returns the key, now listed.
pub async fn upload_listed(
    stack: &Stack,
    app: &App,
    pipeline: &PipelineContext,
    job_id: &str,
    bytes: Vec<u8>,
) -> String {
    let key = upload_completed(app, job_id, bytes).await;
    let outcomes = deliver(stack, pipeline, &key).await;
    assert_eq!(outcomes, ["listed, thumbnail created"], "{key}");
    key
}

pub fn set_field(fields: &mut [(String, String)], name: &str, value: &str) {
    let field = fields
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no field {name}"));
    field.1 = value.to_owned();
}

/// Deterministic bytes that look nothing like each other from one seed to the next.
pub fn photo_bytes(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A moto server (DynamoDB) of one test's own, with the stack's table: stopping or flooding it
/// disturbs no other test.
pub struct OwnDynamo {
    pub port: u16,
    child: Option<Child>,
}

impl OwnDynamo {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts moto on a free port (any port when `port` is `None`), checking that what answers
    /// there is this moto: another process may take a port between our choosing it and moto
    /// binding it, and then moto exits and we choose again.
    pub async fn start(port: Option<u16>, stack: &Stack) -> OwnDynamo {
        for _ in 0..10 {
            let port = port.unwrap_or_else(|| {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                listener.local_addr().unwrap().port()
            });
            let launcher = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/moto_server.py");
            let child = Command::new("python")
                .args([launcher, "-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("the venv's python on PATH (make test puts it there)");
            let mut own = OwnDynamo {
                port,
                child: Some(child),
            };
            if own.answers().await {
                own.create_table(stack).await;
                return own;
            }
            own.stop();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("moto did not start on a free port in 10 tries");
    }

    /// Whether this moto process is up and answering its own API (not some other listener).
    async fn answers(&mut self) -> bool {
        let url = format!("{}/moto-api/", self.endpoint());
        let client = reqwest::Client::new();
        for _ in 0..600 {
            let exited = self
                .child
                .as_mut()
                .is_none_or(|c| c.try_wait().ok().flatten().is_some());
            if exited {
                return false;
            }
            let ok = client
                .get(&url)
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    async fn create_table(&self, stack: &Stack) {
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .unwrap()
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap()
        };
        stack
            .dynamodb_at(&self.endpoint(), Budget::Test)
            .create_table()
            .table_name(&stack.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .attribute_definitions(attr("pk"))
            .attribute_definitions(attr("sk"))
            .send()
            .await
            .expect("create table");
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for OwnDynamo {
    fn drop(&mut self) {
        self.stop();
    }
}
