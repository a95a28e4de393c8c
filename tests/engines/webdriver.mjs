// The engines users have, each driven by its own W3C WebDriver server, as a user's browser runs:
// Chromium (chromedriver), Firefox ESR (geckodriver, Marionette) and WebKitGTK (WebKitWebDriver
// and MiniBrowser, Safari's engine, in a virtual display). One small client speaks the protocol
// to all three, so a scenario is written once and a failure names the engine it failed in.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { existsSync, readdirSync } from "node:fs";

/** A phone: what the capture button is used on. */
export const PHONE = { width: 390, height: 844 };

const MINIBROWSER_DIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"];

/** MiniBrowser ships inside the webkit2gtk library folder (webkit2gtk-4.1 or 4.0, by release). */
function miniBrowser() {
  for (const dir of MINIBROWSER_DIRS) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((n) => n.startsWith("webkit2gtk-4")).sort().reverse()) {
      const path = `${dir}/${name}/MiniBrowser`;
      if (existsSync(path)) return path;
    }
  }
  throw new Error("WebKitGTK: no MiniBrowser under the webkit2gtk library folder (apt-get install webkit2gtk-driver)");
}

export const ENGINES = {
  chromium: {
    driver: (port) => ["/usr/bin/chromedriver", [`--port=${port}`]],
    capabilities: () => ({
      browserName: "chrome",
      "goog:chromeOptions": {
        binary: "/usr/bin/chromium",
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        mobileEmulation: { deviceMetrics: { ...PHONE, pixelRatio: 2 } },
      },
    }),
  },
  firefox: {
    driver: (port) => [process.env.GECKODRIVER || "geckodriver", [`--port=${port}`, "--log", "error"]],
    capabilities: () => ({
      browserName: "firefox",
      "moz:firefoxOptions": {
        binary: "/usr/bin/firefox-esr",
        args: ["-headless", `--width=${PHONE.width}`, `--height=${PHONE.height}`],
      },
    }),
  },
  webkit: {
    // Its --headless flag hangs here: a virtual display instead.
    driver: (port) => ["xvfb-run", ["-a", "-s", "-screen 0 1280x1024x24", "WebKitWebDriver", `--port=${port}`]],
    capabilities: () => ({
      browserName: "MiniBrowser",
      "webkitgtk:browserOptions": { binary: miniBrowser(), args: ["--automation"] },
    }),
  },
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The element reference key of the W3C protocol. */
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriverError extends Error {}

/** One browser session of `engine`: its driver process, started here and stopped by `quit`. */
export class Browser {
  static async start(engine) {
    const spec = ENGINES[engine];
    if (!spec) throw new Error(`no engine ${engine}: one of ${Object.keys(ENGINES).join(", ")}`);
    const port = await freePort();
    const [command, args] = spec.driver(port);
    const driver = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
    let stderr = "";
    driver.stderr.on("data", (d) => { stderr = (stderr + d).slice(-4000); });
    const exited = new Promise((resolve) => driver.on("exit", resolve));
    const browser = new Browser(engine, `http://127.0.0.1:${port}`, driver);
    // Ready when /status answers (each driver takes its own time to start).
    for (let i = 0; ; i++) {
      try {
        const resp = await fetch(`${browser.base}/status`);
        if (resp.ok) break;
      } catch { /* not listening yet */ }
      if (driver.exitCode !== null || i > 600) {
        browser.kill();
        throw new Error(`${engine}: the WebDriver server did not start: ${stderr}`);
      }
      await Promise.race([sleep(100), exited]);
    }
    const session = await browser.command("POST", "/session", { capabilities: { alwaysMatch: spec.capabilities() } });
    browser.session = session.sessionId;
    browser.version = `${session.capabilities.browserName} ${session.capabilities.browserVersion}`;
    // Chromium emulates the phone; the others get a phone-sized window (as small as each allows).
    if (engine !== "chromium") await browser.command("POST", "/window/rect", PHONE).catch(() => {});
    await browser.command("POST", "/timeouts", { script: 120_000, pageLoad: 120_000 });
    return browser;
  }

  constructor(engine, base, driver) {
    this.engine = engine;
    this.base = base;
    this.driver = driver;
    this.session = null;
  }

  async command(method, path, body) {
    const url = this.session && path !== "/session" ? `${this.base}/session/${this.session}${path}` : `${this.base}${path}`;
    const resp = await fetch(url, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? (method === "POST" ? "{}" : undefined) : JSON.stringify(body),
    });
    const json = await resp.json().catch(() => ({}));
    if (!resp.ok || json.value?.error) {
      throw new WebDriverError(`${this.engine}: ${method} ${path}: ${json.value?.error || resp.status}: ${json.value?.message || ""}`);
    }
    return json.value;
  }

  goto(url) { return this.command("POST", "/url", { url }); }
  reload() { return this.command("POST", "/refresh"); }

  /** Runs `fn` (a function, serialized) in the page with `args`; its (awaited) result. */
  run(fn, ...args) {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve((${fn}).apply(null, Array.prototype.slice.call(arguments, 0, -1)))
        .then((value) => done({ value }), (err) => done({ error: String(err && err.stack || err) }));`;
    return this.command("POST", "/execute/async", { script, args }).then((out) => {
      if (out && "error" in out) throw new Error(`${this.engine}: in the page: ${out.error}`);
      return out?.value;
    });
  }

  async find(css) {
    const found = await this.command("POST", "/element", { using: "css selector", value: css });
    return found[ELEMENT];
  }

  async click(css) {
    return this.command("POST", `/element/${await this.find(css)}/click`);
  }

  async type(css, text) {
    return this.command("POST", `/element/${await this.find(css)}/value`, { text });
  }

  /** Chooses files (paths on this machine) in the file input `css`, as a user would. */
  async chooseFiles(css, paths) {
    return this.type(css, paths.join("\n"));
  }

  async screenshot() {
    return Buffer.from(await this.command("GET", "/screenshot"), "base64");
  }

  /** Polls `fn(...args)` in the page until it returns something truthy; `describe` (run in the
   *  page) says what the page showed when it never did. */
  async until(what, fn, args = [], { timeout = 120_000, every = 250, whileWaiting, describe } = {}) {
    const deadline = Date.now() + timeout;
    for (let i = 1; ; i++) {
      const value = await this.run(fn, ...args).catch((err) => (err instanceof WebDriverError ? null : Promise.reject(err)));
      if (value) return value;
      if (Date.now() > deadline) {
        const shown = describe ? await this.run(describe).catch((e) => String(e)) : "";
        throw new Error(`${this.engine}: gave up waiting for ${what} after ${timeout / 1000} s. ${shown}`);
      }
      if (whileWaiting && i % 20 === 0) await whileWaiting();
      await sleep(every);
    }
  }

  async quit() {
    if (this.session) await this.command("DELETE", "").catch(() => {});
    this.session = null;
    this.kill();
  }

  kill() {
    // The driver's whole process group: xvfb-run's display and MiniBrowser with it.
    try { process.kill(-this.driver.pid, "SIGTERM"); } catch { /* gone */ }
  }
}
