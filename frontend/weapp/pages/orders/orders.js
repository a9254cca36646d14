const api = require('../../utils/api.js');
const { formatFen } = require('../../utils/money.js');
const { shortTime } = require('../../utils/time.js');
const { friendly } = require('../../utils/errors.js');
const { ORDER, TABS } = require('../../utils/status.js');

Component({
  data: { tabs: TABS, status: '', orders: [], loading: false, error: '' },
  methods: {
    onShow() {
      return this.load();
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },
    switchTab(e) {
      this.setData({ status: e.currentTarget.dataset.key });
      return this.load();
    },
    async load() {
      this.setData({ loading: true, error: '' });
      try {
        const q = this.data.status ? `&status=${this.data.status}` : '';
        const r = await api.get(`/api/v1/orders?per_page=50${q}`);
        const orders = r.items.map((o) => ({
          id: o.id, order_no: o.order_no, statusText: ORDER[o.status] || o.status,
          summary: o.lines.map((l) => `${l.title} ${l.spec} ×${l.quantity}`).join('，'),
          created: shortTime(o.created_at), payable: formatFen(o.payable_fen),
        }));
        this.setData({ orders, loading: false });
      } catch (e) {
        this.setData({ loading: false, error: friendly(e) });
      }
    },
    open(e) {
      wx.navigateTo({ url: `/pages/order/order?id=${e.currentTarget.dataset.id}` });
    },
  },
});
