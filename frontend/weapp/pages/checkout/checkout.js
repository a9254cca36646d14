const api = require('../../utils/api.js');
const { payOrder } = require('../../utils/pay.js');
const { formatFen } = require('../../utils/money.js');
const { friendly } = require('../../utils/errors.js');

Component({
  data: {
    mode: 'buy', lines: [], cartSkus: [], address: null, remark: '', totalText: formatFen(0),
    key: '', order: null, submitting: false, error: '', payPauseMs: 500,
  },
  methods: {
    async onLoad(query) {
      try {
        if (query.cart) {
          const skus = query.cart.split(',').map(Number);
          const cart = await api.get('/api/v1/cart');
          const lines = cart.lines.filter((l) => skus.includes(l.sku_id)).map((l) => ({
            sku_id: l.sku_id, title: l.title, spec: l.spec, quantity: l.quantity,
            total_fen: l.line_total_fen, total: formatFen(l.line_total_fen),
          }));
          this.setData({ mode: 'cart', cartSkus: skus, lines });
        } else {
          const p = await api.get(`/api/v1/products/${query.product}`);
          const sku = p.skus.find((s) => s.id === Number(query.sku));
          const quantity = Number(query.qty) || 1;
          const total = sku.price_fen * quantity;
          this.setData({ lines: [{ sku_id: sku.id, title: p.title, spec: sku.spec, quantity, total_fen: total, total: formatFen(total) }] });
        }
        this.setData({ totalText: formatFen(this.data.lines.reduce((s, l) => s + l.total_fen, 0)) });
        await this.loadAddress();
      } catch (e) {
        this.setData({ error: friendly(e) });
      }
    },
    onShow() {
      if (wx.getStorageSync('checkoutAddress')) return this.loadAddress();
      return undefined;
    },
    async loadAddress() {
      const list = await api.get('/api/v1/addresses');
      const chosen = Number(wx.getStorageSync('checkoutAddress')) || 0;
      const address = list.find((a) => a.id === chosen) || list.find((a) => a.is_default) || list[0] || null;
      wx.removeStorageSync('checkoutAddress');
      // A different address is a different order: a new checkout attempt, a new key.
      if (this.data.address && address && address.id !== this.data.address.id) this.setData({ key: '' });
      this.setData({ address });
    },
    chooseAddress() {
      wx.navigateTo({ url: '/pages/addresses/addresses?pick=1' });
    },
    remarkInput(e) {
      this.setData({ remark: e.detail.value, key: '' });
    },
    /**
     * Places the order once per checkout attempt: the Idempotency-Key is made on the first
     * try and reused on every retry, so a timeout followed by a retry cannot order twice.
     */
    async submit() {
      if (this.data.submitting) return null;
      const key = this.data.key || api.newKey();
      this.setData({ key, submitting: true, error: '' });
      const body = this.data.mode === 'cart'
        ? { address_id: this.data.address.id, from_cart: true, cart_sku_ids: this.data.cartSkus, remark: this.data.remark }
        : { address_id: this.data.address.id, items: this.data.lines.map((l) => ({ sku_id: l.sku_id, quantity: l.quantity })), remark: this.data.remark };
      let order;
      try {
        order = await api.post('/api/v1/orders', body, { 'Idempotency-Key': key });
      } catch (e) {
        this.setData({ submitting: false, error: friendly(e) });
        return null;
      }
      this.setData({ order, totalText: formatFen(order.payable_fen) });
      let result;
      try {
        result = await payOrder(order.id, { pauseMs: this.data.payPauseMs });
      } catch (e) {
        result = { paid: false };
        wx.showToast({ title: friendly(e), icon: 'none' });
      }
      this.setData({ submitting: false });
      wx.redirectTo({ url: `/pages/order/order?id=${order.id}` });
      return result;
    },
  },
});
