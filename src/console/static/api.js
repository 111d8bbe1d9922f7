/**
 * The gateway's API, same origin. URLs are relative to the page (`/console/` -> `../v1/...`), so
 * the console also works when an ingress serves the gateway under a path prefix.
 */

export const API_BASE = new URL('../', document.baseURI);

/** An error answer of the gateway: `{ error: code, message }` with its HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The URL of an API path such as `v1/events`. */
export function apiUrl(path) {
  return new URL(path, API_BASE);
}

export function createApi() {
  let token;
  return {
    setToken(value) {
      token = value;
    },
    get isSignedIn() {
      return token !== undefined;
    },
    /** Calls the API; resolves with the JSON body (undefined for 204), rejects with `ApiError`. */
    async request(method, path, body, headers = {}) {
      const init = { method, headers: { accept: 'application/json', ...headers }, credentials: 'omit' };
      if (token) init.headers.authorization = `Bearer ${token}`;
      if (body !== undefined) {
        init.headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      let response;
      try {
        response = await fetch(apiUrl(path), init);
      } catch (err) {
        throw new ApiError(0, 'NETWORK', `The gateway did not answer (${err.message})`);
      }
      const text = await response.text();
      let json;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (!response.ok) {
        throw new ApiError(response.status, json?.error, json?.message ?? `HTTP ${response.status}`);
      }
      return json;
    },
  };
}

/** A one-line description of an error for the page. */
export function describeError(err) {
  if (err instanceof ApiError) return err.code ? `${err.message} (${err.code})` : err.message;
  return err instanceof Error ? err.message : String(err);
}
