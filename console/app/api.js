// The console's JSON API (src/console/console.hpp). Every change carries the session's CSRF
// token; a 401 anywhere sends the browser back to the sign-in page.

let csrfToken = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || `HTTP${status}`;
  }
  // As the API answers it: "Code: message".
  toString() { return `${this.code}: ${this.message}`; }
}

export function setSignedOutHandler(fn) { onSignedOut = fn; }
export function setCsrfToken(token) { csrfToken = token; }

async function request(method, url, body) {
  const headers = {};
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  }
  const r = await fetch(url, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let data = null;
  if ((r.headers.get('Content-Type') || '').startsWith('application/json') && text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (r.status === 401 && !url.endsWith('/signin')) onSignedOut();
  if (!r.ok) throw new ApiError(r.status, data?.code || data?.__type, data?.message || text);
  return data ?? text;
}

export const session = () => request('GET', '/console/api/session');
export const signIn = (accessKeyId, secretAccessKey) =>
  request('POST', '/console/api/signin', { accessKeyId, secretAccessKey });
export const signOut = () => request('POST', '/console/api/signout', {});

// An SES v2 / SES v1 / CloudWatch operation with its input document (member names).
export const call = (service, operation, input = {}) =>
  request('POST', `/console/api/call/${service}/${operation}`, input);

// The local read API (/_mailtally/<path>): event log, mailbox, diagnostics.
export const local = (path) => request('GET', `/console/api/local/${path}`);

export const listKeys = () => request('GET', '/console/api/keys');
export const createKey = (name) => request('POST', '/console/api/keys', { name });
export const deleteKey = (id) => request('DELETE', `/console/api/keys/${encodeURIComponent(id)}`);
