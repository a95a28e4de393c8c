// Field workers lose signal: photos chosen offline wait in IndexedDB, survive a reload (the page
// itself opens from its service worker) and go up once, with a fresh grant, when the connection
// returns. A full storage quota is said plainly, and the photo still goes up while the page is open.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  LONG, PAGE_URL, PHONE, S3_ORIGIN, SCREENSHOT, assertNoProblems, auditEvents, completedKeys, hangBytesTransactions, jpegFiles,
  launch, listedPhotos, newJob, signedInDrawer, waitRecorded, waitThumbnails,
} from "./support.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => browser?.close());

const waiting = (page, n) => page.waitForFunction(
  (n) => [...document.querySelectorAll(".qc-uploads li")].filter((li) => li.textContent.includes("waiting for connection")).length === n,
  n, LONG);

test("photos chosen offline survive a reload and are uploaded and recorded once when the connection returns", async () => {
  const job = newJob();
  const context = await browser.newContext(PHONE);
  const page = await signedInDrawer(browser, job, { context });
  // The service worker has the page's files (so it opens offline) once it controls the page.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, LONG);

  await context.setOffline(true);
  const files = await jpegFiles(page, ["basement-1.jpg", "basement-2.jpg"]);
  await page.setInputFiles(".qc-file", files);
  await waiting(page, 2);
  assert.match(await page.textContent(".qc-summary"), /2 waiting for connection/);

  await page.reload(); // still offline: the page comes from the service worker, the photos from IndexedDB
  await waiting(page, 2);
  assert.deepEqual(await page.$$eval(".qc-uploads .qc-name", (els) => els.map((e) => e.textContent)), ["basement-1.jpg", "basement-2.jpg"]);
  assert.deepEqual(auditEvents(job), [], "nothing was asked of the server while offline");
  await page.waitForSelector(".qc-strip-status:has-text('Offline: the photos show again when the connection returns.')");
  await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, "-offline.png") });

  await context.setOffline(false);
  await waitRecorded(page, 2);
  await waitThumbnails(page, 2);
  const keys = completedKeys(job);
  assert.equal(keys.length, 2);
  assert.equal(new Set(keys).size, 2, "recorded once each");
  // One fresh grant per photo, asked for when it was sent: nothing uploaded twice.
  assert.equal(auditEvents(job).filter((e) => e === "upload_url_issued").length, 2);
  assert.deepEqual((await listedPhotos(job)).map((p) => p.size).sort(), files.map((f) => f.buffer.length).sort());
  // Recorded photos leave the phone's storage.
  assert.equal(await page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open("qdn-capture");
    open.onsuccess = () => {
      const count = open.result.transaction("bytes").objectStore("bytes").count();
      count.onsuccess = () => resolve(count.result);
    };
  })), 0);
  assertNoProblems(page);
  await context.close();
});

test("a photo whose connection broke mid-upload is checked, not sent again, when the page comes back", async () => {
  // The page closes (here: reloads) while S3 is still receiving; whether S3 kept it is unknown.
  const job = newJob();
  const context = await browser.newContext(PHONE);
  const page = await signedInDrawer(browser, job, { context });
  let held = null;
  await page.route("**/*", async (route) => {
    // Let S3 store the photo, but never let its answer reach the page.
    if (route.request().method() === "POST" && !route.request().url().startsWith(PAGE_URL) && !route.request().url().includes("/upload-url")) {
      const resp = await route.fetch();
      held = resp.status();
      return new Promise(() => {}); // the answer never comes
    }
    return route.continue();
  });
  await page.setInputFiles(".qc-file", await jpegFiles(page, ["lost-answer.jpg"]));
  await page.waitForFunction(() => document.querySelector(".qc-uploads li")?.dataset.state === "sending", null, LONG);
  await new Promise((resolve) => { const t = setInterval(() => { if (held) { clearInterval(t); resolve(); } }, 50); });
  assert.equal(held, 201, "S3 stored it");
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.reload();
  await waitRecorded(page, 1);
  assert.equal(completedKeys(job).length, 1);
  assert.equal(auditEvents(job).filter((e) => e === "upload_url_issued").length, 1, "no second grant, no second upload");
  await context.close();
});

test("a storage that takes a photo's bytes and never finishes (WebKit's automation): recorded and shown all the same", async () => {
  const job = newJob();
  const context = await browser.newContext(PHONE);
  await context.addInitScript(hangBytesTransactions);
  const page = await signedInDrawer(browser, job, { context });
  // The note goes once the photo is recorded: the upload waits until the row has been read.
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  await page.route(`${S3_ORIGIN}/**`, async (route) => { await gate; return route.continue(); });
  await page.setInputFiles(".qc-file", await jpegFiles(page, ["private-tab.jpg"]));
  await page.waitForSelector(".qc-uploads li:has-text('could not be kept for later')", LONG);
  release();
  await waitRecorded(page, 1);
  assert.equal(await page.textContent(".qc-summary"), "1 of 1 recorded.");
  await waitThumbnails(page, 1);
  assert.equal(completedKeys(job).length, 1);
  assertNoProblems(page);
  await context.close();
});

test("when the browser's storage is full, the row says the photo is not kept, and it still uploads", async () => {
  const job = newJob();
  const context = await browser.newContext(PHONE);
  const page = await signedInDrawer(browser, job, { context });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: PAGE_URL, quotaSize: 1024 });
  // The upload to S3 waits until the row has been read (it would drop its note once recorded).
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  await page.route(`${S3_ORIGIN}/**`, async (route) => { await gate; return route.continue(); });
  // Chromium lets small writes past the quota; a phone's photo is not small.
  await page.setInputFiles(".qc-file", await jpegFiles(page, ["full-phone.jpg"], { camera: true }));
  await page.waitForSelector(".qc-uploads li:has-text('storage for this page is full')", LONG);
  assert.match(await page.textContent(".qc-sr"), /full-phone\.jpg: The phone's storage for this page is full/);
  release();
  await waitRecorded(page, 1);
  assert.equal(completedKeys(job).length, 1);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: PAGE_URL });
  assertNoProblems(page);
  await context.close();
});

test("the service worker keeps the page's own files, never anything else from its origin", async () => {
  const context = await browser.newContext(PHONE);
  const page = await signedInDrawer(browser, newJob(), { context });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, LONG);
  // A file of the same origin that is not the page's (as an API on the page's origin would be):
  // fetched once online through the worker, it must not be there offline.
  // (Another query each time: the browser's own HTTP cache keys on it, the worker's would not.)
  const other = new URL("qdn-capture.manifest.json", PAGE_URL).href;
  const online = await page.goto(`${other}?online`);
  assert.equal(online.status(), 200);
  await context.setOffline(true);
  await assert.rejects(page.goto(`${other}?offline`), /ERR_INTERNET_DISCONNECTED|ERR_FAILED/);
  // The page itself still opens offline.
  const again = await context.newPage();
  await again.goto(PAGE_URL);
  await again.waitForSelector(".qc-file", { state: "attached" });
  await context.close();
});
