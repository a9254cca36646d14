// Mirrors shop_core::user::Role::allows — one table, so the API, the CLI and this console agree.
// The server checks every call anyway; this only decides what the console offers.

export const PERMS = Object.freeze({
  ManageCatalogue: 'ManageCatalogue',
  ViewOrders: 'ViewOrders',
  ManageOrders: 'ManageOrders',
  DecideRefunds: 'DecideRefunds',
  ViewReports: 'ViewReports',
  ManageOperators: 'ManageOperators',
  ViewAudit: 'ViewAudit',
});

const TABLE = {
  admin: Object.values(PERMS),
  operator: [PERMS.ManageCatalogue, PERMS.ViewOrders, PERMS.ManageOrders],
  finance: [PERMS.ViewOrders, PERMS.DecideRefunds, PERMS.ViewReports, PERMS.ViewAudit],
};

export function can(role, perm) {
  return (TABLE[role] ?? []).includes(perm);
}

export const ROLE_LABELS = Object.freeze({ admin: '管理员', operator: '运营', finance: '财务' });

/** The console's menu; `perm` is what the page needs to be shown at all. */
export const MENU = Object.freeze([
  { route: 'dashboard', label: '概览', icon: '◎', perm: PERMS.ViewOrders },
  { route: 'products', label: '商品', icon: '▦', perm: PERMS.ViewOrders },
  { route: 'orders', label: '订单', icon: '☰', perm: PERMS.ViewOrders },
  { route: 'refunds', label: '退款', icon: '↺', perm: PERMS.ViewOrders },
  { route: 'reconciliation', label: '对账', icon: '⚖', perm: PERMS.ViewReports },
  { route: 'audit', label: '审计日志', icon: '✎', perm: PERMS.ViewAudit },
  { route: 'operators', label: '操作员', icon: '☺', perm: PERMS.ManageOperators },
]);

export function menuFor(role) {
  return MENU.filter((m) => can(role, m.perm));
}
