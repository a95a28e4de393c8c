// The job's photos, newest first, a page at a time ("Show older photos"). A photo is listed once
// the pipeline has verified what S3 stored; until then its upload is a "Checking…" tile (shown the
// moment the upload is recorded, then kept from the API's `include=pending`), which turns into
// the thumbnail, or into the reason it was refused. Tiles show the pipeline's 320-px thumbnail (a
// labelled placeholder for HEIC, which browsers cannot show) and open the full photo when tapped.
// A photo its uploader may still retract (the API says until when) has "Take back": a second tap
// within a few seconds removes it (DELETE /photos), for good. The API signs photo URLs per time window, so
// a refresh inside the window gets byte-identical URLs: tiles whose URLs did not change are kept
// as they are, and any others come from the browser's HTTP cache. A refresh costs the JSON only.

const PAGE = 50;
// While an upload is still being checked, how long to wait before each look: often at first (the
// pipeline takes seconds), then every 20 s (a backlog of photos, a pipeline retrying), up to about
// fifteen minutes in all; Refresh looks at once.
const LOOK_AGAIN_S = [2, 2, 2, 2, 2, 5, 5, 5, 5, 10, 10, 15, 15, 20, 20];
const MAX_LOOKS = LOOK_AGAIN_S.length + 40;

const when = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

function label(photo, n) {
  const taken = photo.captured_at ? new Date(photo.captured_at) : null;
  const uploaded = photo.last_modified ? new Date(photo.last_modified) : null;
  if (taken && !Number.isNaN(taken.getTime())) return `Photo ${n}, taken ${when.format(taken)}`;
  if (uploaded && !Number.isNaN(uploaded.getTime())) return `Photo ${n}, uploaded ${when.format(uploaded)}`;
  return `Photo ${n}`;
}

const isHeic = (photo) => /heic|heif/.test(photo.content_type);

// How long "Take back" waits for its confirming second tap.
const CONFIRM_MS = 5000;
const retractable = (photo) => Date.parse(photo.retractable_until || "") > Date.now();

export class Strip {
  constructor(parts, { api, job, onError }) {
    Object.assign(this, parts); // list, count, status, more, refreshButton
    this.api = api;
    this.job = job;
    this.onError = onError;
    this.photos = [];
    this.pending = []; // { key, state: "checking" | "rejected" | "duplicate", message }
    this.next = null;
    this.tiles = new Map(); // key -> { li, signature }
    // One request at a time, in order: "Show older photos" is never lost to a refresh racing it,
    // and a refresh always asks for as many photos as are shown by then.
    this.queue = Promise.resolve();
    this.pendingRefresh = null;
    this.destroyed = false;
    this.lookAgain = null;
    this.more.addEventListener("click", () => this.loadMore());
    this.refreshButton.addEventListener("click", () => this.refresh());
  }

  destroy() {
    clearTimeout(this.lookAgain);
    this.destroyed = true;
  }

  enqueue(fn) {
    this.queue = this.queue.then(() => (this.destroyed ? undefined : fn()));
    return this.queue;
  }

  /** Uploads just recorded: "Checking…" tiles at once, until the API lists them or says why not. */
  checking(keys) {
    const known = new Set([...this.photos, ...this.pending].map((p) => p.key));
    const fresh = keys.filter((key) => !known.has(key)).map((key) => ({ key, state: "checking" }));
    this.pending = fresh.concat(this.pending);
    this.render();
  }

  /** The newest photos again, as many as are shown now. `watch`: while an upload is still being
   *  checked (the pipeline runs seconds after an upload), look again now and then. */
  refresh(watch = false, step = 0) {
    clearTimeout(this.lookAgain);
    // A refresh already waiting will do, watching if either asked to.
    const pending = this.pendingRefresh;
    this.pendingRefresh = pending ? { watch: pending.watch || watch, step: Math.min(pending.step, step) } : { watch, step };
    if (pending) return this.queue;
    return this.enqueue(async () => {
      ({ watch, step } = this.pendingRefresh);
      this.pendingRefresh = null;
      const limit = Math.min(1000, Math.max(PAGE, this.photos.length));
      const page = await this.fetchPage(`&limit=${limit}&include=pending`);
      if (page) {
        this.photos = page.photos;
        this.pending = page.pending || [];
        this.next = page.next_cursor || null;
        this.render();
      }
      // A look that failed (a bad link, a busy API) is no answer: keep watching.
      const waiting = !page || this.pending.some((p) => p.state === "checking");
      if (waiting && watch && step < MAX_LOOKS) {
        const wait = LOOK_AGAIN_S[Math.min(step, LOOK_AGAIN_S.length - 1)];
        this.lookAgain = setTimeout(() => this.refresh(true, step + 1), wait * 1000);
      }
    });
  }

  loadMore() {
    this.more.disabled = true;
    return this.enqueue(async () => {
      if (!this.next) return;
      const page = await this.fetchPage(`&limit=${PAGE}&cursor=${encodeURIComponent(this.next)}`);
      if (!page) return;
      const first = page.photos[0]?.key;
      this.photos = this.photos.concat(page.photos.filter((p) => !this.tiles.has(p.key)));
      this.next = page.next_cursor || null;
      this.render();
      // Keyboard and screen-reader users land on the first photo that just appeared.
      if (first) this.tiles.get(first)?.li.querySelector("a")?.focus();
    }).finally(() => { this.more.disabled = false; });
  }

  async fetchPage(query) {
    try {
      return (await this.api.get(`/photos?job_id=${encodeURIComponent(this.job)}&order=newest${query}`)).body;
    } catch (err) {
      if (!this.destroyed) this.fail(err);
      return null;
    }
  }

  fail(err) {
    this.status.textContent = err.status === 0 && !navigator.onLine
      ? "Offline: the photos show again when the connection returns."
      : err.message;
    this.onError(err);
  }

  render() {
    const keep = new Map();
    const reuse = (key, signature, make) => {
      const old = this.tiles.get(key);
      const li = old && old.signature === signature ? old.li : make();
      keep.set(key, { li, signature });
      return li;
    };
    const waiting = this.pending.map((p) => reuse(p.key, `${p.state} ${p.message || ""}`, () => this.pendingTile(p)));
    const items = this.photos.map((photo, i) => {
      const n = i + 1;
      const signature = `${photo.url} ${photo.thumbnail_url || ""} ${n} ${retractable(photo)}`;
      return reuse(photo.key, signature, () => this.tile(photo, n));
    });
    this.tiles = keep;
    this.list.replaceChildren(...waiting, ...items);
    this.count.textContent = this.photos.length ? `(${this.photos.length}${this.next ? "+" : ""})` : "";
    this.status.textContent = this.photos.length || this.pending.length ? "" : "No photos yet.";
    this.more.hidden = !this.next;
  }

  /** An upload that is not a photo (yet): no link, since there is nothing verified to open. */
  pendingTile(upload) {
    const li = document.createElement("li");
    li.dataset.state = upload.state;
    const box = document.createElement("div");
    box.className = `qc-placeholder qc-${upload.state}`;
    const [text, label] = {
      rejected: [`Refused: ${upload.message || "not a photo"}`, `An upload was refused: ${upload.message || "not a photo"}`],
      // The same bytes as a photo already shown: recorded, and shown once.
      duplicate: ["Already in this job", "An upload of a photo this job already has; it is shown once"],
    }[upload.state] || ["Checking…", "A photo being checked; it shows here in a moment"];
    box.textContent = text;
    box.setAttribute("role", "img");
    box.setAttribute("aria-label", label);
    li.append(box);
    return li;
  }

  tile(photo, n) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = photo.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    const name = label(photo, n);
    if (photo.thumbnail_url || !isHeic(photo)) {
      const img = document.createElement("img");
      img.src = photo.thumbnail_url || photo.url;
      img.alt = `${name} (opens full size)`;
      img.loading = "lazy";
      img.decoding = "async";
      img.referrerPolicy = "no-referrer";
      img.width = 160;
      img.height = 160;
      link.append(img);
    } else {
      link.className = "qc-placeholder";
      link.textContent = "HEIC";
      link.setAttribute("aria-label", `${name} (HEIC; opens the original)`);
    }
    li.append(link);
    if (retractable(photo)) li.append(this.takeBack(photo, name));
    return li;
  }

  /** "Take back": the first tap asks, a second within CONFIRM_MS removes the photo. */
  takeBack(photo, name) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "qc-link qc-take-back";
    const idle = () => {
      button.textContent = "Take back";
      button.setAttribute("aria-label", `Take back ${name}`);
      delete button.dataset.confirm;
    };
    idle();
    let timer;
    button.addEventListener("click", async () => {
      if (!button.dataset.confirm) {
        button.dataset.confirm = "1";
        button.textContent = "Tap again to remove";
        button.setAttribute("aria-label", `Tap again to remove ${name} for good`);
        timer = setTimeout(idle, CONFIRM_MS);
        return;
      }
      clearTimeout(timer);
      button.disabled = true;
      try {
        const query = `job_id=${encodeURIComponent(this.job)}&key=${encodeURIComponent(photo.key)}`;
        await this.api.delete(`/photos?${query}`);
        this.photos = this.photos.filter((p) => p.key !== photo.key);
        this.render();
        this.status.textContent = `${name} was taken back.`;
      } catch (err) {
        button.disabled = false;
        idle();
        this.fail(err);
      }
    });
    return button;
  }
}
