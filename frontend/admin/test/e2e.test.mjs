// The console end to end: a real shop-api (embedded mode) and Debian's chromium.
// Log in, create a product with pictures, see it on the shelf, a shopper orders and pays in the
// WeChat Pay sandbox, ship and cancel in the console, export CSV, approve a refund, check the
// dashboard, and check what operators and finance may and may not do.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch } from './support/browser.mjs';
import { ADMIN_DIR, ARTIFACTS, startServer } from './support/server.mjs';

const FIXTURES = join(ADMIN_DIR, 'test', 'fixtures');
const RICE_PNG = readFileSync(join(FIXTURES, 'rice.png'));
const FIELD_PNG = readFileSync(join(FIXTURES, 'field.png'));
const TITLE = '五常大米 稻花香2号 测试装';

let server;
let browser;
let admin; // {context, page}
const s = {}; // facts shared between steps

// --- helpers -------------------------------------------------------------------------------

async function call(method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const r = await fetch(`${server.base}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: r.status, json, headers: r.headers };
}

async function ok(method, path, opts) {
  const r = await call(method, path, opts);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} → ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

async function operatorToken(username, password) {
  return (await ok('POST', '/api/v1/admin/auth/login', { body: { username, password } })).token;
}

async function eventually(what, fn, { timeout = 15_000, every = 200 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

async function shot(page, name) {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    for (const t of document.querySelectorAll('.toast')) t.remove();
  });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(new Error(m.text()));
  });
  return { context, page, errors };
}

async function loginUi(page, username, password) {
  await page.goto(`${server.base}/admin/`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('who').waitFor();
  assert.equal(await page.getByTestId('who').textContent(), username);
}

async function menuRoutes(page) {
  return page.locator('[data-testid=menu] a').evaluateAll((as) => as.map((a) => a.dataset.route));
}

/** A shopper with an address who orders `quantity` of `skuId` and (optionally) pays. */
async function shopperOrder(code, skuId, quantity, { pay }) {
  const login = await ok('POST', '/api/v1/auth/wechat-login', { body: { code } });
  const token = login.token;
  const address = await ok('POST', '/api/v1/addresses', {
    token,
    body: { receiver: '张三', phone: '13812345678', province: '黑龙江省', city: '哈尔滨市', district: '五常市', detail: '民乐乡 1 号' },
  });
  const key = `e2e-${code}-${Date.now()}`;
  const order = await ok('POST', '/api/v1/orders', {
    token,
    headers: { 'Idempotency-Key': key },
    body: { items: [{ sku_id: skuId, quantity }], address_id: address.id, remark: '请尽快发货' },
  });
  if (pay) {
    await ok('POST', `/api/v1/orders/${order.id}/pay`, { token });
    await ok('POST', '/sandbox/control/pay', { body: { out_trade_no: order.order_no } });
    await eventually('the order to be PAID', async () => {
      const o = await ok('GET', `/api/v1/orders/${order.id}?check_payment=true`, { token });
      return o.status === 'PAID';
    });
  }
  return { token, order };
}

async function requestRefund(token, orderId, reason) {
  const r = await call('POST', `/api/v1/orders/${orderId}/refund-requests`, {
    token,
    headers: { 'Idempotency-Key': `refund-${orderId}` },
    body: { reason },
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}

// --- setup -------------------------------------------------------------------------------

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launch(); // fails first, with install instructions, if chromium is missing
  server = await startServer();
  s.adminToken = await operatorToken('admin', server.adminPassword);
});

after(async () => {
  await admin?.context.close().catch(() => {});
  await browser?.close().catch(() => {});
  await server?.stop();
});

// --- the scenario --------------------------------------------------------------------------

test('the console is served at /admin/ and asks for a login', async () => {
  const r = await fetch(`${server.base}/admin/`);
  assert.equal(r.status, 200);
  assert.match(await r.text(), /运营后台/);
  const js = await fetch(`${server.base}/admin/js/main.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);

  admin = await newPage();
  const { page } = admin;
  await page.goto(`${server.base}/admin`);
  await page.getByTestId('login-username').waitFor();
  assert.match(page.url(), /\/admin\/$/);
  await page.getByTestId('login-username').fill('admin');
  await page.getByTestId('login-password').fill('wrong-password-123');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').getByText('用户名或密码错误').waitFor();
  await shot(page, '01-login');

  await page.getByTestId('login-password').fill(server.adminPassword);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('who').waitFor();
  assert.equal(await page.getByTestId('role').textContent(), '管理员');
  assert.deepEqual(await menuRoutes(page), ['dashboard', 'products', 'orders', 'refunds', 'reconciliation', 'audit', 'operators']);
});

test('create a product with pictures (drag and drop, order), SKUs priced in yuan', async () => {
  const { page } = admin;
  await page.goto(`${server.base}/admin/#/products`);
  await page.getByTestId('new-product').click();
  await page.getByTestId('product-title').fill(TITLE);
  await page.getByTestId('product-description').fill('黑龙江五常民乐乡稻花香2号，当季新米。\n真空包装，开袋即煮。');
  await page.getByTestId('sku-spec').first().fill('5kg 真空装');
  await page.getByTestId('sku-price').first().fill('59.9');
  await assert.doesNotReject(page.getByTestId('sku-price-hint').first().getByText('= 5990 分').waitFor());
  await page.getByTestId('sku-initial-stock').first().fill('100');
  await page.getByTestId('sku-add').click();
  await page.getByTestId('sku-spec').nth(1).fill('10kg 礼盒装');
  await page.getByTestId('sku-price').nth(1).fill('1.005');
  await page.getByTestId('sku-price-hint').nth(1).getByText('最多两位小数').waitFor();
  await page.getByTestId('sku-price').nth(1).fill('¥119.00');
  await page.getByTestId('sku-initial-stock').nth(1).fill('50');
  await page.getByTestId('product-on-sale').check();

  // A picture dropped on the drop zone, a second one chosen with the file picker.
  const dt = await page.evaluateHandle(({ b64, name }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const d = new DataTransfer();
    d.items.add(new File([bytes], name, { type: 'image/png' }));
    return d;
  }, { b64: RICE_PNG.toString('base64'), name: 'rice.png' });
  await page.getByTestId('image-dropzone').dispatchEvent('dragover', { dataTransfer: dt });
  await page.getByTestId('image-dropzone').dispatchEvent('drop', { dataTransfer: dt });
  await page.getByTestId('image-input').setInputFiles({ name: 'field.png', mimeType: 'image/png', buffer: FIELD_PNG });
  const tiles = page.getByTestId('image-tile');
  await assert.doesNotReject(tiles.nth(1).waitFor());
  assert.deepEqual(await tiles.evaluateAll((ts) => ts.map((t) => t.dataset.name)), ['rice.png', 'field.png']);
  // Previews are shown before upload; make the field picture the cover.
  assert.match(await tiles.first().locator('img').getAttribute('src'), /^blob:/);
  await tiles.nth(1).getByTestId('image-left').click();
  assert.deepEqual(await tiles.evaluateAll((ts) => ts.map((t) => t.dataset.name)), ['field.png', 'rice.png']);
  await shot(page, '03-product-new');

  await page.getByTestId('product-save').click();
  await page.waitForURL(/#\/products\/\d+$/);
  s.productId = Number(page.url().match(/products\/(\d+)$/)[1]);
  await page.getByTestId('product-heading').getByText(TITLE).waitFor();
  assert.equal(await page.getByTestId('product-status').textContent(), '在售');

  const p = await ok('GET', `/api/v1/admin/products/${s.productId}`, { token: s.adminToken });
  assert.equal(p.title, TITLE);
  assert.equal(p.status, 'ON_SALE');
  assert.deepEqual(p.skus.map((k) => [k.spec, k.price_fen, k.on_hand]), [['5kg 真空装', 5990, 100], ['10kg 礼盒装', 11900, 50]]);
  assert.equal(p.images.length, 2);
  assert.match(p.images[0].url, /field\.png$/);
  assert.match(p.images[1].url, /rice\.png$/);
  s.skuId = p.skus[0].id;
  s.sku2Id = p.skus[1].id;
});

test('the shopper API shows the new product with its cover picture', async () => {
  const shelf = await ok('GET', '/api/v1/products?per_page=50');
  const card = shelf.items.find((i) => i.id === s.productId);
  assert.ok(card, 'the product is on the shelf');
  assert.equal(card.title, TITLE);
  assert.equal(card.min_price_fen, 5990);
  assert.match(card.cover_url, /field\.png$/);
  const img = await fetch(card.cover_url);
  assert.equal(img.status, 200);
  assert.deepEqual(Buffer.from(await img.arrayBuffer()), FIELD_PNG);
  const detail = await ok('GET', `/api/v1/products/${s.productId}`);
  assert.deepEqual(detail.skus.map((k) => k.price_fen), [5990, 11900]);
});

test('edit: reorder saved pictures, change a price, adjust stock with a reason', async () => {
  const { page } = admin;
  const tiles = page.getByTestId('image-tile');
  assert.deepEqual(await tiles.evaluateAll((ts) => ts.map((t) => t.dataset.name)), ['field.png', 'rice.png']);
  await tiles.nth(1).getByTestId('image-left').click();
  await page.getByTestId('sku-price').nth(1).fill('109.5');
  await page.getByTestId('product-save').click();
  await eventually('the pictures to be reordered', async () => {
    const p = await ok('GET', `/api/v1/admin/products/${s.productId}`, { token: s.adminToken });
    return p.images.length === 2 && /rice\.png$/.test(p.images[0].url) && /field\.png$/.test(p.images[1].url) && p.skus[1].price_fen === 10950;
  });
  await page.reload();
  await page.getByTestId('image-tile').nth(1).waitFor();
  assert.deepEqual(await tiles.evaluateAll((ts) => ts.map((t) => t.dataset.name)), ['rice.png', 'field.png']);
  assert.equal(await page.getByTestId('sku-price').nth(1).inputValue(), '109.50');

  await page.getByTestId('sku-stock-adjust').first().click();
  const dlg = page.getByTestId('stock-dialog');
  await dlg.locator('input[name=qty]').fill('20');
  await dlg.locator('textarea[name=reason]').fill('新到货入库');
  await dlg.getByTestId('dialog-confirm').click();
  await page.getByTestId('sku-stock').first().getByText('在库 120').waitFor();
  await shot(page, '04-product-edit');
  const p = await ok('GET', `/api/v1/admin/products/${s.productId}`, { token: s.adminToken });
  assert.equal(p.skus[0].on_hand, 120);
});

test('products list: search and status filter', async () => {
  const { page } = admin;
  await page.goto(`${server.base}/admin/#/products`);
  await page.getByTestId('product-search').fill('稻花香2号 测试');
  await page.getByTestId('product-search').press('Enter');
  await page.locator(`[data-product-id="${s.productId}"]`).waitFor();
  assert.equal(await page.locator('[data-testid=product-table] tbody tr').count(), 1);
  await page.getByTestId('product-status-filter').selectOption('OFF_SALE');
  await page.getByText('没有符合条件的商品').waitFor();
  await page.getByTestId('product-search').fill('');
  await page.getByTestId('product-status-filter').selectOption('');
  await page.locator(`[data-product-id="${s.productId}"]`).waitFor();
  await shot(page, '02-products');
});

test('a shopper orders and pays in the sandbox; the order is shipped in the console', async () => {
  const paid = await shopperOrder('e2e-shopper-paid', s.skuId, 2, { pay: true });
  const unpaid = await shopperOrder('e2e-shopper-unpaid', s.sku2Id, 1, { pay: false });
  Object.assign(s, { paid, unpaid });
  assert.equal(paid.order.payable_fen, 2 * 5990 + paid.order.shipping_fee_fen);

  const { page } = admin;
  await page.goto(`${server.base}/admin/#/orders`);
  await page.locator(`[data-order-no="${unpaid.order.order_no}"]`).waitFor();
  await page.getByTestId('order-no-filter').fill(paid.order.order_no);
  await page.getByTestId('order-search').click();
  await eventually('the filtered table', async () => (await page.locator('[data-testid=order-table] tbody tr').count()) === 1);
  await page.getByTestId('order-status-filter').selectOption('PAID');
  await page.getByTestId('order-search').click();
  const row = page.locator(`[data-order-no="${paid.order.order_no}"]`);
  await row.waitFor();
  await row.getByTestId('order-open').click();

  const drawer = page.getByTestId('order-drawer');
  await drawer.getByTestId('drawer-order-no').getByText(paid.order.order_no).waitFor();
  await drawer.getByText('民乐乡 1 号').waitFor();
  await drawer.getByText('支付成功').waitFor();
  assert.equal(await drawer.locator('[data-testid=order-lines] tbody tr').count(), 1);
  assert.match(await drawer.getByTestId('order-lines').textContent(), /5kg 真空装/);
  await shot(page, '06-order-drawer');

  await drawer.getByTestId('ship-carrier').fill('顺丰速运');
  await drawer.getByTestId('ship-tracking').fill('SF1234567890');
  await drawer.getByTestId('ship-submit').click();
  await drawer.getByTestId('order-status').getByText('已发货').waitFor();
  await drawer.getByTestId('order-shipment').getByText('顺丰速运 SF1234567890').waitFor();
  const o = await ok('GET', `/api/v1/orders/${paid.order.id}`, { token: paid.token });
  assert.equal(o.status, 'SHIPPED');
  assert.equal(o.tracking_no, 'SF1234567890');
  await drawer.getByTestId('drawer-close').click();
});

test('an unpaid order is cancelled in the console with a reason', async () => {
  const { page } = admin;
  const { unpaid } = s;
  await page.goto(`${server.base}/admin/#/orders`);
  const row = page.locator(`[data-order-no="${unpaid.order.order_no}"]`);
  await row.getByTestId('order-open').click();
  const drawer = page.getByTestId('order-drawer');
  await drawer.getByTestId('order-cancel').click();
  const dlg = page.getByTestId('cancel-dialog');
  await dlg.getByTestId('dialog-confirm').click();
  await dlg.getByText('请填写取消原因').waitFor(); // the reason is required
  await dlg.locator('textarea').fill('买家电话要求取消');
  await dlg.getByTestId('dialog-confirm').click();
  await drawer.getByTestId('order-status').getByText('已取消').waitFor();
  await drawer.getByText('运营取消').waitFor();
  await drawer.getByTestId('drawer-close').click();
  await page.locator(`[data-order-no="${unpaid.order.order_no}"] [data-testid=order-status]`).getByText('已取消').waitFor();
  await shot(page, '05-orders');
});

test('export CSV downloads the server file: BOM, header, the order numbers', async () => {
  const { page } = admin;
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('order-export').click()]);
  assert.match(dl.suggestedFilename(), /^orders-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const path = join(ARTIFACTS, dl.suggestedFilename());
  await dl.saveAs(path);
  const bytes = readFileSync(path);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte-order mark');
  const text = bytes.toString('utf8').slice(1);
  const [header, ...rows] = text.trim().split(/\r?\n/);
  assert.match(header, /^订单号,下单时间,状态,/);
  assert.match(header, /运单号/);
  assert.ok(rows.some((r) => r.startsWith(s.paid.order.order_no) && r.includes('SF1234567890')), 'the shipped order');
  assert.ok(rows.some((r) => r.startsWith(s.unpaid.order.order_no)), 'the cancelled order');
});

test('the shopper asks for a refund; it is approved in the console and settles', async () => {
  const { page } = admin;
  const { paid } = s;
  s.refund = await requestRefund(paid.token, paid.order.id, '米袋运输破损');
  await page.goto(`${server.base}/admin/#/refunds`);
  const row = page.locator(`[data-refund-id="${s.refund.id}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-order-no'), paid.order.order_no);
  assert.match(await row.textContent(), /米袋运输破损/);
  await shot(page, '07-refunds');
  await row.getByTestId('refund-approve').click();
  const dlg = page.getByTestId('approve-dialog');
  await dlg.getByText(paid.order.order_no).waitFor();
  await shot(page, '07b-refund-approve-dialog');
  await dlg.getByTestId('dialog-cancel').click(); // changing one's mind does nothing
  assert.equal((await ok('GET', `/api/v1/admin/refunds/${s.refund.id}`, { token: s.adminToken })).status, 'REQUESTED');
  await row.getByTestId('refund-approve').click();
  await dlg.getByTestId('dialog-confirm').click();
  await page.getByText('没有待审核的退款申请').waitFor();

  await page.locator('[data-testid=refund-tabs] [data-status=ALL]').click();
  await eventually('the refund to succeed in the console', async () => {
    await page.getByRole('button', { name: '刷新' }).click();
    const status = await page.locator(`[data-refund-id="${s.refund.id}"]`).getAttribute('data-status', { timeout: 2000 });
    return status === 'SUCCEEDED';
  });
  await page.locator(`[data-refund-id="${s.refund.id}"] [data-testid=refund-status]`).getByText('已退款').waitFor();
  assert.match(await page.locator(`[data-refund-id="${s.refund.id}"]`).textContent(), /admin/, 'who approved it');
  await shot(page, '07c-refunds-settled');
  const money = await ok('GET', `/api/v1/admin/orders/${paid.order.id}/money`, { token: s.adminToken });
  assert.equal(money.refunds[0].status, 'SUCCEEDED');
  assert.equal(money.order.refunded_fen, paid.order.payable_fen);

  // The order drawer shows the refund history.
  await page.locator(`[data-refund-id="${s.refund.id}"] [data-testid=refund-order]`).click();
  const drawer = page.getByTestId('order-drawer');
  await drawer.locator(`[data-testid=order-refund-table] [data-refund-id="${s.refund.id}"]`).getByText('已退款').waitFor();
  await drawer.getByTestId('drawer-close').click();
});

test('the dashboard shows today: orders, paid orders, GMV, success rate, 30-day chart', async () => {
  const { page } = admin;
  const payable = s.paid.order.payable_fen;
  const yuan = (fen) => `¥${Math.trunc(fen / 100).toLocaleString('en-US')}.${String(fen % 100).padStart(2, '0')}`;
  await page.goto(`${server.base}/admin/#/dashboard`);
  const stat = (id) => page.getByTestId(id).locator('.stat-value');
  await stat('stat-orders').waitFor();
  assert.equal(await stat('stat-orders').textContent(), '2');
  assert.equal(await stat('stat-paid').textContent(), '1');
  assert.equal(await stat('stat-gmv').textContent(), yuan(payable));
  assert.equal(await stat('stat-rate').textContent(), '50.0%');
  assert.equal(await stat('stat-refunds').textContent(), yuan(payable));
  assert.equal(await stat('stat-to-ship').textContent(), '0');
  assert.equal(await stat('stat-refunds-waiting').textContent(), '0');
  // The chart has one column per day of the last 30; the API agrees with the cards.
  assert.equal(await page.locator('[data-testid=chart] .bar-group').count(), 30);
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  const report = await ok('GET', `/api/v1/admin/reports/daily?from=${today}&to=${today}`, { token: s.adminToken });
  assert.deepEqual([report.total_orders, report.total_paid_orders, report.total_gmv_fen], [2, 1, payable]);
  await page.getByTestId('top-skus').getByText('5kg 真空装').waitFor();
  await shot(page, '08-dashboard');
});

test('audit log, reconciliation and operators pages', async () => {
  const { page } = admin;
  await page.goto(`${server.base}/admin/#/audit`);
  await page.getByTestId('audit-table').waitFor();
  const actions = await page.locator('[data-testid=audit-table] tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.action));
  for (const a of ['product.create', 'sku.price', 'sku.stock', 'order.ship', 'order.cancel', 'refund.approve']) {
    assert.ok(actions.includes(a), `audit has ${a}: ${actions}`);
  }
  assert.equal(await page.locator('[data-testid=audit-table] button, [data-testid=audit-table] input').count(), 0, 'read only');
  await page.getByTestId('audit-action').selectOption('sku.stock');
  await page.getByRole('button', { name: '查询' }).click();
  await eventually('the filtered audit', async () => {
    const list = await page.locator('[data-testid=audit-table] tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.action));
    return list.length > 0 && list.every((a) => a === 'sku.stock');
  });
  await page.getByTestId('audit-action').selectOption('');
  await page.getByRole('button', { name: '查询' }).click();
  await page.locator('[data-testid=audit-table] tbody tr[data-action="refund.approve"]').waitFor();
  await shot(page, '09-audit');

  // Today's WeChat bill (the sandbox's) reconciled by the operators' CLI, as the worker does
  // each morning for the day before; the console shows the result.
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  const recon = JSON.parse(server.cli('--json', 'reconcile', 'run', '--date', today));
  assert.deepEqual(recon.differences, []);
  await page.goto(`${server.base}/admin/#/reconciliation`);
  const reconRow = page.locator('[data-testid=recon-table] tbody tr', { hasText: today });
  await reconRow.getByText('一致').waitFor();
  await reconRow.getByRole('button', { name: today }).click();
  await page.getByTestId('recon-detail').getByText('当天账目一致').waitFor();
  await shot(page, '10-reconciliation');

  await page.goto(`${server.base}/admin/#/operators`);
  await page.getByTestId('operator-table').getByText('admin').first().waitFor();
});

test('an operator cannot decide refunds: no button, no menu, 403 at the API; finance can', async () => {
  // A created operator and finance account (the finance one through the console).
  await ok('POST', '/api/v1/admin/operators', { token: s.adminToken, body: { username: 'op-e2e', password: 'operator-pass-1', role: 'operator' } });
  const { page: adminPage } = admin;
  await adminPage.getByTestId('operator-new').click();
  const dlg = adminPage.getByTestId('operator-dialog');
  await dlg.locator('input[name=username]').fill('fin-e2e');
  await dlg.locator('input[name=password]').fill('finance-pass-1');
  await dlg.locator('select[name=role]').selectOption('finance');
  await dlg.getByTestId('dialog-confirm').click();
  await adminPage.getByTestId('operator-table').getByText('fin-e2e').waitFor();

  // A refund waiting for a decision.
  const third = await shopperOrder('e2e-shopper-third', s.skuId, 1, { pay: true });
  const pending = await requestRefund(third.token, third.order.id, '不想要了');

  const op = await newPage();
  try {
    await loginUi(op.page, 'op-e2e', 'operator-pass-1');
    assert.equal(await op.page.getByTestId('role').textContent(), '运营');
    assert.deepEqual(await menuRoutes(op.page), ['dashboard', 'products', 'orders', 'refunds']);
    // The dashboard has the work queue but no money figures.
    await op.page.getByTestId('stat-refunds-waiting').locator('.stat-value').getByText('1').waitFor();
    assert.equal(await op.page.getByTestId('stat-gmv').count(), 0);

    await op.page.goto(`${server.base}/admin/#/refunds`);
    const row = op.page.locator(`[data-refund-id="${pending.id}"]`);
    await row.waitFor();
    await op.page.getByTestId('refund-readonly').waitFor();
    assert.equal(await op.page.getByTestId('refund-approve').count(), 0);
    assert.equal(await op.page.getByTestId('refund-reject').count(), 0);
    await shot(op.page, '12-operator-refunds');
    // Not in the order drawer either, while shipping is offered.
    await row.getByTestId('refund-order').click();
    const drawer = op.page.getByTestId('order-drawer');
    await drawer.locator(`[data-refund-id="${pending.id}"]`).waitFor();
    assert.equal(await drawer.getByTestId('refund-approve').count(), 0);
    await drawer.getByTestId('ship-form').waitFor();
    await drawer.getByTestId('drawer-close').click();
    // Pages outside the role say so.
    await op.page.goto(`${server.base}/admin/#/audit`);
    await op.page.getByTestId('forbidden').waitFor();
    assert.deepEqual(op.errors.filter((e) => !/403|Forbidden/i.test(e.message)), []);

    const token = await operatorToken('op-e2e', 'operator-pass-1');
    for (const [method, path] of [
      ['POST', `/api/v1/admin/refunds/${pending.id}/approve`],
      ['GET', '/api/v1/admin/audit'],
      ['GET', '/api/v1/admin/reports/daily?from=2026-01-01&to=2026-01-02'],
    ]) {
      const r = await call(method, path, { token });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.json.code, 'FORBIDDEN');
      assert.ok(r.json.request_id);
    }
    assert.equal((await ok('GET', `/api/v1/admin/refunds/${pending.id}`, { token: s.adminToken })).status, 'REQUESTED');

    // Disabled by an admin, the operator's open console goes back to the login page.
    const opRow = adminPage.locator('[data-testid=operator-table] tbody tr', { hasText: 'op-e2e' });
    await opRow.getByRole('button', { name: '停用' }).click();
    await opRow.getByText('已停用').waitFor();
    await shot(adminPage, '11-operators');
    await op.page.goto(`${server.base}/admin/#/orders`);
    await op.page.getByTestId('login-error').getByText('登录已失效').waitFor();
    assert.equal((await call('GET', '/api/v1/admin/me', { token })).status, 401);
  } finally {
    await op.context.close();
  }

  // Finance decides refunds and sees reports, but edits no products.
  const fin = await newPage();
  try {
    await loginUi(fin.page, 'fin-e2e', 'finance-pass-1');
    assert.deepEqual(await menuRoutes(fin.page), ['dashboard', 'products', 'orders', 'refunds', 'reconciliation', 'audit']);
    await fin.page.getByTestId('stat-gmv').waitFor();
    await fin.page.goto(`${server.base}/admin/#/refunds`);
    const row = fin.page.locator(`[data-refund-id="${pending.id}"]`);
    await row.getByTestId('refund-reject').click();
    const rdlg = fin.page.getByTestId('reject-dialog');
    await rdlg.locator('textarea').fill('商品已签收且包装完好');
    await rdlg.getByTestId('dialog-confirm').click();
    await fin.page.getByText('没有待审核的退款申请').waitFor();
    const r = await ok('GET', `/api/v1/admin/refunds/${pending.id}`, { token: s.adminToken });
    assert.equal(r.status, 'REJECTED');
    assert.equal(r.decision_note, '商品已签收且包装完好');
    await fin.page.goto(`${server.base}/admin/#/products`);
    await fin.page.locator(`[data-product-id="${s.productId}"]`).waitFor();
    assert.equal(await fin.page.getByTestId('new-product').count(), 0);
  } finally {
    await fin.context.close();
  }
});

test('no uncaught errors in the admin session', () => {
  assert.deepEqual(admin.errors.map((e) => e.message), []);
});
