// Talking to this server's dashboard API: same origin, the admin token when one is set.

const BASE = "/__admin/ui/api/";
const TOKEN_KEY = "mockserver-admin-token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(callback) { onUnauthorized = callback; }

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }
export function setToken(value) { sessionStorage.setItem(TOKEN_KEY, value); }

export function headers(extra = {}) {
  const out = { Accept: "application/json", ...extra };
  const given = token();
  if (given) out.Authorization = `Bearer ${given}`;
  return out;
}

async function call(method, path, body) {
  const init = { method, headers: headers(), credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(BASE + path, init);
  if (response.status === 401) onUnauthorized();
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      detail = problem.detail ? `${problem.title}: ${problem.detail}` : detail;
    } catch (_) { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  return response.status === 204 ? null : response.json();
}

export const get = (path) => call("GET", path);
export const post = (path) => call("POST", path, {});
export const remove = (path) => call("DELETE", path);
export const eventsUrl = (query) => `${BASE}events${query ? "?" + query : ""}`;
