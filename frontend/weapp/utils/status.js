// Order and refund states as shoppers read them.
const ORDER = {
  PENDING_PAYMENT: '待付款', PAID: '待发货', SHIPPED: '已发货', COMPLETED: '已完成',
  CANCELLED: '已取消', REFUNDED: '已退款',
};
const REFUND = {
  REQUESTED: '审核中', APPROVED: '已同意，退款中', PROCESSING: '退款中', SUCCEEDED: '已退款',
  FAILED: '退款失败，客服处理中', REJECTED: '已拒绝', WITHDRAWN: '已撤回',
};
const TABS = [
  { key: '', name: '全部' }, { key: 'PENDING_PAYMENT', name: '待付款' }, { key: 'PAID', name: '待发货' },
  { key: 'SHIPPED', name: '已发货' }, { key: 'COMPLETED', name: '已完成' },
];
module.exports = { ORDER, REFUND, TABS };
