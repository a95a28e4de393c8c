// The upload engine, one per page however many drawers mount it. Every chosen photo goes into the
// store first, then through the states described in queue.js, which holds the rules; this file
// does the I/O (the API, S3 through transport.js, the store) and keeps tabs apart.
//
// Nothing is uploaded twice (a photo is only sent again once the API said S3 lacks it) and nothing
// is recorded twice (a completion batch is kept and resent as it was; the API answers a repeat with
// the first record). A photo that keeps failing only ever holds up itself.

import { ApiError } from "./api.js";
import {
  afterUpload, backoff, BATCH_WINDOW_MS, batches, nextWake, PARALLEL, ready, retried, TO_SEND, WAITING,
} from "./queue.js";
import { contentType, megabytes as MB } from "./sniff.js";
import { MemoryStore, StorageFullError, StorageSilentError } from "./store.js";
import { postToS3 } from "./transport.js";

/** The most grants one request asks for (the API's limit), and the life a grant must have left. */
const MAX_GRANTS = 20;
const GRANT_MARGIN_MS = 60_000;

/** Web Locks keep two tabs of the dashboard from sending the same photo; without them, one tab. */
async function withLock(name, fn) {
  if (!navigator.locks) return fn();
  return navigator.locks.request(name, { ifAvailable: true }, (lock) => (lock ? fn() : "busy"));
}

export class Uploader extends EventTarget {
  /** The engine over `store`, with the queue it already holds (from earlier visits) loaded. */
  static async start(api, bucketOrigin, store) {
    const uploader = new Uploader(api, bucketOrigin, store);
    // A storage that does not answer leaves an empty queue in memory, not a page that never starts.
    await uploader.sync().catch(() => {});
    uploader.pump();
    return uploader;
  }

  constructor(api, bucketOrigin, store) {
    super();
    this.api = api;
    this.bucketOrigin = bucketOrigin;
    this.store = store;
    this.records = new Map();
    this.active = new Set(); // ids this tab is working on (an upload or a completion)
    this.grants = new Map(); // id -> a grant asked for with another photo's (a promise; in memory only)
    this.authPaused = false;
    this.timer = null;
    this.flushTimer = null;
    this.askedPersistence = false;
    addEventListener("online", () => this.retryAll());
    addEventListener("offline", () => this.emit());
    // Another tab changed the queue: read it again.
    this.channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("qdn-capture") : null;
    if (this.channel) this.channel.onmessage = () => this.sync().catch(() => {}).then(() => this.pump());
  }

  /** The photos of `job`, oldest first, as the rows show them. */
  photos(job) {
    return [...this.records.values()].filter((r) => r.job === job).sort((a, b) => a.added - b.added);
  }

  async add(job, files) {
    if (!this.askedPersistence) {
      this.askedPersistence = true;
      // Ask the browser not to evict the queue under storage pressure (best effort).
      navigator.storage?.persist?.().catch(() => {});
    }
    for (const file of files) {
      const r = {
        id: crypto.randomUUID(), job, name: file.name || "photo", type: contentType(file), size: file.size,
        added: Date.now() + this.records.size / 1000, state: "queued", attempt: 0, retryAt: 0, message: "",
      };
      r.blob = file;
      let refused = null;
      try {
        if (!this.store.persistent) throw new StorageSilentError("kept in memory only");
        await this.store.add(this.stored(r), file);
      } catch (err) {
        refused = err;
        // A storage that stopped answering is not asked again: the rest of the queue lives in
        // memory (every later photo would otherwise wait out the timeout first).
        if (err instanceof StorageSilentError && this.store.persistent) this.store = new MemoryStore();
        await this.store.add(this.stored(r), file).catch(() => {});
      }
      if (refused) {
        r.unsaved = true;
        // A note (unlike a message) stays for as long as the row: it is true of the photo.
        r.note = refused instanceof StorageFullError
          ? "The phone's storage for this page is full, so this photo is not kept for later: keep the page open until it is uploaded, or free some space."
          : "This photo could not be kept for later: keep the page open until it is uploaded.";
        this.announce(job, `${r.name}: ${r.note}`);
      }
      this.records.set(r.id, r);
    }
    this.emit();
    this.pump();
  }

  retry(id) {
    const r = this.records.get(id);
    const changes = r && !this.active.has(id) && retried(r);
    if (!changes) return;
    this.save(r, changes);
    this.resume();
  }

  async remove(id) {
    const r = this.records.get(id);
    if (!r || this.active.has(id) || !["failed", "queued"].includes(r.state)) return;
    this.records.delete(id);
    await this.store.delete(id).catch(() => {});
    this.emit();
    this.channel?.postMessage("changed");
  }

  /** Signed in again (or the host has a fresh token): carry on. */
  resume() {
    this.authPaused = false;
    this.retryAll();
  }

  retryAll() {
    for (const r of this.records.values()) {
      if (WAITING.includes(r.state)) {
        r.retryAt = 0;
        r.waitingFor = null;
      }
    }
    this.emit();
    this.pump();
  }

  /** Starts what can start now; wakes up again at the next retry time. */
  pump() {
    clearTimeout(this.timer);
    if (this.authPaused) return;
    if (!navigator.onLine) return this.emit(); // the `online` event starts everything again
    const now = Date.now();
    const startable = ready(this.records.values(), this.active, now);
    let running = [...this.active].filter((id) => this.records.get(id)?.state !== "uploaded").length;
    for (const r of startable) {
      if (running >= PARALLEL) break;
      if (!TO_SEND.includes(r.state)) continue;
      running++;
      this.work(r.id, `photo:${r.id}`, () => this.send(r));
    }
    if (startable.some((r) => r.state === "uploaded") && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, BATCH_WINDOW_MS);
    }
    const next = nextWake(this.records.values(), now);
    if (Number.isFinite(next)) this.timer = setTimeout(() => this.pump(), next - now + 10);
  }

  /** Runs `fn` for the records `ids` under one lock; another tab holding it means it is theirs. */
  work(ids, lock, fn) {
    ids = [].concat(ids);
    for (const id of ids) this.active.add(id);
    withLock(`qdn-capture:${lock}`, async () => {
      // What the store says now (another tab may have moved on) is what this tab works from.
      for (const id of ids) {
        const r = this.records.get(id);
        const fresh = this.store.persistent && !r?.unsaved ? await this.store.get(id) : r;
        if (!fresh) {
          if (r && r.state !== "recorded") Object.assign(r, { state: "recorded", message: "" });
          return;
        }
        if (fresh !== r) Object.assign(r, fresh);
      }
      await fn();
    })
      .then((outcome) => {
        // Another tab is on it: look again later (its changes arrive on the channel sooner).
        if (outcome === "busy") for (const id of ids) this.records.get(id).retryAt = Date.now() + 2000;
      })
      .catch((err) => console.error("qdn-capture:", err?.name || "error")) // never the request or the token
      .finally(() => {
        for (const id of ids) this.active.delete(id);
        this.emit();
        this.pump();
      });
  }

  async send(r) {
    if (r.state === "recorded" || r.state === "uploaded" || r.state === "failed") return;
    if (r.state === "sending" || r.state === "unsure") return this.complete(r.job, [r], { probe: true });
    this.save(r, { state: "granting", message: "", waitingFor: null }, { keep: false });
    const blob = r.blob || (r.blob = await this.store.bytes(r.id));
    if (!blob) return this.fail(r, "This photo's bytes are no longer in the browser's storage. Choose it again.");
    // The grant binds these bytes: S3 stores no other body under it.
    if (!r.sha256) await this.save(r, { sha256: await sha256Hex(blob) });
    let grant;
    try {
      grant = await this.grant(r);
    } catch (err) {
      return this.refused(r, err, {
        413: `Too large: ${r.name} is ${MB(r.size)}. ${err.message}`,
        415: `This file type is not allowed. ${err.message}`,
      });
    }
    if (new URL(grant.url).origin !== this.bucketOrigin) {
      return this.fail(r, "The server named an unexpected storage address, so nothing was sent.");
    }
    if (r.size > grant.max_bytes) return this.fail(r, `Too large: ${MB(r.size)}, the limit is ${MB(grant.max_bytes)}.`);
    await this.save(r, { state: "sending", key: grant.key, progress: 0 });
    let result;
    try {
      result = await postToS3(grant, blob, r.name, (pct) => {
        r.progress = pct;
        this.emit(r);
      });
    } catch {
      return this.save(r, { state: "unsure", ...this.backoff(r, "Connection lost during the upload.", "connection") });
    }
    const next = afterUpload(r, result);
    if (next.failure) return this.fail(r, next.failure);
    if (next.retry) return this.save(r, { state: "queued", key: null, ...this.backoff(r, next.retry, "server") });
    await this.save(r, next.changes);
    if (r.state === "uploaded") this.announce(r.job, `${r.name} uploaded.`);
  }

  /**
   * A grant for `r`: one asked for together with another photo's, else one request for `r` and the
   * job's other photos waiting for theirs (20 photos, one round trip), else `r`'s own.
   */
  async grant(r) {
    const early = await this.grants.get(r.id);
    this.grants.delete(r.id);
    if (early && Date.parse(early.expires_at) - Date.now() > GRANT_MARGIN_MS) return early;
    // Chosen here in one go (no await in between), so two sends never ask for the same photo.
    const others = !r.sha256 ? [] : [...this.records.values()]
      .filter((o) => o !== r && o.job === r.job && !o.key && ["queued", "granting"].includes(o.state) && !this.grants.has(o.id))
      .slice(0, MAX_GRANTS - 1);
    if (others.length) {
      const batch = this.grantBatch(r, others);
      // Grants are credentials: kept in memory only, for the send that takes them.
      others.forEach((o, i) => this.grants.set(o.id, batch.then((grants) => grants[i + 1], () => null)));
      try {
        return (await batch)[0];
      } catch (err) {
        // Sign-in, limits and outages are the same for one photo; anything else, ask for it alone.
        if (err.status === 401 || err.transient) throw err;
      }
    }
    const query = `job_id=${encodeURIComponent(r.job)}&content_type=${encodeURIComponent(r.type)}&size=${r.size}` +
      (r.sha256 ? `&sha256=${r.sha256}` : "");
    return (await this.api.get(`/upload-url?${query}`)).body;
  }

  /** POST /upload-url with `files`: grants for `r` and `others`, in that order, all or none. */
  async grantBatch(r, others) {
    const files = [{ size: r.size, content_type: r.type, sha256: r.sha256 }];
    for (const o of others) {
      const blob = o.blob || (await this.store.bytes(o.id));
      // In memory only: this tab's own send of `o` saves it (another tab may hold `o` meanwhile).
      o.sha256 ||= blob ? await sha256Hex(blob) : "";
      if (!o.sha256) throw new ApiError(400, "not_hashed", "A photo's bytes could not be read.");
      files.push({ size: o.size, content_type: o.type, sha256: o.sha256 });
    }
    return (await this.api.post("/upload-url", { job_id: r.job, files })).body.grants;
  }

  /** Records the uploaded photos of every job, in batches of at most MAX_BATCH. */
  flush() {
    const uploaded = ready(this.records.values(), this.active, Date.now()).filter((r) => r.state === "uploaded");
    for (const { batch: kept, records } of batches(uploaded)) {
      const batch = kept || crypto.randomUUID();
      this.work(records.map((r) => r.id), `batch:${batch}`, () => this.complete(records[0].job, records, { batch }));
    }
  }

  /** POST /upload-url for `records` (all of `job`, all with keys). */
  async complete(job, records, { probe = false, batch = crypto.randomUUID() } = {}) {
    records = records.filter((r) => r.state !== "recorded");
    if (!records.length) return;
    if (!probe) await this.saveAll(records, { batch });
    try {
      await this.api.post("/upload-url", { job_id: job, keys: records.map((r) => r.key) });
    } catch (err) {
      return this.notRecorded(records, err, probe);
    }
    for (const r of records) Object.assign(r, { state: "recorded", stored: true, blob: null, message: "", progress: 100 });
    this.emit();
    // The queue's copy is done with. Not awaited: a storage that never answers must not keep the
    // page at "recording" (WebKit's automation session did).
    this.store.delete(...records.map((r) => r.id)).catch(() => {});
    this.channel?.postMessage("changed");
    this.announce(job, records.length === 1 ? `${records[0].name} recorded.` : `${records.length} photos recorded.`);
    this.dispatchEvent(new CustomEvent("recorded", { detail: { job, keys: records.map((r) => r.key) } }));
  }

  async notRecorded(records, err, probe) {
    if (err.code === "objects_missing") {
      const missing = new Set(err.body.missing_keys || []);
      for (const r of records) {
        if (!missing.has(r.key)) await this.save(r, { batch: null });
        // S3 never got it: send it again under a fresh grant.
        else if (probe) await this.save(r, { state: "queued", key: null, retryAt: 0, message: "" });
        else this.fail(r, "Storage no longer holds this photo: its bytes were not a photo of its type.");
      }
      return;
    }
    if (err.code === "already_completed" && records.length > 1) {
      // Some were recorded by an earlier request whose answer was lost: record each on its own (a
      // single recorded key answers 200 with its first record).
      for (const r of records) await this.save(r, { batch: crypto.randomUUID() });
      return;
    }
    for (const r of records) {
      if (err.status === 401 || err.transient) await this.refused(r, err, {});
      else this.fail(r, `Uploaded, but not recorded: ${err.message}`);
    }
  }

  /** An API refusal of `r`: sign-in and outages wait (and retry); anything else fails the photo. */
  async refused(r, err, messages) {
    const state = r.state === "granting" ? "queued" : r.state;
    if (err.status === 401) {
      this.authPaused = true;
      this.dispatchEvent(new CustomEvent("auth-required", { detail: { message: err.message } }));
      return this.save(r, { state, waitingFor: "sign-in", message: "Not signed in: it uploads once you are." });
    }
    if (err instanceof ApiError && err.status === 429) {
      // A limit on this person: wait as long as the server says, and say why.
      return this.save(r, { state, ...this.backoff(r, err.message, "server", err.retryAfterS) });
    }
    if (err instanceof ApiError && err.transient) {
      const why = err.status === 0 ? "No connection to the server." : "The server is unavailable right now.";
      return this.save(r, { state, ...this.backoff(r, why, err.status === 0 ? "connection" : "server") });
    }
    this.fail(r, messages[err.status] || err.message);
  }

  backoff(r, message, waitingFor, retryAfterS = 0) {
    return backoff(r, message, waitingFor, Date.now(), Math.random(), retryAfterS);
  }

  fail(r, message) {
    this.save(r, { state: "failed", message, retryAt: 0, waitingFor: null });
    this.announce(r.job, `${r.name} failed. ${message}`);
  }

  /** What the store keeps of a record: everything but its bytes and its progress. */
  stored(r) {
    const { blob, progress, ...kept } = r;
    return kept;
  }

  async save(r, changes, { keep = true } = {}) {
    return this.saveAll([r], changes, { keep });
  }

  async saveAll(records, changes, { keep = true } = {}) {
    for (const r of records) Object.assign(r, changes);
    this.emit();
    const kept = records.filter((r) => !r.unsaved);
    if (!keep || !kept.length) return;
    try {
      await this.store.put(...kept.map((r) => this.stored(r)));
      this.channel?.postMessage("changed");
    } catch {
      // The state is still right in memory; the next write tries again.
    }
  }

  /** Reads the store again (at start, and when another tab changed it). */
  async sync() {
    const rows = await this.store.all();
    const ids = new Set(rows.map((row) => row.id));
    for (const row of rows) {
      const r = this.records.get(row.id);
      // An unsaved photo (its storage refused it, or stopped answering) is true in memory only:
      // a copy the fallback store holds is its first state, never newer.
      if (this.active.has(row.id) || r?.unsaved) continue;
      if (r) Object.assign(r, row);
      else this.records.set(row.id, row);
    }
    for (const r of this.records.values()) {
      // Gone from the store: another tab recorded (or removed) it.
      if (!ids.has(r.id) && !r.unsaved && !this.active.has(r.id) && r.state !== "recorded") {
        Object.assign(r, { state: "recorded", message: "" });
      }
    }
    this.emit();
  }

  emit(record = null) {
    this.dispatchEvent(new CustomEvent("change", { detail: { record } }));
  }

  announce(job, text) {
    this.dispatchEvent(new CustomEvent("announce", { detail: { job, text } }));
  }
}

/** The SHA-256 of `blob` in hex; "" where the browser offers no Web Crypto (an insecure origin). */
export async function sha256Hex(blob) {
  if (!globalThis.crypto?.subtle) return "";
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
