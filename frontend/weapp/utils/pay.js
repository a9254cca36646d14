// Paying an order: the server's signed parameters → wx.requestPayment → the order is polled
// until the server says PAID. The client's "success" is only a hint; the server decides.

const api = require('./api.js');

function requestPayment(params) {
  return new Promise((resolve) => {
    wx.requestPayment(Object.assign({}, params, {
      success: () => resolve(true),
      fail: () => resolve(false),
    }));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {number} orderId
 * @param {{tries?: number, pauseMs?: number}} [opts]
 * @returns {Promise<{paid: boolean, order: object|null}>} paid only when the server says so
 */
async function payOrder(orderId, opts) {
  const o = Object.assign({ tries: 20, pauseMs: 500 }, opts || {});
  const params = await api.post(`/api/v1/orders/${orderId}/pay`);
  const ok = await requestPayment(params);
  if (!ok) return { paid: false, order: await api.get(`/api/v1/orders/${orderId}`) };
  let order = null;
  for (let i = 0; i < o.tries; i += 1) {
    order = await api.get(`/api/v1/orders/${orderId}?check_payment=true`);
    if (order.status === 'PAID') return { paid: true, order };
    await sleep(o.pauseMs);
  }
  return { paid: false, order };
}

module.exports = { payOrder };
