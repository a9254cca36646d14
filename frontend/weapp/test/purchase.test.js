// The whole story against the real shop-api (embedded mode) and its WeChat Pay sandbox:
// login → list → detail → add to cart → address → checkout → pay → PAID → refund request.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startApi, stopApi, page, text, tap, calls, storage, setShopper } = require('./support.js');

test.before(startApi);
test.after(stopApi);

const last = (list) => list[list.length - 1];
const query = (url) => Object.fromEntries(new URL(url, 'http://x').searchParams);

test('a shopper buys rice, pays in WeChat and asks for part of the money back', async () => {
  setShopper('weapp-story-shopper');

  // Home: the demo shelf, with pictures and prices; logging in happened on the way.
  const home = page('index');
  await home.instance.onLoad();
  assert.ok(storage.get('token'), 'logged in through wx.login');
  assert.ok(home.instance.data.items.length >= 5, 'demo products listed');
  assert.match(text(home), /五常/);
  assert.match(text(home), /¥\d+\.\d\d 起/);
  const first = home.instance.data.items.find((p) => p.in_stock);
  tap(home, 'open', { id: first.id });
  assert.equal(last(calls.navigate), `/pages/product/product?id=${first.id}`);

  // Detail: SKUs with price and stock; quantity bounded by the stock; two bags into the cart.
  const detail = page('product');
  await detail.instance.onLoad({ id: String(first.id) });
  const d = detail.instance.data;
  assert.ok(d.skus.length >= 1 && d.canBuy, 'a sellable SKU is chosen');
  tap(detail, 'more');
  assert.equal(detail.instance.data.quantity, 2);
  assert.equal(await detail.instance.addToCart(), true);
  assert.equal(last(calls.toasts), '已加入购物车');

  // Cart: the server's numbers.
  const cart = page('cart');
  await cart.instance.onShow();
  const line = cart.instance.data.lines[0];
  assert.equal(line.quantity, 2);
  assert.equal(cart.instance.data.totalText, `¥${(line.line_total_fen / 100).toFixed(2)}`);
  assert.match(text(cart), /结算\(1\)/);

  // Address: imported from WeChat's address book.
  const book = page('addresses');
  book.instance.onLoad({});
  await book.instance.onShow();
  assert.equal(book.instance.data.addresses.length, 0);
  assert.equal(await book.instance.importWechat(), true);
  assert.equal(book.instance.data.addresses[0].receiver, '李四');

  // Checkout from the cart, pay in the (sandbox) payment sheet, order shows PAID.
  tap(cart, 'checkout');
  const checkoutUrl = last(calls.navigate);
  assert.match(checkoutUrl, /^\/pages\/checkout\/checkout\?cart=\d+$/);
  const checkout = page('checkout');
  checkout.instance.setData({ payPauseMs: 100 });
  await checkout.instance.onLoad(query(checkoutUrl));
  assert.equal(checkout.instance.data.address.receiver, '李四');
  const paid = await checkout.instance.submit();
  assert.equal(paid.paid, true, 'the server says PAID');
  const orderId = checkout.instance.data.order.id;
  assert.equal(last(calls.navigate), `/pages/order/order?id=${orderId}`);
  assert.ok(calls.requests.some((r) => r === `GET /api/v1/orders/${orderId}?check_payment=true`), 'polled with check_payment');

  const detailPage = page('order');
  await detailPage.instance.onLoad({ id: String(orderId) });
  const o = detailPage.instance.data;
  assert.equal(o.order.status, 'PAID');
  assert.equal(o.statusText, '待发货');
  assert.equal(o.canRefund, true);
  assert.match(text(detailPage), /待发货/);

  // Refund: a reason and 10.50 yuan; progress shows it waiting for review.
  detailPage.instance.openRefundForm();
  detailPage.instance.reasonInput({ detail: { value: '有一袋破了' } });
  detailPage.instance.amountInput({ detail: { value: '10.5' } });
  const refund = await detailPage.instance.requestRefund();
  assert.equal(refund.amount_fen, 1050);
  assert.equal(refund.status, 'REQUESTED');
  assert.equal(detailPage.instance.data.refunds[0].stateText, '审核中');
  assert.match(text(detailPage), /¥10\.50/);

  // My orders: the paid order under "待发货".
  const orders = page('orders');
  tap(orders, 'switchTab', { key: 'PAID' });
  await orders.instance.load();
  assert.equal(orders.instance.data.orders[0].id, orderId);
});

test('a retried checkout keeps its Idempotency-Key: one order however many submits', async () => {
  setShopper('weapp-retry-shopper');
  const home = page('index');
  await home.instance.onLoad();
  const product = home.instance.data.items.find((p) => p.in_stock);
  const detail = page('product');
  await detail.instance.onLoad({ id: String(product.id) });
  const book = page('addresses');
  book.instance.onLoad({});
  await book.instance.importWechat();

  const checkout = page('checkout');
  await checkout.instance.onLoad({ product: String(product.id), sku: String(detail.instance.data.skuId), qty: '1' });
  // The first submit "times out" after the server placed the order: simulate by placing it
  // with the page's key, then letting the page submit again with the same key.
  const key = 'weapp-retry-key-0001';
  checkout.instance.setData({ key, payPauseMs: 50 });
  const sent = [];
  const orig = global.wx.request;
  global.wx.request = (o) => {
    if (o.method === 'POST' && o.url.endsWith('/api/v1/orders')) sent.push(o.header['Idempotency-Key']);
    return orig(o);
  };
  try {
    await checkout.instance.submit();
    const firstId = checkout.instance.data.order.id;
    checkout.instance.setData({ submitting: false });
    await checkout.instance.submit();
    assert.equal(checkout.instance.data.order.id, firstId, 'the retry got the same order');
    assert.deepEqual(sent, [key, key]);
  } finally {
    global.wx.request = orig;
  }
});

test('an expired session logs in again and the call is retried once', async () => {
  setShopper('weapp-relogin-shopper');
  storage.set('token', 'stale-token-that-the-server-does-not-know');
  const orders = page('orders');
  await orders.instance.load();
  assert.equal(orders.instance.data.error, '');
  assert.notEqual(storage.get('token'), 'stale-token-that-the-server-does-not-know');
});

test('errors from the API reach the shopper in Chinese, never as JSON', async () => {
  setShopper('weapp-errors-shopper');
  const detail = page('product');
  await detail.instance.onLoad({ id: '999999999' });
  assert.equal(detail.instance.data.error, '内容不存在或已下架');
  assert.doesNotMatch(text(detail), /[{}]|NOT_FOUND/);
  const edit = page('address-edit');
  edit.instance.setData({ form: { receiver: '王五', phone: '123', province: '黑龙江省', city: '哈尔滨市',
    district: '五常市', detail: '1 号', is_default: false } });
  assert.equal(await edit.instance.save(), null);
  assert.match(edit.instance.data.error, /^手机号：/);
});
