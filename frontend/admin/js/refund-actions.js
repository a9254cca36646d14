// Refund decisions (finance and admin only), shared by the refund queue and the order drawer.

import { api } from './api.js';
import { h } from './dom.js';
import { label, REFUND_STATUS } from './labels.js';
import { formatFen } from './money.js';
import { PERMS } from './roles.js';
import { badge, confirmDialog, dialog, toastError } from './ui.js';

export function refundStatusBadge(status) {
  const tone = { REQUESTED: 'orange', APPROVED: 'blue', PROCESSING: 'blue', SUCCEEDED: 'green', FAILED: 'red', REJECTED: 'grey', WITHDRAWN: 'grey' }[status] ?? 'grey';
  return badge(label(REFUND_STATUS, status), tone, 'refund-status');
}

/** The buttons for one refund, or null when this role may not decide refunds. */
export function refundActions(r, { can, orderNo, onDone }) {
  if (!can?.(PERMS.DecideRefunds)) return null;
  const what = `${orderNo ? `订单 ${orderNo} 的` : ''}退款 ${formatFen(r.amount_fen)}`;
  if (r.status === 'REQUESTED') {
    return [
      h('button', {
        type: 'button', class: 'btn btn-small btn-primary', 'data-testid': 'refund-approve',
        onclick: async () => {
          const ok = await confirmDialog({
            title: '通过退款',
            message: h('div', null,
              h('p', null, `确认通过${what}？`),
              h('p', null, `买家理由：${r.reason}`),
              h('p', { class: 'muted' }, '通过后将立即向微信支付发起退款，原路退回，无法撤销。')),
            confirmText: '确认通过退款', testid: 'approve-dialog',
          });
          if (!ok) return;
          try {
            await api.post(`refunds/${r.id}/approve`);
            await onDone?.('已通过，退款已提交微信支付');
          } catch (e) {
            toastError(e, '通过失败：');
          }
        },
      }, '通过'),
      h('button', {
        type: 'button', class: 'btn btn-small btn-danger-text', 'data-testid': 'refund-reject',
        onclick: async () => {
          const v = await dialog({
            title: '拒绝退款',
            message: `拒绝${what}。拒绝理由会展示给买家。`,
            fields: [{ name: 'reason', label: '拒绝理由', type: 'textarea', required: true, maxlength: 200 }],
            confirmText: '确认拒绝', danger: true, testid: 'reject-dialog',
            validate: (x) => ([...x.reason.trim()].length > 200 ? '理由最多 200 字' : null),
          });
          if (!v) return;
          try {
            await api.post(`refunds/${r.id}/reject`, { reason: v.reason.trim() });
            await onDone?.('已拒绝退款申请');
          } catch (e) {
            toastError(e, '拒绝失败：');
          }
        },
      }, '拒绝'),
    ];
  }
  if (r.status === 'FAILED') {
    return h('button', {
      type: 'button', class: 'btn btn-small', 'data-testid': 'refund-retry',
      onclick: async () => {
        const ok = await confirmDialog({ title: '重试退款', message: `用同一退款单号再次向微信支付提交${what}？`, confirmText: '重试' });
        if (!ok) return;
        try {
          await api.post(`refunds/${r.id}/retry`);
          await onDone?.('已重新提交退款');
        } catch (e) {
          toastError(e, '重试失败：');
        }
      },
    }, '重试');
  }
  return null;
}
