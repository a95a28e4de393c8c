// The job drawer's capture button: the reference client of the qdn-photos API.
// Page parameters: ?job=JOB_ID&api=API_BASE_URL (default http://127.0.0.1:9000).
// The token lives in sessionStorage only, never in a URL.

const params = new URLSearchParams(location.search);
const API = (params.get("api") || "http://127.0.0.1:9000").replace(/\/$/, "");
const JOB = params.get("job") || "j-12345";
const PARALLEL = 3;
const TOKEN_KEY = "qdn-photos-token";

const $ = (id) => document.getElementById(id);
$("job-id").textContent = JOB;

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function askForToken(reason) {
  $("token-reason").textContent = reason;
  $("token-form").hidden = false;
  $("token").focus();
}

$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  $("token-form").hidden = true;
  refreshStrip();
});

async function api(path, init = {}) {
  let resp;
  try {
    resp = await fetch(API + path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token()}` } });
  } catch {
    throw new ApiError(0, "network", "No connection to the server.");
  }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = body.error || {};
    if (resp.status === 401) askForToken("Your access token was not accepted. Enter it again.");
    throw new ApiError(resp.status, err.code || "error", err.message || `Server answered ${resp.status}.`);
  }
  return body;
}

// One row per chosen file: name, state, progress bar, message, retry button.
function uploadRow(file) {
  const li = document.createElement("li");
  li.innerHTML = `<span class="name"></span><span class="state">waiting</span>
    <progress max="100" value="0"></progress><span class="msg"></span>`;
  li.querySelector(".name").textContent = file.name;
  $("uploads").append(li);
  return {
    li,
    state(text, cls) { li.querySelector(".state").textContent = text; li.className = cls || ""; },
    progress(pct) { li.querySelector("progress").value = pct; },
    message(text) { li.querySelector(".msg").textContent = text; },
  };
}

function typeOf(file) {
  if (file.type) return file.type;
  const ext = file.name.split(".").pop().toLowerCase();
  return { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", heic: "image/heic", webp: "image/webp" }[ext] || "application/octet-stream";
}

// POST the form straight to S3: every returned field in order, the file last. Resolves with the
// HTTP status and S3's XML message (if any); rejects only when the network fails.
function postToS3(grant, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", grant.url);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress((100 * e.loaded) / e.total); });
    xhr.addEventListener("load", () => {
      const message = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
      resolve({ status: xhr.status, message: message ? message[1] : "" });
    });
    xhr.addEventListener("error", () => reject(new Error("network")));
    xhr.send(form);
  });
}

const MB = (n) => `${(n / 1048576).toFixed(n < 1048576 ? 2 : 1)} MB`;

// Uploads one file; returns its key, or null when it failed (the row says why).
async function uploadOne(file, row) {
  for (let attempt = 1; ; attempt++) {
    row.state("preparing");
    let grant;
    try {
      grant = await api(`/upload-url?job_id=${encodeURIComponent(JOB)}&content_type=${encodeURIComponent(typeOf(file))}&size=${file.size}`);
    } catch (err) {
      row.state("failed", "failed");
      if (err.status === 413) row.message(`Too large: ${file.name} is ${MB(file.size)}. ${err.message}`);
      else if (err.status === 415) row.message(`This file type is not allowed. ${err.message}`);
      else if (err.status === 401) row.message("Not signed in: enter your access token, then try again.");
      else return retryable(file, row, err.message);
      return null;
    }
    if (file.size > grant.max_bytes) {
      row.state("failed", "failed");
      row.message(`Too large: ${MB(file.size)}, the limit is ${MB(grant.max_bytes)}.`);
      return null;
    }
    row.state("uploading");
    let result;
    try {
      result = await postToS3(grant, file, (pct) => row.progress(pct));
    } catch {
      return retryable(file, row, "Connection lost during the upload.");
    }
    if (result.status === 201) {
      row.progress(100);
      row.state("done", "done");
      return grant.key;
    }
    const expired = /expire/i.test(result.message);
    if (expired && attempt === 1) continue; // a fresh URL, once
    row.state("failed", "failed");
    row.message(expired
      ? "The upload link expired twice. Check the phone's clock, then try again."
      : `Storage refused the upload${result.message ? `: ${result.message}` : ""}.`);
    return null;
  }
}

function retryable(file, row, why) {
  row.state("failed", "failed");
  row.message(why);
  return new Promise((resolve) => {
    const button = document.createElement("button");
    button.className = "link";
    button.textContent = "Retry";
    button.addEventListener("click", async () => {
      button.remove();
      row.message("");
      resolve(await uploadOne(file, row));
    });
    row.li.querySelector(".msg").append(" ", button);
  });
}

async function uploadAll(files) {
  const status = $("status");
  status.className = "status";
  status.textContent = `Uploading ${files.length} photo${files.length > 1 ? "s" : ""}…`;
  const queue = files.map((file) => ({ file, row: uploadRow(file) }));
  const keys = [];
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const key = await uploadOne(item.file, item.row);
      if (key) keys.push(key);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, files.length) }, worker));
  if (keys.length === 0) {
    status.className = "status bad";
    status.textContent = "Nothing was uploaded.";
    return;
  }
  try {
    await api("/upload-url", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ job_id: JOB, keys }),
    });
    status.textContent = `${keys.length} of ${files.length} uploaded.`;
  } catch (err) {
    status.className = "status bad";
    status.textContent = `Uploaded, but not recorded: ${err.message}`;
  }
  await refreshStrip(10);
}

// Tiles show the pipeline's 320-px thumbnail when it exists (the original otherwise; a HEIC,
// which browsers cannot show, as a labelled placeholder) and open the full photo when tapped.
// The pipeline runs on S3's event, seconds after an upload: until every new photo has its
// thumbnail, the strip looks again a few times.
let thumbnailWait = null;

function tile(photo) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = photo.url;
  link.target = "_blank";
  link.rel = "noopener";
  const name = photo.key.split("/").pop();
  if (photo.thumbnail_url || !/heic|heif/.test(photo.content_type)) {
    const img = document.createElement("img");
    img.src = photo.thumbnail_url || photo.url;
    img.alt = `Photo ${name}`;
    img.loading = "lazy";
    link.append(img);
  } else {
    link.className = "placeholder";
    link.textContent = "HEIC";
    link.setAttribute("aria-label", `Photo ${name} (HEIC, opens the original)`);
  }
  li.append(link);
  return li;
}

async function refreshStrip(lookAgain = 0) {
  if (!token()) return askForToken("Enter your access token to see and add photos.");
  try {
    const page = await api(`/photos?job_id=${encodeURIComponent(JOB)}&limit=100`);
    $("strip").replaceChildren(...page.photos.map(tile));
    $("photo-count").textContent = `(${page.photos.length}${page.next_cursor ? "+" : ""})`;
    $("strip-status").textContent = page.photos.length ? "" : "No photos yet.";
    const waiting = page.photos.some((p) => !p.thumbnail_url && !/heic|heif/.test(p.content_type));
    clearTimeout(thumbnailWait);
    if (waiting && lookAgain > 0) thumbnailWait = setTimeout(() => refreshStrip(lookAgain - 1), 2000);
  } catch (err) {
    $("strip-status").textContent = err.message;
  }
}

$("capture").addEventListener("change", async (e) => {
  const files = [...e.target.files];
  e.target.value = "";
  if (!token()) return askForToken("Enter your access token first.");
  if (files.length) await uploadAll(files);
});

refreshStrip();
