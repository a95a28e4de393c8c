// The job-drawer capture page, driven in Debian's Chromium (run by scripts/browser-test.sh).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chromium } from "playwright-core";

const { PAGE_URL, OTHER_PAGE_URL, API_URL, BROWSER_TOKEN, BROWSER_MAX_BYTES, PYTHON, SCREENSHOT } = process.env;
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => browser?.close());

async function openDrawer(job, pageUrl = PAGE_URL) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  const page = await context.newPage();
  page.on("pageerror", (err) => assert.fail(`page error: ${err.message}`));
  await page.goto(`${pageUrl}/?job=${job}&api=${encodeURIComponent(API_URL)}`);
  return page;
}

async function enterToken(page, token) {
  await page.waitForSelector("#token-form:not([hidden])");
  await page.fill("#token", token);
  await page.click("#token-form button");
}

/** A real JPEG drawn by the browser's own encoder: different colours per seed. */
async function jpeg(page, seed) {
  const dataUrl = await page.evaluate((seed) => {
    const canvas = document.createElement("canvas");
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext("2d");
    const gradient = ctx.createLinearGradient(0, 0, 320, 240);
    gradient.addColorStop(0, `hsl(${seed * 90}, 70%, 50%)`);
    gradient.addColorStop(1, `hsl(${seed * 90 + 45}, 70%, 30%)`);
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, 320, 240);
    ctx.fillStyle = "#fff";
    ctx.font = "bold 48px sans-serif";
    ctx.fillText(`Photo ${seed}`, 40, 140);
    return canvas.toDataURL("image/jpeg", 0.9);
  }, seed);
  return Buffer.from(dataUrl.split(",")[1], "base64");
}

function auditEvents(job) {
  const out = execFileSync(PYTHON, ["scripts/local_aws.py", "audit", job], { encoding: "utf8" });
  return out.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line).event.S);
}

async function listedPhotos(job) {
  const resp = await fetch(`${API_URL}/photos?job_id=${job}`, { headers: { authorization: `Bearer ${BROWSER_TOKEN}` } });
  assert.equal(resp.status, 200);
  return (await resp.json()).photos;
}

test("two photos upload in parallel, show as the pipeline's thumbnails and are recorded once", async () => {
  const job = `b-${randomUUID().slice(0, 8)}`;
  const page = await openDrawer(job);
  await enterToken(page, BROWSER_TOKEN);
  await page.waitForSelector("#strip-status:has-text('No photos yet.')");
  const files = [
    { name: "front-door.jpg", mimeType: "image/jpeg", buffer: await jpeg(page, 1) },
    { name: "meter.jpg", mimeType: "image/jpeg", buffer: await jpeg(page, 2) },
  ];
  await page.setInputFiles("#capture", files);

  await page.waitForFunction(() => document.querySelectorAll("#uploads li.done").length === 2, null, { timeout: 60_000 });
  const bars = await page.$$eval("#uploads progress", (ps) => ps.map((p) => p.value));
  assert.deepEqual(bars, [100, 100]);
  // The strip shows the pipeline's thumbnails (made on S3's event, here the local stand-in's),
  // loaded, each opening the full-size photo when tapped.
  await page.waitForFunction(
    () => [...document.querySelectorAll("#strip img")]
      .filter((img) => img.src.includes("/thumbs/") && img.complete && img.naturalWidth > 0).length === 2,
    null,
    { timeout: 60_000 },
  );
  const links = await page.$$eval("#strip a", (as) => as.map((a) => a.href));
  assert.equal(links.length, 2);
  assert.ok(links.every((href) => href.includes(`/jobs/${job}/`) && !href.includes("/thumbs/")), links.join("\n"));
  assert.equal(await page.textContent("#status"), "2 of 2 uploaded.");
  assert.deepEqual(auditEvents(job).filter((e) => e === "upload_completed"), ["upload_completed"]);
  const photos = await listedPhotos(job);
  assert.deepEqual(photos.map((p) => p.size).sort(), files.map((f) => f.buffer.length).sort());
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

test("a file over max_bytes is refused before upload and nothing is stored", async () => {
  const job = `b-${randomUUID().slice(0, 8)}`;
  const page = await openDrawer(job);
  await enterToken(page, BROWSER_TOKEN);
  const big = Buffer.concat([await jpeg(page, 3), Buffer.alloc(Number(BROWSER_MAX_BYTES))]);
  await page.setInputFiles("#capture", [{ name: "too-big.jpg", mimeType: "image/jpeg", buffer: big }]);
  await page.waitForSelector("#uploads li.failed");
  assert.match(await page.textContent("#uploads li .msg"), /Too large: too-big\.jpg is .* MB/);
  assert.equal(await page.textContent("#status"), "Nothing was uploaded.");
  assert.deepEqual(await listedPhotos(job), []);
  assert.ok(!auditEvents(job).includes("upload_completed"));
});

test("a wrong token gets the 401 message and a new prompt", async () => {
  const page = await openDrawer(`b-${randomUUID().slice(0, 8)}`);
  await enterToken(page, "not-the-token");
  await page.waitForSelector("#token-reason:has-text('was not accepted')");
  assert.equal(await page.isVisible("#token-form"), true);
  assert.equal(await page.evaluate(() => location.search.includes("not-the-token")), false, "token never in the URL");
});

test("a page served from an origin not in ALLOWED_ORIGINS is blocked by the browser's CORS check", async () => {
  // The function's own CORS answers here (cargo lambda watch runs with --disable-cors), as the
  // HTTP API's CorsConfiguration does in production: a refused preflight, no readable response.
  const job = `b-${randomUUID().slice(0, 8)}`;
  const page = await openDrawer(job, OTHER_PAGE_URL);
  const corsErrors = [];
  page.on("console", (msg) => { if (/CORS policy/.test(msg.text())) corsErrors.push(msg.text()); });
  await enterToken(page, BROWSER_TOKEN);
  await page.waitForSelector("#strip-status:has-text('No connection to the server.')");
  await page.setInputFiles("#capture", [{ name: "blocked.jpg", mimeType: "image/jpeg", buffer: await jpeg(page, 4) }]);
  await page.waitForSelector("#uploads li.failed");
  assert.ok(corsErrors.length >= 1, "the browser reported the CORS refusal");
  assert.ok(corsErrors.every((e) => e.includes(OTHER_PAGE_URL)), corsErrors.join("\n"));
  // The API answered the same request from the allowed origin's page, and issued nothing here.
  assert.deepEqual(auditEvents(job), []);
  assert.deepEqual(await listedPhotos(job), []);
});
