// Daily reconciliation: WeChat's trade bill against the shop's records, with each difference.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { label, RECON_KINDS } from '../labels.js';
import { formatFen } from '../money.js';
import { fmtTime } from '../time.js';
import { badge, empty, errorBox, loading, table } from '../ui.js';

export function reconSummaryTable(reports, { compact = false, onPick } = {}) {
  return table([
    { label: '日期', render: (r) => (onPick ? h('button', { type: 'button', class: 'link', onclick: () => onPick(r) }, r.date) : r.date) },
    { label: '结果', render: (r) => (r.clean ? badge('一致', 'green') : badge(`${r.differences.length} 处差异`, 'red')) },
    { label: '账单行数', cls: 'num', render: (r) => r.bill_count },
    { label: '本地支付笔数', cls: 'num', render: (r) => r.local_count },
    compact ? null : { label: '微信结算', cls: 'num', render: (r) => formatFen(r.bill_settled_fen) },
    compact ? null : { label: '本地实收', cls: 'num', render: (r) => formatFen(r.local_paid_fen) },
    compact ? null : { label: '微信退款', cls: 'num', render: (r) => formatFen(r.bill_refund_fen) },
    compact ? null : { label: '本地退款', cls: 'num', render: (r) => formatFen(r.local_refund_fen) },
    compact ? null : { label: '生成时间', render: (r) => fmtTime(r.generated_at) },
  ].filter(Boolean), reports, { testid: 'recon-table' });
}

export function differencesTable(r) {
  if (!r.differences.length) return empty('当天账目一致，没有差异');
  return table([
    { label: '类型', render: (d) => label(RECON_KINDS, d.kind) },
    { label: '商户订单号', render: (d) => h('span', { class: 'mono' }, d.out_trade_no ?? '—') },
    { label: '退款单号', render: (d) => h('span', { class: 'mono' }, d.out_refund_no ?? '—') },
    { label: '本地金额', cls: 'num', render: (d) => formatFen(d.local_fen) },
    { label: '微信金额', cls: 'num', render: (d) => formatFen(d.wechat_fen) },
    { label: '说明', render: (d) => d.detail },
  ], r.differences, { testid: 'recon-differences' });
}

export async function render(ctx) {
  const { root } = ctx;
  const list = h('section', { class: 'card' }, loading());
  const detail = h('section', { class: 'card', hidden: true, 'data-testid': 'recon-detail' });
  replace(root, h('div', { class: 'page-head' }, h('h1', null, '对账'),
    h('span', { class: 'muted' }, '每天早上由后台任务下载微信前一天的交易账单并与本地记录核对')), list, detail);

  function pick(r) {
    detail.hidden = false;
    replace(detail, h('h3', null, `${r.date} 的差异`), differencesTable(r));
    detail.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  try {
    const reports = await api.get('reconciliation');
    if (!ctx.isCurrent()) return;
    replace(list, reports.length ? reconSummaryTable(reports, { onPick: pick }) : empty('还没有对账结果'));
    const firstDirty = reports.find((r) => !r.clean);
    if (firstDirty) pick(firstDirty);
  } catch (e) {
    replace(list, errorBox(e));
  }
}
