// The qdn-photos API, pinned to the one origin fixed at deploy time: the bearer token is attached
// only to requests for that origin, never sent anywhere else, never put in a URL.

export class ApiError extends Error {
  constructor(status, code, message, body = {}, retryAfterS = 0) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
    /** A 429's `Retry-After` in seconds (0 when absent). */
    this.retryAfterS = retryAfterS;
  }

  /** Worth trying again later: no connection, a timeout, throttling, or a server-side outage. */
  get transient() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

// A request on a dead cellular link can hang for minutes: give up, and let the queue try again.
const TIMEOUT_MS = 30_000;

export function createApi(base, getToken) {
  const root = new URL(base);
  const prefix = root.pathname.replace(/\/$/, "");

  async function call(path, init = {}) {
    const url = new URL(root.origin + prefix + path);
    // `path` is always built here from fixed strings and encoded values; this is the last guard.
    if (url.origin !== root.origin) throw new ApiError(0, "wrong_origin", "Refused to call another server.");
    const token = await getToken();
    if (!token) throw new ApiError(401, "unauthorized", "Not signed in.");
    let resp;
    try {
      resp = await fetch(url, {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${token}` },
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch {
      throw new ApiError(0, "network", "No connection to the server.");
    }
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      const err = body.error || {};
      const retryAfterS = Math.min(Number(resp.headers.get("retry-after")) || 0, 86_400);
      throw new ApiError(resp.status, err.code || "error", err.message || `The server answered ${resp.status}.`, err,
        retryAfterS);
    }
    return { status: resp.status, body };
  }

  return {
    origin: root.origin,
    get: (path) => call(path),
    post: (path, json) =>
      call(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(json) }),
    delete: (path) => call(path, { method: "DELETE" }),
  };
}
