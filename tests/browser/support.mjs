// Shared by the browser tests (run by scripts/browser-test.sh against the local stack): Debian's
// Chromium, the drawer opened as a phone sees it, photos drawn by the browser's own encoder, and
// reads of what the server really recorded.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chromium } from "playwright-core";

export const { PAGE_URL, OTHER_PAGE_URL, API_URL, S3_ORIGIN, BROWSER_TOKEN, BROWSER_MAX_BYTES, PYTHON, SCREENSHOT } =
  process.env;

export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 };
// Generous: the stack shares two cores with the browser and the build; nothing here is timed.
export const LONG = { timeout: 120_000 };

export function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export const newJob = () => `b-${randomUUID().slice(0, 8)}`;

/** Opens the demo host for `job` in `context` (a new phone-sized one unless given). Page errors
 *  and Content-Security-Policy violations are collected: every test asserts there are none. */
export async function openDrawer(browser, job, { pageUrl = PAGE_URL, context, query = "" } = {}) {
  context ??= await browser.newContext(PHONE);
  const page = await context.newPage();
  page.problems = [];
  page.on("pageerror", (err) => page.problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (/Content.Security.Policy|Trusted/i.test(msg.text())) page.problems.push(`CSP: ${msg.text()}`);
  });
  await page.goto(`${pageUrl}/?job=${job}${query}`);
  return page;
}

export async function enterToken(page, token = BROWSER_TOKEN) {
  await page.waitForSelector("#token-form:not([hidden])");
  await page.fill("#token", token);
  await page.click("#token-form button");
}

/** Opens the drawer and signs in; resolves once the strip has answered. */
export async function signedInDrawer(browser, job, options) {
  const page = await openDrawer(browser, job, options);
  await enterToken(page);
  await page.waitForSelector(".qc-strip-status:has-text('No photos yet.'), .qc-strip li", LONG);
  return page;
}

/** A real JPEG drawn by the browser's own encoder: different colours per seed. `camera` draws a
 *  12-megapixel scene with enough detail to weigh what a phone's photo weighs. */
export async function jpeg(page, seed, { camera = false } = {}) {
  const dataUrl = await page.evaluate(({ seed, camera }) => {
    const canvas = document.createElement("canvas");
    canvas.width = camera ? 4032 : 320;
    canvas.height = camera ? 3024 : 240;
    const ctx = canvas.getContext("2d");
    const gradient = ctx.createLinearGradient(0, 0, canvas.width, canvas.height);
    gradient.addColorStop(0, `hsl(${seed * 90}, 70%, 50%)`);
    gradient.addColorStop(1, `hsl(${seed * 90 + 45}, 70%, 30%)`);
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (camera) {
      // Texture like a real scene's (gravel, brick, foliage): what makes phone photos megabytes.
      let x = seed * 2654435761 % 4294967296;
      const rand = () => ((x = (x * 1664525 + 1013904223) % 4294967296) / 4294967296);
      for (let i = 0; i < 60000; i++) {
        ctx.fillStyle = `hsla(${rand() * 360}, 60%, ${30 + rand() * 40}%, 0.6)`;
        ctx.fillRect(rand() * canvas.width, rand() * canvas.height, 4 + rand() * 28, 4 + rand() * 28);
      }
    }
    ctx.fillStyle = "#fff";
    ctx.font = `bold ${camera ? 480 : 48}px sans-serif`;
    ctx.fillText(`Photo ${seed}`, canvas.width / 8, canvas.height / 1.7);
    return canvas.toDataURL("image/jpeg", camera ? 0.92 : 0.9);
  }, { seed, camera });
  return Buffer.from(dataUrl.split(",")[1], "base64");
}

export async function jpegFiles(page, names, options) {
  const files = [];
  for (const [i, name] of names.entries()) {
    files.push({ name, mimeType: "image/jpeg", buffer: await jpeg(page, i + 1, options) });
  }
  return files;
}

/** The job's audit rows as the audit table holds them. */
export function auditRows(job) {
  const out = execFileSync(PYTHON, ["scripts/local_aws.py", "audit", job], { encoding: "utf8" });
  return out.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

export const auditEvents = (job) => auditRows(job).map((row) => row.event.S);

/** Every key any `upload_completed` row of the job names, once per naming. */
export function completedKeys(job) {
  return auditRows(job)
    .filter((row) => row.event.S === "upload_completed")
    .flatMap((row) => (row.keys.L ? row.keys.L.map((k) => k.S) : row.keys.SS));
}

export async function listedPhotos(job, query = "") {
  const photos = [];
  let cursor = "";
  for (;;) {
    const resp = await fetch(`${API_URL}/photos?job_id=${job}&limit=1000${query}${cursor}`, {
      headers: { authorization: `Bearer ${BROWSER_TOKEN}` },
    });
    assert.equal(resp.status, 200);
    const page = await resp.json();
    photos.push(...page.photos);
    if (!page.next_cursor) return photos;
    cursor = `&cursor=${page.next_cursor}`;
  }
}

/** Waits until `n` rows of the job's uploads are recorded (generously: a minute, and three
 *  seconds a photo on top; the local DynamoDB handles one request at a time). A timeout says
 *  where the rows were. */
export async function waitRecorded(page, n) {
  try {
    await page.waitForFunction(
      (n) => document.querySelectorAll(".qc-uploads li[data-state=recorded]").length === n, n,
      { timeout: 60_000 + 3000 * n });
  } catch (err) {
    const states = await page.$$eval(".qc-uploads li", (lis) => lis.map((li) => `${li.dataset.state}: ${li.textContent}`));
    const counts = {};
    for (const s of states) counts[s.split(":")[0]] = (counts[s.split(":")[0]] || 0) + 1;
    err.message += `\nrows: ${JSON.stringify(counts)}\n${states.filter((s) => !s.startsWith("recorded")).slice(0, 5).join("\n")}`;
    throw err;
  }
}

/** Waits until `predicate(arg)` (run in the page) holds for the strip. The local pipeline is a
 *  sequential stand-in: while it works, Refresh is pressed now and then, as a user would.
 *  (Functions, not strings: the page's CSP allows no eval, for tests neither.) */
export async function waitStrip(page, predicate, arg, { timeout = 300_000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      await page.waitForFunction(predicate, arg, { timeout: 5000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await page.click(".qc-refresh");
    }
  }
}

/** Waits until the strip shows at least `n` loaded thumbnails (from thumbs/). */
export function waitThumbnails(page, n) {
  return waitStrip(page, (n) => [...document.querySelectorAll(".qc-strip img")]
    .filter((img) => img.src.includes("/thumbs/") && img.complete && img.naturalWidth > 0).length >= n, n);
}

/**
 * Counts what images cost over the network, from the browser's own network events: bytes
 * received for image responses that did not come from the memory or disk cache (headers and body
 * as encoded on the wire), how many those were, and how many image requests there were at all.
 */
export async function imageMeter(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const cached = new Map(); // image request id -> served from a cache
  const meter = { bytes: 0, fromNetwork: 0, requests: 0 };
  cdp.on("Network.requestWillBeSent", (e) => {
    if (e.type !== "Image") return;
    cached.set(e.requestId, false);
    meter.requests++;
  });
  cdp.on("Network.requestServedFromCache", (e) => cached.has(e.requestId) && cached.set(e.requestId, true));
  cdp.on("Network.responseReceived", (e) => {
    if (cached.has(e.requestId) && (e.response.fromDiskCache || e.response.fromPrefetchCache)) cached.set(e.requestId, true);
  });
  cdp.on("Network.loadingFinished", (e) => {
    if (!cached.has(e.requestId) || cached.get(e.requestId)) return;
    meter.fromNetwork++;
    meter.bytes += e.encodedDataLength;
  });
  meter.reset = () => Object.assign(meter, { bytes: 0, fromNetwork: 0, requests: 0 });
  return meter;
}

export function assertNoProblems(page) {
  assert.deepEqual(page.problems, [], "no page errors and no CSP violations");
}

/** Run in the page (before its scripts, or before the photo is chosen): every IndexedDB
 *  transaction that touches the photos' bytes is left hanging, as WebKitGTK's automation session
 *  left them with Blobs (and Safari's private tabs have done): no complete, no abort, no error,
 *  ever. Patched on the prototype, so the page's next transactions get it. */
export function hangBytesTransactions() {
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (stores, ...rest) {
    const tx = transaction.call(this, stores, ...rest);
    if ([].concat(stores).includes("bytes")) {
      for (const event of ["oncomplete", "onabort", "onerror"]) {
        Object.defineProperty(tx, event, { set() {}, get() { return null; } });
      }
    }
    return tx;
  };
}
