// The capture queue's rules (web/capture/queue.js), without a browser: node --test tests/web/
import assert from "node:assert/strict";
import test from "node:test";

import {
  afterUpload, backoff, batches, MAX_BATCH, nextWake, ready, retried, RETRY_STEPS_S, WAITING,
} from "../../web/capture/queue.js";

const photo = (id, fields = {}) => ({ id, job: "j-1", added: Number(id), state: "queued", retryAt: 0, ...fields });

test("ready: oldest first, never one in hand or before its retry time", () => {
  const records = [photo("3"), photo("1"), photo("2", { retryAt: 5_000 }), photo("4")];
  const ids = (list) => list.map((r) => r.id);
  assert.deepEqual(ids(ready(records, new Set(["4"]), 1_000)), ["1", "3"]);
  assert.deepEqual(ids(ready(records, new Set(), 5_000)), ["1", "2", "3", "4"]);
});

test("nextWake: the earliest future retry of a waiting photo, or Infinity", () => {
  const records = [
    photo("1", { retryAt: 9_000 }),
    photo("2", { state: "unsure", retryAt: 7_000 }),
    photo("3", { state: "failed", retryAt: 2_000 }), // a person decides, not a timer
    photo("4", { retryAt: 500 }), // already due
  ];
  assert.equal(nextWake(records, 1_000), 7_000);
  assert.equal(nextWake([photo("5", { state: "failed", retryAt: 9 })], 1), Infinity);
});

test("backoff: each attempt waits longer, within ±20 %, up to the last step", () => {
  let r = photo("1");
  const waits = [];
  for (let i = 0; i < RETRY_STEPS_S.length + 2; i++) {
    const low = backoff(r, "why", "server", 0, 0);
    const high = backoff(r, "why", "server", 0, 0.999999);
    assert.equal(low.attempt, (r.attempt || 0) + 1);
    assert.ok(high.retryAt > low.retryAt && high.retryAt < low.retryAt * 1.5 + 1);
    assert.deepEqual([low.message, low.waitingFor], ["why", "server"]);
    waits.push(low.retryAt);
    r = { ...r, attempt: low.attempt };
  }
  assert.deepEqual(waits, [...RETRY_STEPS_S, 60, 60].map((s) => s * 800));
});

test("backoff: a 429's Retry-After is waited out in full, never less than the step", () => {
  const r = photo("1");
  for (const random of [0, 0.5, 0.999999]) {
    const limited = backoff(r, "At most 60 uploads per minute.", "server", 1_000, random, 42);
    assert.ok(limited.retryAt >= 1_000 + 42_000 && limited.retryAt <= 1_000 + 42_000 * 1.1, `${limited.retryAt}`);
    assert.equal(limited.message, "At most 60 uploads per minute.");
  }
  const short = backoff({ ...r, attempt: 3 }, "why", "server", 0, 0, 1);
  assert.equal(short.retryAt, 30_000 * 0.8, "a short Retry-After never shortens the step (the fourth: 30 s, -20 %)");
});

test("retried: a stored photo is recorded again, an unsure one checked, anything else sent anew", () => {
  assert.equal(retried(photo("1", { state: "sending" })), null, "a photo on its way is left alone");
  assert.equal(retried(photo("1", { state: "recorded" })), null);
  assert.deepEqual(
    { ...retried(photo("1", { state: "failed", stored: true, key: "k" })) },
    { state: "uploaded", key: "k", attempt: 0, retryAt: 0, renewed: false, batch: null, message: "", waitingFor: null },
  );
  assert.equal(retried(photo("1", { state: "unsure", key: "k" })).key, "k");
  assert.deepEqual(
    [retried(photo("1", { state: "failed", key: "k" })).state, retried(photo("1", { state: "failed", key: "k" })).key],
    ["queued", null],
  );
  for (const state of WAITING) assert.ok(retried(photo("1", { state })), state);
});

test("batches: a sent batch is resent as it was; new ones per job, at most MAX_BATCH", () => {
  const uploaded = [
    ...Array.from({ length: MAX_BATCH + 2 }, (_, i) => photo(String(i), { state: "uploaded" })),
    photo("a", { state: "uploaded", job: "j-2" }),
    photo("b", { state: "uploaded", batch: "kept" }),
    photo("c", { state: "uploaded", batch: "kept" }),
  ];
  const got = batches(uploaded).map((b) => [b.batch, b.records.length, b.records[0].job]);
  assert.deepEqual(got, [[null, MAX_BATCH, "j-1"], [null, 2, "j-1"], [null, 1, "j-2"], ["kept", 2, "j-1"]]);
});

test("afterUpload: stored, retried later, renewed once when expired, or failed with S3's words", () => {
  for (const status of [200, 201, 204]) assert.equal(afterUpload(photo("1"), { status, message: "" }).changes.state, "uploaded");
  assert.equal(afterUpload(photo("1"), { status: 503, message: "" }).retry, "Storage is not answering.");
  const expired = { status: 403, message: "Request has expired" };
  assert.deepEqual(afterUpload(photo("1"), expired).changes, { state: "queued", key: null, renewed: true });
  assert.match(afterUpload(photo("1", { renewed: true }), expired).failure, /expired twice/);
  assert.equal(
    afterUpload(photo("1"), { status: 400, message: "Policy check failed" }).failure,
    "Storage refused the upload: Policy check failed.",
  );
  assert.equal(afterUpload(photo("1"), { status: 400, message: "" }).failure, "Storage refused the upload.");
});
