// The job drawer's capture button, as an ES module the QDN dashboard mounts in its job drawer:
//
//   import { mountCapture } from "https://photos.example.com/qdn-capture.js";
//   const capture = mountCapture(drawerBody, { jobId: "j-12345", getToken: () => session.token });
//   capture.unmount(); // the drawer closed: photos still queued keep uploading in the background
//
// The API and the bucket it uploads to are fixed at deploy time in qdn-capture.config.js (written
// by `make web`, and by `make dev` for the local stack), never taken from the page or its URL: the
// token is only ever sent to that API, photos only ever to that bucket.

import config from "./qdn-capture.config.js";
import { createApi } from "./capture/api.js";
import { openStore } from "./capture/store.js";
import { Uploader } from "./capture/uploader.js";
import { CaptureView } from "./capture/view.js";

const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

function origin(value, name) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`qdn-capture.config.js: ${name} is not a URL`);
  }
  if (!/^https?:$/.test(url.protocol)) throw new Error(`qdn-capture.config.js: ${name} must be http(s)`);
  return url;
}

const API = origin(config.api, "api");
const BUCKET_ORIGIN = origin(config.bucketOrigin, "bucketOrigin").origin;

let getTokenNow = async () => null;
let engine = null; // one queue per page, started by the first mount

function start() {
  if (!engine) {
    const api = createApi(API.href, () => getTokenNow());
    engine = openStore().then((store) => Uploader.start(api, BUCKET_ORIGIN, store)).then((uploader) => ({ api, uploader }));
  }
  return engine;
}

/**
 * Mounts the capture drawer for `jobId` into `element`.
 * - `getToken()` (sync or async) returns the bearer token for the API, or null when signed out.
 * - `onAuthRequired(message)` is called when the API refused the token; call `retry()` once a new
 *   one is available.
 * Returns `{ unmount(), refresh(), retry() }`.
 */
export function mountCapture(element, { jobId, getToken, onAuthRequired, onError } = {}) {
  if (!(element instanceof Element)) throw new TypeError("mountCapture: element must be a DOM element");
  if (!JOB_ID.test(String(jobId))) throw new TypeError("mountCapture: jobId must be 1-64 of A-Z a-z 0-9 _ -");
  if (typeof getToken !== "function") throw new TypeError("mountCapture: getToken must be a function");
  // One queue per page: it sends with the token of the drawer mounted last.
  getTokenNow = async () => (await getToken()) || null;
  let view = null;
  let unmounted = false;
  const ready = start().then(({ api, uploader }) => {
    if (unmounted) return;
    view = new CaptureView(element, { job: jobId, uploader, api, onAuthRequired, onError: onError || (() => {}) });
  });
  return {
    ready,
    unmount() {
      unmounted = true;
      view?.destroy();
    },
    refresh: () => ready.then(() => view?.strip.refresh()),
    retry: () => ready.then(async () => {
      (await engine).uploader.resume();
      return view?.strip.refresh();
    }),
  };
}
