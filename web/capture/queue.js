// The queue's rules, apart from any I/O: which photos may start, how long a failing one waits,
// how finished uploads are batched for recording, and what S3's answer means for a photo.
//
//   queued    waiting for its turn, the connection, sign-in, or its retry time
//   granting  asking the API for a presigned POST (a fresh one on every attempt: grants expire)
//   sending   its bytes are on the way to S3 under `key` (kept in the store before the first byte)
//   unsure    the connection broke while sending, or the page closed: S3 may or may not hold `key`.
//             Asking the API to record that one key tells which (201/200: it does; 409
//             objects_missing: it does not, so the photo is sent again under a fresh grant)
//   uploaded  S3 answered 201; recorded with whatever else finishes within BATCH_WINDOW_MS
//   recorded  the API recorded it: gone from the store, shown in the strip
//   failed    cannot succeed as it is (too large, refused); the row offers Retry and Remove

export const PARALLEL = 3;
export const BATCH_WINDOW_MS = 300;
export const MAX_BATCH = 50; // the API's limit of keys per completion
export const RETRY_STEPS_S = [2, 5, 15, 30, 60];
// States that wait for a turn (a retry time, the connection, sign-in) rather than for a person.
export const WAITING = ["queued", "unsure", "uploaded"];
// States in which a photo's upload (not its recording) is still to do.
export const TO_SEND = ["queued", "granting", "sending", "unsure"];

/** Records that may start at `now`, oldest first: not in hand (`active`), past any retry time. */
export function ready(records, active, now) {
  return [...records]
    .filter((r) => !active.has(r.id) && (r.retryAt || 0) <= now)
    .sort((a, b) => a.added - b.added);
}

/** When the next waiting record's retry time comes, or Infinity. */
export function nextWake(records, now) {
  return Math.min(...[...records].filter((r) => WAITING.includes(r.state) && r.retryAt > now).map((r) => r.retryAt));
}

/**
 * The changes for one more failed attempt of `r`: a growing, jittered wait (`random` in [0, 1)),
 * or at least what the server asked for (a 429's `Retry-After`, `retryAfterS`).
 */
export function backoff(r, message, waitingFor, now, random = Math.random(), retryAfterS = 0) {
  const attempt = (r.attempt || 0) + 1;
  const secs = RETRY_STEPS_S[Math.min(attempt, RETRY_STEPS_S.length) - 1];
  const wait = Math.max(secs * 1000 * (0.8 + random * 0.4), retryAfterS * 1000 * (1 + random * 0.1));
  return { attempt, retryAt: now + wait, message, waitingFor };
}

/** The changes a person's Retry makes, or null where Retry does not apply. */
export function retried(r) {
  if (![...WAITING, "failed"].includes(r.state)) return null;
  const state = r.stored ? "uploaded" : r.state === "unsure" ? "unsure" : "queued";
  return { state, key: state === "queued" ? null : r.key, attempt: 0, retryAt: 0, renewed: false, batch: null,
    message: "", waitingFor: null };
}

/**
 * Uploaded records grouped for recording: a batch once sent is sent again exactly as it was (so a
 * lost answer is answered on the retry); new ones per job, at most MAX_BATCH a batch. Each entry
 * is `{ batch, records }`, `batch` null for a new one.
 */
export function batches(uploaded) {
  const groups = new Map();
  for (const r of uploaded) {
    const id = r.batch || `new:${r.job}`;
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id).push(r);
  }
  const out = [];
  for (const [id, records] of groups) {
    for (let i = 0; i < records.length; i += MAX_BATCH) {
      out.push({ batch: id.startsWith("new:") ? null : id, records: records.slice(i, i + MAX_BATCH) });
    }
  }
  return out;
}

/**
 * What S3's answer to the form POST means for `r`: `{ changes }` to save, with `failure` set
 * where the photo cannot succeed as it is.
 */
export function afterUpload(r, result) {
  if ([200, 201, 204].includes(result.status)) {
    return { changes: { state: "uploaded", stored: true, progress: 100, attempt: 0, retryAt: 0, message: "" } };
  }
  if (result.status >= 500) return { retry: "Storage is not answering." };
  const expired = /expire/i.test(result.message);
  if (expired && !r.renewed) return { changes: { state: "queued", key: null, renewed: true } }; // a fresh grant, once
  return {
    failure: expired
      ? "The upload link expired twice. Check the phone's clock, then try again."
      : `Storage refused the upload${result.message ? `: ${result.message}` : ""}.`,
  };
}
