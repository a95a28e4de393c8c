// The demo host: what the dashboard's job drawer does, on a page of its own. Only the job id is
// read from the page's URL; the API comes from qdn-capture.config.js. The token is kept in
// sessionStorage (this tab only, gone when it closes), never in a URL.

import { mountCapture } from "./qdn-capture.js";

const TOKEN_KEY = "qdn-photos-token";
const $ = (id) => document.getElementById(id);
const job = new URLSearchParams(location.search).get("job") || "j-12345";

function askForToken(reason) {
  $("token-reason").textContent = reason;
  $("token-form").hidden = false;
  $("token").focus();
}

$("job-id").textContent = job;
let capture = null;
try {
  capture = mountCapture($("capture"), {
    jobId: job,
    getToken: () => sessionStorage.getItem(TOKEN_KEY),
    onAuthRequired: () => {
      const rejected = sessionStorage.getItem(TOKEN_KEY) !== null;
      sessionStorage.removeItem(TOKEN_KEY);
      askForToken(rejected
        ? "Your access token was not accepted. Enter it again."
        : "Enter your access token to see and add photos.");
    },
  });
} catch (err) {
  $("page-problem").textContent = `This page cannot open job “${job}”: ${err.message}`;
  $("page-problem").hidden = false;
}

$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  $("token-form").hidden = true;
  capture?.retry();
});

// The page itself opens without a connection (a basement, a rural site): sw.js keeps its files.
// Trusted Types (the CSP) admit one script URL, through the one policy the CSP names.
if ("serviceWorker" in navigator) {
  const policy = globalThis.trustedTypes?.createPolicy("qdn-capture-sw", {
    createScriptURL: (url) => {
      if (url !== "sw.js") throw new TypeError("only sw.js");
      return url;
    },
  });
  navigator.serviceWorker.register(policy ? policy.createScriptURL("sw.js") : "sw.js").catch(() => {});
}
