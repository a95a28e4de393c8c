// Light on cellular: the strip pages (newest first, "Show older photos"), shows thumbnails, and a
// refresh inside the API's URL window costs no image bytes (measured from the browser's own
// network events). Also measured: what the strip of 20 camera photos costs with and without
// thumbnails (the README's figure; written to target/strip-bytes.txt).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  API_URL, LONG, PHONE, assertNoProblems, completedKeys, imageMeter, jpegFiles, launch, listedPhotos, newJob,
  openDrawer, enterToken, signedInDrawer, waitRecorded, waitStrip, waitThumbnails,
} from "./support.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => browser?.close());

const VERY_LONG = { timeout: 600_000 };
const stripSources = (page) => page.$$eval(".qc-strip img", (imgs) => imgs.map((img) => img.src));
const loadedThumbnails = (page) => page.$$eval(".qc-strip img",
  (imgs) => imgs.filter((img) => img.src.includes("/thumbs/") && img.complete && img.naturalWidth > 0).length);

/** Refreshes (with `how`) until two refreshes fall inside one URL window (the sources repeat),
 *  then returns what that refresh cost in images. */
async function refreshCost(page, meter, how) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await stripSources(page);
    meter.reset();
    await how();
    const after = await stripSources(page);
    if (JSON.stringify(after) === JSON.stringify(before)) return { ...meter };
    // The clock crossed into the next window: URLs changed once; the next refresh repeats them.
  }
  throw new Error("photo URLs changed on every refresh");
}

test("150 photos: the strip pages newest first, and a refresh inside the window downloads no image bytes", async () => {
  const job = newJob();
  const page = await signedInDrawer(browser, job);
  const meter = await imageMeter(page);
  const names = Array.from({ length: 150 }, (_, i) => `site-${String(i + 1).padStart(3, "0")}.jpg`);
  await page.setInputFiles(".qc-file", await jpegFiles(page, names));
  await waitRecorded(page, 150);
  const keys = completedKeys(job);
  assert.equal(keys.length, 150);
  assert.equal(new Set(keys).size, 150, "each recorded once, in batches of at most 50");

  // The newest 50, the first rows' thumbnails loaded (the rest load as they scroll into view).
  // The strip catches up with the last batch on its own refresh, after the row says "recorded":
  // wait for that refresh rather than read the strip the moment before it lands.
  // Listed once the pipeline (the local stand-in, one photo at a time) has verified each.
  let listed = [];
  for (const deadline = Date.now() + 300_000; listed.length < 150 && Date.now() < deadline;) {
    listed = await listedPhotos(job, "&order=newest");
    if (listed.length < 150) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const newest = listed.map((p) => p.key);
  assert.equal(newest.length, 150, "every photo verified and listed");
  const shownKeys = () => page.$$eval(".qc-strip a", (as) => as.map((a) => new URL(a.href).pathname.split("/").slice(-3).join("/")));
  try {
    await page.waitForFunction((expected) => [...document.querySelectorAll(".qc-strip a")]
      .map((a) => new URL(a.href).pathname.split("/").slice(-3).join("/")).join() === expected.join(),
    newest.slice(0, 50), LONG);
  } catch (err) {
    // What the strip showed instead, for whoever reads the failure.
    const tiles = await page.$$eval(".qc-strip li", (lis) => lis.map((li) => li.dataset.state || "photo"));
    const counts = tiles.reduce((c, t) => ({ ...c, [t]: (c[t] || 0) + 1 }), {});
    err.message += `\nstrip: ${JSON.stringify(counts)}, status "${await page.textContent(".qc-strip-status")}"`;
    throw err;
  }
  await waitThumbnails(page, 12);
  assert.equal(await page.locator(".qc-strip li").count(), 50);
  assert.equal(await page.textContent(".qc-count"), "(50+)");
  assert.deepEqual(await shownKeys(), newest.slice(0, 50));
  await page.click(".qc-more");
  await page.waitForFunction(() => document.querySelectorAll(".qc-strip li").length === 100, null, LONG);
  await page.click(".qc-more");
  await page.waitForFunction(() => document.querySelectorAll(".qc-strip li").length === 150, null, LONG);
  assert.equal(await page.isHidden(".qc-more"), true);
  assert.equal(await page.textContent(".qc-count"), "(150)");
  assert.deepEqual(await shownKeys(), newest);
  assert.ok(meter.bytes > 0, "the first look downloaded images (the meter sees them)");

  // Once every tile is a thumbnail, and loaded (scrolled into view: they load lazily), a refresh
  // costs the JSON only.
  await waitStrip(page, () => [...document.querySelectorAll(".qc-strip img")].every((img) => img.src.includes("/thumbs/")));
  for (const img of await page.$$(".qc-strip img")) await img.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => [...document.querySelectorAll(".qc-strip img")].every((img) => img.complete && img.naturalWidth > 0),
    null, LONG);
  await page.evaluate(() => window.scrollTo(0, 0));
  const refresh = async () => {
    const listed = page.waitForResponse((r) => r.url().startsWith(`${API_URL}/photos`));
    await page.click(".qc-refresh");
    await listed;
    await page.waitForFunction(() => document.querySelectorAll(".qc-strip li").length === 150);
  };
  const cost = await refreshCost(page, meter, refresh);
  assert.equal(cost.bytes, 0, `a refresh downloaded ${cost.bytes} image bytes`);
  assert.equal(cost.fromNetwork, 0);

  // A reload draws every tile anew: the images that load come from the browser's cache.
  const reload = async () => {
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll(".qc-strip img").length === 50, null, LONG);
    await page.waitForFunction(() => [...document.querySelectorAll(".qc-strip img")].slice(0, 12).every((img) => img.complete), null, LONG);
  };
  const reloaded = await refreshCost(page, meter, reload);
  assert.ok(reloaded.requests >= 12, `images were drawn again (${reloaded.requests})`);
  assert.equal(reloaded.fromNetwork, 0, `${reloaded.fromNetwork} images came over the network after a reload`);
  assertNoProblems(page);
});

test("20 camera photos: the strip downloads thumbnails, a small fraction of the originals", async () => {
  const job = newJob();
  const page = await signedInDrawer(browser, job);
  const files = await jpegFiles(page, Array.from({ length: 20 }, (_, i) => `IMG_${4000 + i}.jpg`), { camera: true });
  const originals = files.reduce((sum, f) => sum + f.buffer.length, 0);
  // Chosen from disk, as a phone's gallery hands them over (and too many bytes to pass in memory).
  const dir = mkdtempSync(join(tmpdir(), "qdn-camera-"));
  for (const f of files) writeFileSync(join(dir, f.name), f.buffer);
  await page.setInputFiles(".qc-file", files.map((f) => join(dir, f.name)));
  await waitRecorded(page, 20);
  rmSync(dir, { recursive: true });
  // Every photo listed, with its thumbnail, once the pipeline has verified it.
  for (let i = 0; i < 600; i++) {
    const listed = await listedPhotos(job);
    if (listed.length === 20 && listed.every((p) => p.thumbnail_url)) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await page.context().close();

  // What the strip costs a phone that has never seen these photos: with the thumbnails, and as
  // it was before them (the same strip showing each original).
  const cost = async (withThumbnails) => {
    const context = await browser.newContext(PHONE);
    if (!withThumbnails) {
      await context.route(`${API_URL}/photos?**`, async (route) => {
        const resp = await route.fetch();
        const body = await resp.json();
        for (const photo of body.photos) delete photo.thumbnail_url;
        return route.fulfill({ response: resp, json: body });
      });
    }
    const fresh = await openDrawer(browser, job, { context });
    const meter = await imageMeter(fresh);
    await enterToken(fresh);
    await fresh.waitForFunction(() => {
      const imgs = [...document.querySelectorAll(".qc-strip img")];
      return imgs.length === 20 && imgs.every((img) => img.complete && img.naturalWidth > 0);
    }, null, VERY_LONG);
    const thumbs = await loadedThumbnails(fresh);
    assert.equal(thumbs, withThumbnails ? 20 : 0);
    assertNoProblems(fresh);
    await context.close();
    return meter.bytes;
  };
  const before = await cost(false);
  const after = await cost(true);
  const line = `strip of 20 camera photos (${(originals / 1e6).toFixed(1)} MB uploaded): ` +
    `originals ${before} B, thumbnails ${after} B (${(before / after).toFixed(0)}x less)`;
  console.log(line);
  writeFileSync("target/strip-bytes.txt", `${line}\n`);
  assert.ok(before >= originals, "the old strip downloaded every original");
  assert.ok(after * 20 < before, line);
});
