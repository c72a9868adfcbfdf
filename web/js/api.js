// The API, as the pages use it: JSON envelopes in, ApiError out, the request id kept for support.

export class ApiError extends Error {
  constructor({ status = 0, code = "NETWORK", message, details = [], requestId = null, retryAfter = null }) {
    super(message || "The request could not be completed.");
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }

  /** Worth trying again with the same request (the network, a rate limit, the server's own trouble). */
  get transient() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

/** A fresh Idempotency-Key: a UUID v4 (crypto.randomUUID needs a secure context; the fallback does not). */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * One API call. Resolves to {status, data, headers, etag} for 2xx and 304; rejects with ApiError otherwise.
 * `json` is sent as the body; `headers` are added (Idempotency-Key, If-None-Match).
 */
export async function api(method, path, { json, headers = {}, signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store", signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof json === "string" ? json : JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError({ message: "We could not reach Reckoning. Check your connection and try again." });
  }
  const requestId = response.headers.get("X-Request-Id");
  const retryAfter = retryAfterSeconds(response.headers.get("Retry-After"));
  if (response.status === 304) {
    return { status: 304, data: null, headers: response.headers, etag: response.headers.get("ETag"), retryAfter };
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.ok && body && body.success) {
    return { status: response.status, data: body.data, headers: response.headers, etag: response.headers.get("ETag"), retryAfter };
  }
  const error = (body && body.error) || {};
  throw new ApiError({
    status: response.status,
    code: error.code || (response.status === 404 ? "NOT_FOUND" : "HTTP_" + response.status),
    message: error.message,
    details: error.details,
    requestId: requestId || error.requestId || null,
    retryAfter,
  });
}
