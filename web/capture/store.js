// The upload queue in IndexedDB: every chosen photo (its state, and its bytes apart from it, so a
// state change never rewrites megabytes) survives a reload, a closed tab and a dead battery until
// the server has recorded it. Without IndexedDB (some private modes) the queue lives in memory.

const DB_NAME = "qdn-capture";
const PHOTOS = "photos";
const BYTES = "bytes";

/** The browser refused to keep more (its storage quota for this site is used up). */
export class StorageFullError extends Error {}

/** The browser's storage never answered (WebKit's automation sessions and some private modes take
 *  a photo's bytes and never finish): the queue goes on without it rather than wait forever. */
export class StorageSilentError extends Error {}

export const STORE_TIMEOUT_MS = 10_000;

function inTime(promise) {
  let timer;
  const silent = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new StorageSilentError("The browser's storage did not answer.")), STORE_TIMEOUT_MS);
  });
  return Promise.race([promise, silent]).finally(() => clearTimeout(timer));
}

function done(request) {
  return inTime(new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  }));
}

function finished(tx) {
  return inTime(new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = (e) => {
      e?.preventDefault?.();
      const err = tx.error || e?.target?.error;
      reject(err && err.name === "QuotaExceededError" ? new StorageFullError(err.message) : err);
    };
  }));
}

class IdbStore {
  constructor(db) {
    this.db = db;
    this.persistent = true;
  }

  all() {
    return done(this.db.transaction(PHOTOS).objectStore(PHOTOS).getAll());
  }

  get(id) {
    return done(this.db.transaction(PHOTOS).objectStore(PHOTOS).get(id));
  }

  async bytes(id) {
    const kept = await done(this.db.transaction(BYTES).objectStore(BYTES).get(id));
    return kept instanceof Blob || !kept ? kept : new Blob([kept.buffer], { type: kept.type });
  }

  /** A new photo: its record and its bytes land together or not at all. The bytes are kept as an
   *  ArrayBuffer, not a Blob: WebKit's automation sessions (as Safari's private tabs have) fail
   *  any transaction holding a Blob, and every engine keeps an ArrayBuffer. */
  async add(record, blob) {
    const kept = { type: blob.type, buffer: await blob.arrayBuffer() };
    const tx = this.db.transaction([PHOTOS, BYTES], "readwrite");
    tx.objectStore(PHOTOS).put(record);
    tx.objectStore(BYTES).put(kept, record.id);
    return finished(tx);
  }

  /** Rewrites records (never their bytes) in one transaction. */
  put(...records) {
    const tx = this.db.transaction(PHOTOS, "readwrite");
    for (const r of records) tx.objectStore(PHOTOS).put(r);
    return finished(tx);
  }

  delete(...ids) {
    const tx = this.db.transaction([PHOTOS, BYTES], "readwrite");
    for (const id of ids) {
      tx.objectStore(PHOTOS).delete(id);
      tx.objectStore(BYTES).delete(id);
    }
    return finished(tx);
  }
}

/** The queue in memory only: without IndexedDB, or once it stopped answering. */
export class MemoryStore {
  constructor() {
    this.rows = new Map();
    this.blobs = new Map();
    this.persistent = false;
  }
  async all() { return [...this.rows.values()].map((r) => ({ ...r })); }
  async get(id) { return this.rows.has(id) ? { ...this.rows.get(id) } : undefined; }
  async bytes(id) { return this.blobs.get(id); }
  async add(record, blob) { this.rows.set(record.id, { ...record }); this.blobs.set(record.id, blob); }
  async put(...records) { for (const r of records) this.rows.set(r.id, { ...r }); }
  async delete(...ids) { for (const id of ids) { this.rows.delete(id); this.blobs.delete(id); } }
}

export async function openStore() {
  try {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(PHOTOS, { keyPath: "id" });
      request.result.createObjectStore(BYTES);
    };
    return new IdbStore(await done(request));
  } catch {
    return new MemoryStore();
  }
}
