// The admin HTTP API: bearer token, JSON in and out, errors as ApiError with the server's
// {code, message, request_id, field}.

import { ERROR_CODES } from './labels.js';

export const API_ROOT = '/api/v1';
export const ADMIN = `${API_ROOT}/admin`;
const SESSION_KEY = 'wuchang-admin.session';

export class ApiError extends Error {
  constructor(status, body) {
    const code = body?.code ?? (status === 0 ? 'NETWORK' : 'HTTP_' + status);
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.field = body?.field;
    this.requestId = body?.request_id;
    this.serverMessage = body?.message;
  }

  /** For people: the Chinese meaning of the code, the field, and the server's detail. */
  get display() {
    if (this.status === 0) return '无法连接服务器，请检查网络';
    const base = ERROR_CODES[this.code] ?? `请求失败（${this.status}）`;
    const field = this.field ? `【${this.field}】` : '';
    const detail = this.serverMessage && this.code !== 'INVALID_CREDENTIALS' ? `：${this.serverMessage}` : '';
    return `${base}${field}${detail}`;
  }
}

// --- session -------------------------------------------------------------------------------

export function getSession() {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null');
    if (!s?.token) return null;
    if (s.expires_at && Date.parse(s.expires_at) <= Date.now()) {
      clearSession();
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

export function setSession(login) {
  localStorage.setItem(
    SESSION_KEY,
    JSON.stringify({ token: login.token, expires_at: login.expires_at, operator: login.operator }),
  );
}

export function updateOperator(operator) {
  const s = getSession();
  if (s) setSession({ ...s, operator });
}

export function clearSession() {
  localStorage.removeItem(SESSION_KEY);
}

// --- requests ------------------------------------------------------------------------------

function url(path, query) {
  const u = new URL(path.startsWith('/') ? path : `${ADMIN}/${path}`, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  }
  return u.pathname + u.search;
}

async function send(method, path, { body, query, form, auth = true } = {}) {
  const headers = { accept: 'application/json' };
  const session = getSession();
  if (auth && session) headers.authorization = `Bearer ${session.token}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(url(path, query), { method, headers, body: payload });
  } catch {
    throw new ApiError(0, null);
  }
  if (!resp.ok) {
    let err = null;
    try {
      err = await resp.json();
    } catch {
      /* not JSON */
    }
    if (resp.status === 401 && auth) {
      clearSession();
      window.dispatchEvent(new CustomEvent('session-expired'));
    }
    throw new ApiError(resp.status, err);
  }
  return resp;
}

async function json(method, path, opts) {
  const resp = await send(method, path, opts);
  if (resp.status === 204) return null;
  const text = await resp.text();
  return text ? JSON.parse(text) : null;
}

export const api = {
  get: (path, query) => json('GET', path, { query }),
  post: (path, body) => json('POST', path, { body: body ?? {} }),
  patch: (path, body) => json('PATCH', path, { body }),
  del: (path) => json('DELETE', path),
  upload: (path, file, name) => {
    const form = new FormData();
    form.append('file', file, name ?? file.name ?? 'image');
    return json('POST', path, { form });
  },
  login: (username, password) => json('POST', 'auth/login', { body: { username, password }, auth: false }),
};

/** The file name from `Content-Disposition: attachment; filename="x.csv"`. */
export function dispositionName(header, fallback) {
  if (!header) return fallback;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : fallback;
}

/**
 * Downloads a file the server streams (the bearer token cannot go in a link): fetch → blob →
 * a temporary object URL clicked as a download. Resolves to {name, size}.
 */
export async function download(path, query, fallbackName) {
  const resp = await send('GET', path, { query });
  const blob = await resp.blob();
  const name = dispositionName(resp.headers.get('content-disposition'), fallbackName);
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
  return { name, size: blob.size };
}

/** The same-origin path of a media URL the server made absolute with its public base. */
export function mediaPath(u) {
  try {
    const parsed = new URL(u, location.origin);
    return parsed.pathname;
  } catch {
    return u;
  }
}

let namesCache = null;
/**
 * Operator id → username, for "who decided": everyone knows their own name, admins all names
 * (only they may list operators). Cached for the page's life.
 */
export async function operatorNames(session, canList) {
  const names = new Map([[session.operator.id, session.operator.username]]);
  if (canList) {
    namesCache ??= api.get('operators').catch(() => []);
    for (const o of await namesCache) names.set(o.id, o.username);
  }
  return names;
}

export function forgetOperatorNames() {
  namesCache = null;
}
