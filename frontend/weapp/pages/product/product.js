const api = require('../../utils/api.js');
const { formatFen } = require('../../utils/money.js');
const { friendly, toast } = require('../../utils/errors.js');

const MAX_QUANTITY = 99;

Component({
  data: { product: null, skus: [], skuId: 0, quantity: 1, available: 0, priceText: '', canBuy: false, error: '' },
  methods: {
    async onLoad(query) {
      try {
        const p = await api.get(`/api/v1/products/${query.id}`);
        const skus = p.skus
          .filter((s) => s.enabled)
          .map((s) => ({ id: s.id, spec: s.spec, price_fen: s.price_fen, price: formatFen(s.price_fen), available: s.available }));
        this.setData({ product: p, skus });
        const first = skus.find((s) => s.available > 0) || skus[0];
        if (first) this.select(first.id);
      } catch (e) {
        this.setData({ error: friendly(e) });
      }
    },
    select(id) {
      const sku = this.data.skus.find((s) => s.id === id);
      if (!sku) return;
      const quantity = Math.max(1, Math.min(this.data.quantity, sku.available, MAX_QUANTITY));
      this.setData({ skuId: id, available: sku.available, priceText: sku.price, quantity, canBuy: sku.available > 0 });
    },
    choose(e) {
      this.select(Number(e.currentTarget.dataset.id));
    },
    less() {
      this.setData({ quantity: Math.max(1, this.data.quantity - 1) });
    },
    more() {
      const cap = Math.min(this.data.available, MAX_QUANTITY);
      this.setData({ quantity: Math.min(cap, this.data.quantity + 1) });
    },
    async addToCart() {
      try {
        await api.put(`/api/v1/cart/items/${this.data.skuId}`, { quantity: this.data.quantity });
        wx.showToast({ title: '已加入购物车', icon: 'success' });
        return true;
      } catch (e) {
        toast(e);
        return false;
      }
    },
    buyNow() {
      wx.navigateTo({ url: `/pages/checkout/checkout?product=${this.data.product.id}&sku=${this.data.skuId}&qty=${this.data.quantity}` });
    },
  },
});
