// HTTP to the master: JSON in, JSON out, and one error shape. Every API of the master answers
// errors as {"message": ..., "details": [{"path": ..., "errors": [...]}]}; ApiError carries them
// so a form can show each error at its field.

export class ApiError extends Error {
  constructor(status, message, details = [], body = null) {
    super(message);
    this.status = status;         // 0: the master did not answer
    this.details = details;       // [{path, errors: [...]}]
    this.body = body;
  }
}

// The error's text for a person: the message and, when there are any, the fields it names.
export function describeError(error) {
  if (!(error instanceof ApiError)) return String(error && error.message ? error.message : error);
  const parts = (error.details || []).map((d) => `${d.path || "/"}: ${(d.errors || []).join(", ")}`);
  return parts.length ? `${error.message} (${parts.join("; ")})` : error.message;
}

// One request. `body` (an object) is sent as JSON. Resolves to the parsed JSON body (null for an
// empty one); rejects with ApiError for non-2xx answers and network failures.
export async function request(method, path, body, options = {}) {
  const headers = { Accept: options.accept || "application/json" };
  const init = { method, headers, cache: "no-store", signal: options.signal };
  if (body !== undefined) {
    headers["Content-Type"] = options.contentType || "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    throw new ApiError(0, `${method} ${path}: the master did not answer`);
  }
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      if (response.ok) throw new ApiError(response.status, `${method} ${path}: the answer is not JSON`);
    }
  }
  if (!response.ok) {
    const message = (json && json.message) || `${method} ${path} answered ${response.status}`;
    const details = (json && Array.isArray(json.details) ? json.details : []).map((d) => ({
      path: d.path || "",
      errors: Array.isArray(d.errors) ? d.errors : [String(d.errors ?? "")],
    }));
    throw new ApiError(response.status, message, details, json);
  }
  if (options.withHeaders) return { body: json, headers: response.headers };
  return json;
}

export const get = (path, options) => request("GET", path, undefined, options);
export const post = (path, body, options) => request("POST", path, body === undefined ? {} : body, options);
export const put = (path, body, options) => request("PUT", path, body, options);
export const patch = (path, body, options) => request("PATCH", path, body, options);
export const del = (path, options) => request("DELETE", path, undefined, options);

// The Mesos operator API (POST /api/v1 {"type": ...}).
export const operator = (type, extra = {}) => post("/api/v1", { type, ...extra });

// A Marathon app or group id as a URL path ("/prod/web" -> "prod/web", each segment encoded).
export function idPath(id) {
  return String(id).split("/").filter(Boolean).map(encodeURIComponent).join("/");
}
