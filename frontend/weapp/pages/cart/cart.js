const api = require('../../utils/api.js');
const { formatFen } = require('../../utils/money.js');
const { friendly, toast } = require('../../utils/errors.js');

Component({
  data: { lines: [], totalText: formatFen(0), selectedCount: 0, loading: false, error: '' },
  methods: {
    onShow() {
      return this.load();
    },
    async load() {
      this.setData({ loading: true, error: '' });
      try {
        this.show(await api.get('/api/v1/cart'));
      } catch (e) {
        this.setData({ loading: false, error: friendly(e) });
      }
    },
    /** The server prices the cart; the page only shows its numbers. */
    show(cart) {
      const selected = new Set(this.data.lines.filter((l) => l.selected).map((l) => l.sku_id));
      const first = this.data.lines.length === 0;
      const lines = cart.lines.map((l) => Object.assign({}, l, {
        price: formatFen(l.price_fen),
        selected: l.sellable && (first || selected.has(l.sku_id)),
      }));
      const chosen = lines.filter((l) => l.selected);
      const total = chosen.reduce((sum, l) => sum + l.line_total_fen, 0);
      this.setData({ lines, loading: false, totalText: formatFen(total), selectedCount: chosen.length });
    },
    toggle(e) {
      const sku = Number(e.currentTarget.dataset.sku);
      const lines = this.data.lines.map((l) => (l.sku_id === sku ? Object.assign({}, l, { selected: !l.selected }) : l));
      const chosen = lines.filter((l) => l.selected);
      this.setData({ lines, selectedCount: chosen.length, totalText: formatFen(chosen.reduce((s, l) => s + l.line_total_fen, 0)) });
    },
    async change(e) {
      const sku = Number(e.currentTarget.dataset.sku);
      const line = this.data.lines.find((l) => l.sku_id === sku);
      const quantity = line.quantity + Number(e.currentTarget.dataset.delta);
      if (quantity < 1 || quantity > 99) return;
      try {
        this.show(await api.put(`/api/v1/cart/items/${sku}`, { quantity }));
      } catch (err) {
        toast(err);
      }
    },
    async remove(e) {
      try {
        this.show(await api.del(`/api/v1/cart/items/${Number(e.currentTarget.dataset.sku)}`));
      } catch (err) {
        toast(err);
      }
    },
    checkout() {
      const skus = this.data.lines.filter((l) => l.selected).map((l) => l.sku_id);
      wx.navigateTo({ url: `/pages/checkout/checkout?cart=${skus.join(',')}` });
    },
  },
});
