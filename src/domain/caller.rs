//! Who acts: the authenticated caller of a request (or the pipeline, acting for S3), which jobs
//! they may touch, and where the request came from. What the audit rows record of every act.

use std::time::SystemTime;

use crate::domain::job::JobId;

/// The authenticated caller of one request: who, on which jobs, from where, and when.
#[derive(Debug, Clone)]
pub struct Caller {
    /// As written to audit rows: `jwt:<sub>`, `user:<name>` or the shared token's principal.
    pub principal: String,
    pub scope: JobScope,
    pub meta: RequestMeta,
    pub now: SystemTime,
}

/// The jobs a principal may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobScope {
    All,
    Jobs(Vec<JobId>),
}

impl JobScope {
    pub fn allows(&self, job: &JobId) -> bool {
        match self {
            JobScope::All => true,
            JobScope::Jobs(jobs) => jobs.contains(job),
        }
    }

    /// `*`, or job ids separated by commas or spaces (as a token's scope is written).
    pub fn parse(list: &str) -> Result<JobScope, String> {
        if list.trim() == "*" {
            return Ok(JobScope::All);
        }
        let jobs = list_items(list)
            .map(|id| JobId::parse(id).map_err(|_| format!("`{id}` is not a job id")))
            .collect::<Result<Vec<_>, _>>()?;
        if jobs.is_empty() {
            return Err("name `*` or at least one job id".into());
        }
        Ok(JobScope::Jobs(jobs))
    }
}

impl std::fmt::Display for JobScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobScope::All => f.write_str("*"),
            JobScope::Jobs(jobs) => {
                for (i, job) in jobs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(job.as_str())?;
                }
                Ok(())
            }
        }
    }
}

/// The items of a list-valued claim, however it arrives: HTTP APIs render a JWT array as
/// `[a b]`, REST APIs as `a,b`, and a JSON array string is `["a","b"]`.
pub fn list_items(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c == ',' || c == '"' || c == '[' || c == ']' || c.is_whitespace())
        .filter(|item| !item.is_empty())
}

/// Who asked, from where, with what, and under which request id: the audit row's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: String,
    pub source_ip: String,
    pub user_agent: String,
}
