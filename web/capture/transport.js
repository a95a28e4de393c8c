// Bytes to S3: one form POST under a grant, with progress, given up when the link stalls.
// The API's own requests (with their 30 s give-up) are in api.js.

export const STALL_MS = 60_000; // no upload progress for this long on a live connection: give up

/** The form S3 expects: the grant's fields in order, then the file (S3 ignores fields after it). */
export function uploadForm(grant, blob, name) {
  const form = new FormData();
  for (const [field, value] of Object.entries(grant.fields)) form.append(field, value);
  form.append("file", blob, name);
  return form;
}

/** The `<Message>` of an S3 error document, or "". */
export function s3Message(xml) {
  const found = /<Message>([^<]*)<\/Message>/.exec(xml || "");
  return found ? found[1] : "";
}

/**
 * POSTs `blob` under `grant`; resolves with S3's status and message, rejects on a broken or stalled
 * connection (S3 may or may not hold the object then). `onProgress` gets percentages.
 */
export function postToS3(grant, blob, name, onProgress, { stallMs = STALL_MS, Xhr = XMLHttpRequest } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new Xhr();
    let stall;
    const watch = () => {
      clearTimeout(stall);
      stall = setTimeout(() => xhr.abort(), stallMs);
    };
    xhr.open("POST", grant.url);
    xhr.upload.addEventListener("progress", (e) => {
      watch();
      if (e.lengthComputable) onProgress((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", () => {
      clearTimeout(stall);
      resolve({ status: xhr.status, message: s3Message(xhr.responseText) });
    });
    for (const event of ["error", "abort", "timeout"]) {
      xhr.addEventListener(event, () => {
        clearTimeout(stall);
        reject(new Error("network"));
      });
    }
    watch();
    xhr.send(uploadForm(grant, blob, name));
  });
}
