// Test support: the real shop-api (embedded mode, random port), a DOM for
// miniprogram-simulate, and a fake `wx` whose request goes to that server over HTTP and whose
// requestPayment asks the server's WeChat Pay sandbox to pay.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { JSDOM } = require('jsdom');

const ROOT = path.resolve(__dirname, '..');
const REPO = path.resolve(ROOT, '..', '..');

// ---- DOM for j-component ----
const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { pretendToBeVisual: true });
for (const k of ['window', 'document', 'Element', 'HTMLElement', 'Node', 'Event', 'CustomEvent', 'MutationObserver', 'getComputedStyle']) {
  global[k] = k === 'window' ? dom.window : dom.window[k];
}
if (!global.navigator) Object.defineProperty(global, 'navigator', { value: dom.window.navigator });

// ---- the fake wx ----
const storage = new Map();
const calls = { navigate: [], toasts: [], requests: [] };
const prepays = new Map(); // "prepay_id=…" → out_trade_no
let loginCode = 'weapp-test-shopper';

global.wx = {
  getStorageSync: (k) => (storage.has(k) ? storage.get(k) : ''),
  setStorageSync: (k, v) => storage.set(k, v),
  removeStorageSync: (k) => storage.delete(k),
  login: ({ success }) => setTimeout(() => success({ code: loginCode }), 0),
  showToast: (o) => calls.toasts.push(o.title),
  stopPullDownRefresh: () => {},
  navigateTo: ({ url }) => calls.navigate.push(url),
  redirectTo: ({ url }) => calls.navigate.push(url),
  navigateBack: () => calls.navigate.push('back'),
  chooseAddress: ({ success }) => success({ userName: '李四', telNumber: '13912345678', provinceName: '黑龙江省',
    cityName: '哈尔滨市', countyName: '五常市', detailInfo: '龙凤山镇 8 号' }),
  request(o) {
    calls.requests.push(`${o.method} ${o.url.replace(/^https?:\/\/[^/]+/, '')}`);
    const body = o.data === undefined || o.method === 'GET' ? undefined : JSON.stringify(o.data);
    fetch(o.url, { method: o.method, headers: o.header, body })
      .then(async (r) => {
        const text = await r.text();
        let data = text;
        try { data = JSON.parse(text); } catch { /* not JSON */ }
        // Remember which order a prepay belongs to, so requestPayment can pay it.
        const pay = /\/api\/v1\/orders\/(\d+)\/pay$/.exec(o.url);
        if (pay && r.status === 200) prepays.set(data.package, Number(pay[1]));
        o.success && o.success({ statusCode: r.status, data, header: {} });
      })
      .catch(() => o.fail && o.fail({ errMsg: 'request:fail' }));
  },
  /** The shopper confirms in the payment sheet: the sandbox pays and calls the shop back. */
  requestPayment(o) {
    const orderId = prepays.get(o.package);
    const ok = ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'].every((k) => o[k]);
    if (!ok || !orderId) return setTimeout(() => o.fail({ errMsg: 'requestPayment:fail bad params' }), 0);
    (async () => {
      const token = storage.get('token');
      const order = await (await fetch(`${server.base}/api/v1/orders/${orderId}`, { headers: { authorization: `Bearer ${token}` } })).json();
      const r = await fetch(`${server.base}/sandbox/control/pay`, { method: 'POST',
        headers: { 'content-type': 'application/json' }, body: JSON.stringify({ out_trade_no: order.order_no }) });
      if (r.status === 200) o.success({ errMsg: 'requestPayment:ok' }); else o.fail({ errMsg: `requestPayment:fail ${r.status}` });
    })().catch((e) => o.fail({ errMsg: String(e) }));
  },
};

const simulate = require('miniprogram-simulate');

// ---- the real API ----
const server = { base: '', proc: null, dir: '' };

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startApi() {
  const target = process.env.CARGO_TARGET_DIR ? path.resolve(REPO, process.env.CARGO_TARGET_DIR) : path.join(REPO, 'target');
  const bin = path.join(target, 'debug', process.platform === 'win32' ? 'shop-api.exe' : 'shop-api');
  if (!fs.existsSync(bin)) execFileSync('cargo', ['build', '-q', '-p', 'shop-api'], { cwd: REPO, stdio: 'inherit' });
  const port = await freePort();
  server.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weapp-test-'));
  server.base = `http://127.0.0.1:${port}`;
  server.proc = spawn(bin, [], {
    cwd: REPO,
    env: Object.assign({}, process.env, {
      SHOP_LISTEN: `127.0.0.1:${port}`,
      SHOP_DATABASE_URL: `sqlite://${path.join(server.dir, 'shop.db')}`,
      SHOP_MEDIA_DIR: path.join(server.dir, 'media'),
      SHOP_EVENTS_FILE: path.join(server.dir, 'events.jsonl'),
      SHOP_SEED_DEMO: 'true',
      SHOP_ADMIN_PASSWORD: 'weapp-test-admin-pw',
      SHOP_ADMIN_WEB_DIR: path.join(server.dir, 'no-admin'),
      RUST_LOG: 'warn',
    }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  server.proc.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 300; i += 1) {
    try {
      if ((await fetch(`${server.base}/readyz`)).status === 200) {
        storage.set('baseUrl', server.base);
        return server;
      }
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`shop-api did not start:\n${log}`);
}

function stopApi() {
  if (server.proc) server.proc.kill('SIGTERM');
  if (server.dir) fs.rmSync(server.dir, { recursive: true, force: true });
}

/** Renders a page (written with the Component constructor) and attaches it to the DOM. */
function page(name) {
  const id = simulate.load(path.join(ROOT, 'pages', name, name), { rootPath: ROOT });
  const comp = simulate.render(id);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

/** Text of the rendered page. */
const text = (comp) => comp.dom.textContent.replace(/\s+/g, ' ');

/** Runs a page's tap handler the way WXML would, with data-* on currentTarget. */
const tap = (comp, method, dataset = {}) => comp.instance[method]({ currentTarget: { dataset }, detail: {} });

function setShopper(code) {
  loginCode = code;
  storage.delete('token');
}

module.exports = { startApi, stopApi, page, text, tap, calls, storage, server, setShopper, simulate, ROOT };
