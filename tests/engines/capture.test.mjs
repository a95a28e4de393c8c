// The capture page in each engine field workers and office staff use: Chromium (Android), Firefox
// ESR and WebKitGTK (Safari's engine, as on iPhones), each through its own WebDriver server. The
// same scenarios in each: upload and the strip, the offline queue surviving a reload, Retry, and a
// storage that never keeps the photo.
// Every test is named by its engine, and each leaves a phone-sized screenshot in target/engines/.
//
// The page talks to the API through a proxy in this process, which the tests take down (every
// connection dropped) or put into an outage (503): the way a phone loses its link. The page is
// built (as a deploy builds it) into ENGINES_WEB_DIR, served at ENGINES_PAGE_URL, once the proxy
// listens, so that it names the proxy as its API.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { request as httpRequest, createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditEvents, completedKeys, hangBytesTransactions, listedPhotos, newJob } from "../browser/support.mjs";
import { Browser, ENGINES } from "./webdriver.mjs";

const { API_URL, BROWSER_TOKEN, ENGINES_PAGE_URL, ENGINES_WEB_DIR, S3_ORIGIN } = process.env;
const engines = (process.env.ENGINES || Object.keys(ENGINES).join(",")).split(",").filter(Boolean);
const SHOTS = join(process.cwd(), "target", "engines");

/** Between the page and the API: `up`, `down` (every connection dropped) or `outage` (503);
 *  while `held` is a promise, grant and completion requests wait for it. */
const link = { mode: "up", grantRequests: 0, held: null };
let proxy;

before(async () => {
  const api = new URL(API_URL);
  proxy = createServer(async (req, res) => {
    if (link.mode === "down") return req.socket.destroy();
    const isGrant = req.url.startsWith("/upload-url") && (req.method === "GET" || req.method === "POST");
    if (isGrant && req.method !== "OPTIONS") link.grantRequests++;
    if (isGrant && link.held) await link.held;
    if (link.mode === "outage" && isGrant) {
      res.writeHead(503, {
        "content-type": "application/json",
        "access-control-allow-origin": req.headers.origin || "*",
      });
      return res.end(JSON.stringify({ error: { code: "unavailable", message: "The audit log is unavailable. Try again shortly." } }));
    }
    const upstream = httpRequest({
      host: api.hostname, port: api.port, method: req.method, path: req.url, headers: { ...req.headers, host: api.host },
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => req.socket.destroy());
    req.pipe(upstream);
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
  execFileSync("python3", ["scripts/web_build.py", "--api", proxyUrl, "--bucket-origin", S3_ORIGIN, "--out", ENGINES_WEB_DIR],
    { stdio: "ignore" });
  mkdirSync(SHOTS, { recursive: true });
});
after(() => proxy?.close());

/** What the rows and the strip show, for a failure's message. */
function shown() {
  const rows = [...document.querySelectorAll(".qc-uploads li")].map((li) => `${li.dataset.state}: ${li.textContent}`);
  return `rows: ${JSON.stringify(rows)}; strip: ${document.querySelector(".qc-strip-status")?.textContent}; ` +
    `summary: ${document.querySelector(".qc-summary")?.textContent}`;
}

/** JPEGs drawn by the engine's own encoder, written where its file chooser can take them. */
async function photos(browser, names) {
  await browser.goto("about:blank");
  const dir = mkdtempSync(join(tmpdir(), `qdn-${browser.engine}-`));
  const files = [];
  for (const [i, name] of names.entries()) {
    const dataUrl = await browser.run((seed) => {
      const canvas = document.createElement("canvas");
      canvas.width = 640;
      canvas.height = 480;
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = `hsl(${seed * 97}, 70%, 45%)`;
      ctx.fillRect(0, 0, 640, 480);
      ctx.fillStyle = "#fff";
      ctx.font = "bold 64px sans-serif";
      ctx.fillText(`Photo ${seed}`, 120, 260);
      return canvas.toDataURL("image/jpeg", 0.9);
    }, i + 1 + Math.floor(Math.random() * 1000));
    const bytes = Buffer.from(dataUrl.split(",")[1], "base64");
    const path = join(dir, name);
    writeFileSync(path, bytes);
    files.push({ path, bytes, sha256: createHash("sha256").update(bytes).digest("hex") });
  }
  return files;
}

/** The drawer for `job`, signed in (the tab keeps its token from an earlier test), once the
 *  strip has answered. */
async function openDrawer(browser, job) {
  await browser.goto(`${ENGINES_PAGE_URL}/?job=${job}`);
  const state = () => {
    if (document.getElementById("token-form")?.hidden === false) return "sign-in";
    const strip = document.querySelector(".qc-strip li") || /No photos yet/.test(document.querySelector(".qc-strip-status")?.textContent);
    return strip && "ready";
  };
  if (await browser.until("the sign-in form or the strip", state, [], { describe: shown }) === "sign-in") {
    await browser.type("#token", BROWSER_TOKEN);
    await browser.click("#token-form button");
    await browser.until("the strip", state, [], { describe: shown });
  }
}

const rowsWith = (browser, text, n) => browser.until(`${n} row(s) saying "${text}"`,
  (text, n) => [...document.querySelectorAll(".qc-uploads li")].filter((li) => li.textContent.includes(text)).length === n,
  [text, n], { describe: shown });

const recorded = (browser, n) => browser.until(`${n} recorded`,
  (n) => document.querySelectorAll(".qc-uploads li[data-state=recorded]").length === n, [n], { describe: shown });

/** The strip's loaded thumbnails (from thumbs/), pressing Refresh now and then as a user would
 *  while the local pipeline's stand-in works. */
const thumbnails = (browser, n) => browser.until(`${n} thumbnail(s) in the strip`,
  (n) => [...document.querySelectorAll(".qc-strip img")]
    .filter((img) => img.src.includes("/thumbs/") && img.complete && img.naturalWidth > 0).length >= n,
  [n], { timeout: 300_000, describe: shown, whileWaiting: () => browser.click(".qc-refresh").catch(() => {}) });

for (const engine of engines) {
  describe(engine, () => {
    let browser;
    before(async () => {
      browser = await Browser.start(engine);
      console.log(`# ${engine}: ${browser.version}`);
    });
    after(async () => browser?.quit());

    test(`${engine}: two photos chosen together are uploaded, recorded once each and shown as thumbnails`, async () => {
      link.mode = "up";
      const job = newJob();
      const files = await photos(browser, ["meter.jpg", "leak.jpg"]);
      await openDrawer(browser, job);
      await browser.chooseFiles(".qc-file", files.map((f) => f.path));
      await recorded(browser, 2);
      assert.equal(await browser.run(() => document.querySelector(".qc-summary").textContent), "2 of 2 recorded.");
      // The engine's storage kept the bytes (no "not kept for later" note on any row).
      assert.equal(await browser.run(() => document.querySelector(".qc-uploads").textContent.includes("kept for later")), false);
      await thumbnails(browser, 2);
      const keys = completedKeys(job);
      assert.equal(new Set(keys).size, 2, "recorded once each");
      const listed = await listedPhotos(job);
      assert.deepEqual(listed.map((p) => p.sha256).sort(), files.map((f) => f.sha256).sort(), "the bytes the engine read");
      writeFileSync(join(SHOTS, `capture-${engine}.png`), await browser.screenshot());
    });

    test(`${engine}: photos chosen while the link is down survive a reload and go up once when it returns`, async () => {
      link.mode = "up";
      const job = newJob();
      const files = await photos(browser, ["basement-1.jpg", "basement-2.jpg"]);
      await openDrawer(browser, job);
      link.mode = "down";
      await browser.chooseFiles(".qc-file", files.map((f) => f.path));
      await rowsWith(browser, "waiting for connection", 2);
      await browser.reload();
      await rowsWith(browser, "waiting for connection", 2);
      assert.deepEqual(await browser.run(() => [...document.querySelectorAll(".qc-uploads .qc-name")].map((e) => e.textContent)),
        ["basement-1.jpg", "basement-2.jpg"]);
      assert.deepEqual(auditEvents(job), [], "nothing reached the server while the link was down");
      writeFileSync(join(SHOTS, `capture-${engine}-offline.png`), await browser.screenshot());

      link.mode = "up";
      await browser.run(() => [...document.querySelectorAll(".qc-uploads li button")].filter((b) => b.textContent === "Retry").forEach((b) => b.click()));
      await recorded(browser, 2);
      await thumbnails(browser, 2);
      const keys = completedKeys(job);
      assert.equal(keys.length, 2);
      assert.equal(new Set(keys).size, 2, "recorded once each");
      assert.equal(auditEvents(job).filter((e) => e === "upload_url_issued").length, 2, "one grant each: nothing sent twice");
    });

    test(`${engine}: a storage that never finishes keeping a photo's bytes: the photo is still uploaded, recorded and shown`, async () => {
      link.mode = "up";
      const job = newJob();
      const [file] = await photos(browser, ["private-tab.jpg"]);
      await openDrawer(browser, job);
      await browser.run(hangBytesTransactions);
      // The note goes once the photo is recorded: its grant waits until the row has been read.
      let release;
      link.held = new Promise((resolve) => { release = resolve; });
      try {
        await browser.chooseFiles(".qc-file", [file.path]);
        await rowsWith(browser, "could not be kept for later", 1);
      } finally {
        release();
        link.held = null;
      }
      await recorded(browser, 1);
      assert.equal(await browser.run(() => document.querySelector(".qc-summary").textContent), "1 of 1 recorded.");
      await thumbnails(browser, 1);
      assert.equal(completedKeys(job).length, 1);
      assert.deepEqual((await listedPhotos(job)).map((p) => p.sha256), [file.sha256], "the bytes the engine read");
    });

    test(`${engine}: a grant refused by an outage waits, and Retry sends it once the service is back`, async () => {
      link.mode = "up";
      const job = newJob();
      const [file] = await photos(browser, ["outage.jpg"]);
      await openDrawer(browser, job);
      link.mode = "outage";
      link.grantRequests = 0;
      await browser.chooseFiles(".qc-file", [file.path]);
      // A fresh row offers Retry too: the 503's own state is what is waited for.
      await rowsWith(browser, "waiting to retry", 1);
      assert.ok(link.grantRequests >= 1);
      assert.deepEqual(auditEvents(job), [], "an outage grants nothing");

      link.mode = "up";
      await browser.click(".qc-uploads li button");
      await recorded(browser, 1);
      await thumbnails(browser, 1);
      assert.equal(completedKeys(job).length, 1);
      assert.deepEqual((await listedPhotos(job)).map((p) => p.sha256), [file.sha256]);
    });
  });
}
