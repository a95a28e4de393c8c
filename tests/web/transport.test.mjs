// Sending bytes to S3 (web/capture/transport.js) and naming files (sniff.js), without a browser.
import assert from "node:assert/strict";
import test from "node:test";

import { contentType, megabytes } from "../../web/capture/sniff.js";
import { postToS3, s3Message, uploadForm } from "../../web/capture/transport.js";

test("the form carries the grant's fields in order and the file last", async () => {
  const grant = { url: "https://b.example/", fields: { key: "jobs/j/1.jpg", policy: "p", "x-amz-signature": "s" } };
  const form = uploadForm(grant, new Blob(["abc"]), "site.jpg");
  const entries = [...form.entries()];
  assert.deepEqual(entries.slice(0, 3), [["key", "jobs/j/1.jpg"], ["policy", "p"], ["x-amz-signature", "s"]]);
  assert.equal(entries[3][0], "file");
  assert.equal(entries[3][1].name, "site.jpg");
  assert.equal(await entries[3][1].text(), "abc");
});

test("S3's error message is read from its XML, and nothing else", () => {
  assert.equal(s3Message("<Error><Code>AccessDenied</Code><Message>Policy expired.</Message></Error>"), "Policy expired.");
  assert.equal(s3Message(""), "");
  assert.equal(s3Message(undefined), "");
  assert.equal(s3Message("<html>proxy</html>"), "");
});

/** An XMLHttpRequest stand-in driven by the test: `script(xhr)` decides what happens after send. */
function fakeXhr(script) {
  return class {
    constructor() {
      this.listeners = {};
      this.upload = { addEventListener: (e, f) => (this.listeners[`upload:${e}`] = f) };
    }
    addEventListener(e, f) { this.listeners[e] = f; }
    open(method, url) { this.opened = [method, url]; }
    abort() { this.listeners.abort?.(); }
    send(body) { this.body = body; script(this); }
  };
}

test("progress is reported and the answer is S3's status and message", async () => {
  const seen = [];
  const Xhr = fakeXhr((xhr) => {
    xhr.listeners["upload:progress"]({ lengthComputable: true, loaded: 1, total: 4 });
    xhr.status = 201;
    xhr.responseText = "<PostResponse/>";
    xhr.listeners.load();
  });
  const grant = { url: "https://b.example/", fields: {} };
  const answer = await postToS3(grant, new Blob(["x"]), "a.jpg", (p) => seen.push(p), { Xhr });
  assert.deepEqual(answer, { status: 201, message: "" });
  assert.deepEqual(seen, [25]);
});

test("a connection that stops making progress is given up, as a network failure", async () => {
  const Xhr = fakeXhr(() => {}); // sends, then nothing ever happens
  const grant = { url: "https://b.example/", fields: {} };
  await assert.rejects(postToS3(grant, new Blob(["x"]), "a.jpg", () => {}, { Xhr, stallMs: 20 }), /network/);
});

test("a file's type comes from the browser, else its extension, else octet-stream", () => {
  assert.equal(contentType({ type: "image/png", name: "x.jpg" }), "image/png");
  assert.equal(contentType({ type: "", name: "IMG_0001.HEIC" }), "image/heic");
  assert.equal(contentType({ type: "", name: "scan.jpeg" }), "image/jpeg");
  assert.equal(contentType({ type: "", name: "notes" }), "application/octet-stream");
  assert.equal(megabytes(524288), "0.50 MB");
  assert.equal(megabytes(3.7 * 1048576), "3.7 MB");
});
