const api = require('../../utils/api.js');
const { payOrder } = require('../../utils/pay.js');
const { formatFen, parseYuan } = require('../../utils/money.js');
const { countdown } = require('../../utils/time.js');
const { friendly, toast } = require('../../utils/errors.js');
const { ORDER, REFUND } = require('../../utils/status.js');

const REFUNDABLE = ['PAID', 'SHIPPED', 'COMPLETED'];

/** The countdown timer of each page instance (kept off the instance, which is typed). */
const timers = new WeakMap();
function stopTimer(page) {
  if (timers.has(page)) clearInterval(timers.get(page));
  timers.delete(page);
}

Component({
  data: {
    id: 0, order: null, statusText: '', payable: '', refunded: '', countdown: '', refunds: [],
    canRefund: false, refundable: '', showRefundForm: false, refundReason: '', refundAmount: '',
    refundKey: '', error: '', payPauseMs: 500,
  },
  lifetimes: {
    detached() {
      stopTimer(this);
    },
  },
  methods: {
    onLoad(query) {
      this.setData({ id: Number(query.id) });
      return this.load();
    },
    onUnload() {
      stopTimer(this);
    },
    async load() {
      try {
        const o = await api.get(`/api/v1/orders/${this.data.id}`);
        const refunds = await api.get(`/api/v1/orders/${this.data.id}/refunds`);
        this.show(o, refunds);
      } catch (e) {
        this.setData({ error: friendly(e) });
      }
    },
    show(o, refunds) {
      const left = o.paid_fen - o.refunded_fen - o.refund_pending_fen;
      this.setData({
        order: Object.assign({}, o, { lines: o.lines.map((l) => Object.assign({}, l, { total: formatFen(l.line_total_fen) })) }),
        statusText: ORDER[o.status] || o.status,
        payable: formatFen(o.payable_fen),
        refunded: o.refunded_fen ? formatFen(o.refunded_fen) : '',
        refunds: refunds.map((r) => ({ id: r.id, amount: formatFen(r.amount_fen), reason: r.reason,
          stateText: REFUND[r.status] || r.status, note: r.decision_note || '' })),
        canRefund: REFUNDABLE.includes(o.status) && left > 0,
        refundable: formatFen(left).replace('¥', ''),
      });
      this.tick();
      stopTimer(this);
      if (o.status === 'PENDING_PAYMENT') timers.set(this, setInterval(() => this.tick(), 1000));
    },
    tick() {
      const o = this.data.order;
      if (!o || o.status !== 'PENDING_PAYMENT') return;
      const c = countdown(o.expires_at, Date.now());
      this.setData({ countdown: c.text });
      if (c.left === 0) stopTimer(this);
    },
    async pay() {
      try {
        const r = await payOrder(this.data.id, { pauseMs: this.data.payPauseMs });
        if (!r.paid) wx.showToast({ title: '支付未完成', icon: 'none' });
      } catch (e) {
        toast(e);
      }
      return this.load();
    },
    async cancel() {
      try {
        await api.post(`/api/v1/orders/${this.data.id}/cancel`);
      } catch (e) {
        toast(e);
      }
      return this.load();
    },
    async confirmReceipt() {
      try {
        await api.post(`/api/v1/orders/${this.data.id}/confirm-receipt`);
      } catch (e) {
        toast(e);
      }
      return this.load();
    },
    openRefundForm() {
      // One refund request per opening of the form: its key survives retries of the submit.
      this.setData({ showRefundForm: true, refundKey: api.newKey(), refundAmount: this.data.refundable });
    },
    reasonInput(e) {
      this.setData({ refundReason: e.detail.value });
    },
    amountInput(e) {
      this.setData({ refundAmount: e.detail.value });
    },
    async requestRefund() {
      const reason = this.data.refundReason.trim();
      if (!reason) {
        wx.showToast({ title: '请填写退款原因', icon: 'none' });
        return null;
      }
      const amount = parseYuan(this.data.refundAmount);
      if (amount === null) {
        wx.showToast({ title: '请输入正确的金额，最多两位小数', icon: 'none' });
        return null;
      }
      try {
        const r = await api.post(`/api/v1/orders/${this.data.id}/refund-requests`,
          { reason, amount_fen: amount }, { 'Idempotency-Key': this.data.refundKey });
        this.setData({ showRefundForm: false, refundReason: '' });
        await this.load();
        return r;
      } catch (e) {
        toast(e);
        return null;
      }
    },
  },
});
