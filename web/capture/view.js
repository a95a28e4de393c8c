// One mounted capture drawer: the capture button, a row per photo of this job in the queue, the
// strip, and one polite live region that tells screen readers what finished or failed (not every
// percent of progress). Built with DOM calls only: no HTML strings (Trusted Types forbid them).

import { Strip } from "./strip.js";

let mounted = 0;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name.startsWith("aria-") || name.startsWith("data-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  node.append(...children);
  return node;
}

const CAMERA_PATH = "M9 3 7.2 5H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15 3H9Zm3 5a5 5 0 1 1 0 10 5 5 0 0 1 0-10Zm0 2a3 3 0 1 0 0 6 3 3 0 0 0 0-6Z";

function cameraIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "22");
  svg.setAttribute("height", "22");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", CAMERA_PATH);
  svg.append(path);
  return svg;
}

/** What a row says of its photo: [state text, row class]. */
function describe(r, online) {
  if (r.waitingFor === "sign-in" && !["recorded", "failed"].includes(r.state)) return ["waiting for sign-in", "waiting"];
  switch (r.state) {
    case "recorded": return ["done", "done"];
    case "failed": return ["failed", "failed"];
    case "uploaded": return r.retryAt > Date.now() ? ["uploaded, recording later", "waiting"] : ["uploaded, recording", "busy"];
    case "granting": return ["preparing", "busy"];
    case "sending": return ["uploading", "busy"];
    default:
      if (!online || r.waitingFor === "connection") return ["waiting for connection", "waiting"];
      if (r.waitingFor === "server") return ["waiting to retry", "waiting"];
      return r.state === "unsure" ? ["checking", "busy"] : ["waiting", "waiting"];
  }
}

export class CaptureView {
  constructor(element, { job, uploader, api, onAuthRequired, onError }) {
    this.element = element;
    this.job = job;
    this.uploader = uploader;
    this.rows = new Map(); // record id -> row parts
    const id = `qdn-capture-${++mounted}`;

    // Two ways in, one queue: the camera (a phone opens it straight away) and the photos already
    // taken (the library or files, several at once).
    this.camera = el("input", { id: `${id}-camera`, type: "file", accept: "image/*", className: "qc-camera" });
    this.camera.setAttribute("capture", "environment");
    this.input = el("input", { id: `${id}-file`, type: "file", accept: "image/*", multiple: true, className: "qc-file" });
    this.uploads = el("ul", { className: "qc-uploads", "aria-label": "Uploads" });
    this.summary = el("p", { className: "qc-summary" });
    this.live = el("p", { className: "qc-sr", "aria-live": "polite", "aria-atomic": "false" });
    const stripHeading = el("h2", { id: `${id}-photos` }, "Photos ");
    const count = el("span", { className: "qc-count" });
    stripHeading.append(count);
    const parts = {
      list: el("ul", { className: "qc-strip", "aria-labelledby": `${id}-photos` }),
      count,
      status: el("p", { className: "qc-hint qc-strip-status" }),
      more: el("button", { type: "button", className: "qc-more", hidden: true }, "Show older photos"),
      refreshButton: el("button", { type: "button", className: "qc-link qc-refresh", "aria-label": "Refresh photos" }, "Refresh"),
    };
    this.strip = new Strip(parts, {
      api,
      job,
      onError: (err) => {
        if (err.status === 401) onAuthRequired?.(err.message);
        onError(err);
      },
    });

    this.root = el("section", { className: "qdn-capture", "aria-label": `Photos of job ${job}` },
      el("div", { className: "qc-card" },
        el("div", { className: "qc-buttons" },
          el("label", { className: "qc-capture" }, cameraIcon(), "Take a photo", this.camera),
          el("label", { className: "qc-capture qc-secondary" }, "Choose photos", this.input)),
        this.summary,
        this.uploads),
      el("div", { className: "qc-card" },
        el("div", { className: "qc-strip-head" }, stripHeading, parts.refreshButton),
        parts.list, parts.status, parts.more),
      this.live);
    element.replaceChildren(this.root);

    for (const input of [this.camera, this.input]) {
      input.addEventListener("change", () => {
        const files = [...input.files];
        input.value = "";
        if (files.length) uploader.add(job, files);
      });
    }
    // [target, event, handler]: added here, removed by destroy().
    this.listeners = [
      [uploader, "change", (e) => this.render(e.detail.record)],
      [uploader, "recorded", (e) => {
        if (e.detail.job !== job) return;
        this.strip.checking(e.detail.keys);
        this.strip.refresh(true);
      }],
      [uploader, "announce", (e) => { if (e.detail.job === job) this.say(e.detail.text); }],
      [uploader, "auth-required", (e) => onAuthRequired?.(e.detail.message)],
      [window, "online", () => {
        this.render();
        this.strip.refresh();
      }],
      [window, "offline", () => this.render()],
    ];
    for (const [target, name, fn] of this.listeners) target.addEventListener(name, fn);
    this.render();
    this.strip.refresh();
  }

  destroy() {
    for (const [target, name, fn] of this.listeners) target.removeEventListener(name, fn);
    this.strip.destroy();
    this.element.replaceChildren();
  }

  say(text) {
    // A new node per message: screen readers announce additions, and nothing is lost when two
    // messages come in one tick. Only the last few are kept.
    this.live.append(el("span", {}, `${text} `));
    while (this.live.childNodes.length > 3) this.live.firstChild.remove();
  }

  /** Redraws the rows (only `record`'s, when given and already drawn) and the summary. */
  render(record = null) {
    const online = navigator.onLine;
    if (record && record.job !== this.job) return;
    if (record && this.rows.has(record.id)) {
      this.drawRow(this.rows.get(record.id), record, online);
      return;
    }
    const photos = this.uploader.photos(this.job);
    const keep = new Map();
    for (const r of photos) {
      const row = this.rows.get(r.id) || this.newRow(r);
      this.drawRow(row, r, online);
      keep.set(r.id, row);
    }
    for (const [id, row] of this.rows) if (!keep.has(id)) row.li.remove();
    this.rows = keep;
    this.uploads.replaceChildren(...[...keep.values()].map((row) => row.li));
    this.summarise(photos, online);
  }

  summarise(photos, online) {
    if (!photos.length) {
      this.summary.textContent = "";
      return;
    }
    const count = (fn) => photos.filter(fn).length;
    const recorded = count((r) => r.state === "recorded");
    const failed = count((r) => r.state === "failed");
    const waiting = count((r) => describe(r, online)[1] === "waiting");
    const parts = [`${recorded} of ${photos.length} recorded`];
    if (waiting) parts.push(online ? `${waiting} waiting` : `${waiting} waiting for connection`);
    if (failed) parts.push(`${failed} failed`);
    this.summary.textContent = `${parts.join(", ")}.`;
  }

  newRow(r) {
    const row = {
      li: el("li"),
      state: el("span", { className: "qc-state" }),
      progress: el("progress", { max: 100, value: 0, "aria-label": `Upload of ${r.name}` }),
      message: el("span", { className: "qc-msg" }),
      actions: el("span", { className: "qc-actions" }),
      retry: el("button", { type: "button", className: "qc-link", "aria-label": `Retry ${r.name}` }, "Retry"),
      remove: el("button", { type: "button", className: "qc-link", "aria-label": `Remove ${r.name}` }, "Remove"),
      drawn: "",
    };
    row.retry.addEventListener("click", () => this.uploader.retry(r.id));
    row.remove.addEventListener("click", () => this.uploader.remove(r.id));
    row.li.append(el("span", { className: "qc-name" }, r.name), row.state, row.progress, row.message, row.actions);
    return row;
  }

  drawRow(row, r, online) {
    const [text, cls] = describe(r, online);
    row.progress.value = r.state === "recorded" ? 100 : Math.round(r.progress || 0);
    const message = [r.message, r.state === "recorded" ? "" : r.note].filter(Boolean).join(" ");
    const drawn = `${text}|${cls}|${message}`;
    if (row.drawn === drawn) return; // progress only
    row.drawn = drawn;
    row.li.className = cls;
    row.li.dataset.state = r.state;
    row.state.textContent = text;
    row.message.textContent = message;
    const canRetry = r.state === "failed" || cls === "waiting";
    const canRemove = r.state === "failed" || (r.state === "queued" && cls === "waiting");
    row.actions.replaceChildren(...[canRetry && row.retry, canRemove && row.remove].filter(Boolean));
  }
}
