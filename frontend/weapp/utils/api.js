// The shop's API for the mini-program: base URL, session token in storage, one transparent
// re-login on 401, errors as {code, message, status} with the API's stable codes.

const config = require('../config.js');

function baseUrl() {
  return wx.getStorageSync('baseUrl') || config.baseUrl;
}

/** @returns {Promise<string>} a code from wx.login */
function wxLogin() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (r) => resolve(r.code),
      fail: () => reject({ code: 'NETWORK', message: 'wx.login failed', status: 0 }),
    });
  });
}

/** @returns {Promise<{status: number, data: any}>} */
function raw(method, path, data, headers) {
  return new Promise((resolve, reject) => {
    wx.request({
      url: baseUrl() + path,
      method,
      data,
      header: Object.assign({ 'content-type': 'application/json' }, headers || {}),
      success: (r) => resolve({ status: r.statusCode, data: r.data }),
      fail: () => reject({ code: 'NETWORK', message: 'network error', status: 0 }),
    });
  });
}

/** Logs in with WeChat and keeps the session token. */
async function login() {
  const code = await wxLogin();
  const r = await raw('POST', '/api/v1/auth/wechat-login', { code });
  if (r.status !== 200) throw toError(r);
  wx.setStorageSync('token', r.data.token);
  return r.data.token;
}

function toError(r) {
  const d = r.data && typeof r.data === 'object' ? r.data : {};
  return { code: d.code || 'INTERNAL', message: d.message || '', field: d.field, status: r.status };
}

/**
 * Calls the API as the shopper. A missing or expired session logs in again and retries once.
 * @param {string} method
 * @param {string} path under the base URL, e.g. /api/v1/orders
 * @param {object} [data]
 * @param {object} [headers]
 */
async function request(method, path, data, headers) {
  let token = wx.getStorageSync('token') || (await login());
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const r = await raw(method, path, data, Object.assign({ authorization: `Bearer ${token}` }, headers || {}));
    if (r.status === 401 && attempt === 0) {
      wx.removeStorageSync('token');
      token = await login();
      continue;
    }
    if (r.status >= 200 && r.status < 300) return r.data;
    throw toError(r);
  }
  throw { code: 'UNAUTHENTICATED', message: '', status: 401 };
}

/** A fresh Idempotency-Key (UUID v4 shape). */
function newKey() {
  const hex = '0123456789abcdef';
  let s = '';
  for (let i = 0; i < 32; i += 1) s += hex[Math.floor(Math.random() * 16)];
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-a${s.slice(17, 20)}-${s.slice(20)}`;
}

const get = (path) => request('GET', path);
const post = (path, data, headers) => request('POST', path, data || {}, headers);
const put = (path, data) => request('PUT', path, data);
const del = (path) => request('DELETE', path);

module.exports = { request, login, get, post, put, del, newKey, baseUrl };
