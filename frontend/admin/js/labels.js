// Chinese names of the API's codes.

export const ORDER_STATUS = Object.freeze({
  PENDING_PAYMENT: '待付款',
  PAID: '待发货',
  SHIPPED: '已发货',
  COMPLETED: '已完成',
  CANCELLED: '已取消',
  REFUNDED: '已退款',
});

export const REFUND_STATUS = Object.freeze({
  REQUESTED: '待审核',
  APPROVED: '已通过',
  PROCESSING: '退款中',
  SUCCEEDED: '已退款',
  FAILED: '失败',
  REJECTED: '已拒绝',
  WITHDRAWN: '已撤回',
});

export const PAYMENT_STATUS = Object.freeze({
  PREPAY_ISSUED: '待支付',
  SUCCEEDED: '支付成功',
  CLOSED: '已关闭',
});

export const PRODUCT_STATUS = Object.freeze({ ON_SALE: '在售', OFF_SALE: '已下架' });

export const CANCEL_REASON = Object.freeze({ USER: '买家取消', OPERATOR: '运营取消', TIMEOUT: '超时未支付' });

export const AUDIT_ACTIONS = Object.freeze({
  'product.create': '新建商品',
  'product.update': '修改商品',
  'product.status': '上下架/删除商品',
  'sku.create': '新增规格',
  'sku.update': '修改规格',
  'sku.price': '修改价格',
  'sku.stock': '调整库存',
  'order.ship': '订单发货',
  'order.cancel': '取消订单',
  'refund.approve': '通过退款',
  'refund.reject': '拒绝退款',
  'refund.retry': '重试退款',
  'operator.create': '新建操作员',
  'operator.role': '修改角色',
  'operator.disable': '停用/启用操作员',
  'operator.password': '重置密码',
});

export const RECON_KINDS = Object.freeze({
  MISSING_LOCALLY: '微信有、本地无的支付',
  MISSING_AT_WECHAT: '本地有、微信无的支付',
  AMOUNT_MISMATCH: '支付金额不一致',
  REFUND_MISSING_LOCALLY: '微信有、本地无的退款',
  REFUND_MISSING_AT_WECHAT: '本地有、微信无的退款',
  REFUND_AMOUNT_MISMATCH: '退款金额不一致',
});

export const ERROR_CODES = Object.freeze({
  VALIDATION_FAILED: '输入不符合要求',
  BAD_REQUEST: '请求有误',
  PAYLOAD_TOO_LARGE: '文件或内容过大',
  UNAUTHENTICATED: '登录已失效，请重新登录',
  FORBIDDEN: '当前角色无权执行此操作',
  NOT_FOUND: '记录不存在',
  OUT_OF_STOCK: '库存不足',
  NOT_ON_SALE: '商品未上架',
  ILLEGAL_STATE: '当前状态不允许此操作',
  CONFLICT: '数据已被他人修改，请刷新后重试',
  LIMIT_REACHED: '已达上限',
  RATE_LIMITED: '操作过于频繁，请稍后再试',
  REFUND_EXCEEDS_PAID: '退款金额超过实付金额',
  PAYMENT_PROVIDER_ERROR: '微信支付暂时无法处理，请稍后重试',
  UNAVAILABLE: '服务暂不可用，请稍后重试',
  INVALID_CREDENTIALS: '用户名或密码错误',
  INTERNAL: '服务器内部错误',
});

export function label(table, code) {
  return table[code] ?? code ?? '—';
}

/** "operator:3" → "操作员 #3", "user:12" → "买家 #12", "system" → "系统". */
export function actorLabel(actor, operators = new Map()) {
  if (!actor) return '—';
  if (actor === 'system') return '系统';
  const [kind, id] = actor.split(':');
  if (kind === 'system') return `系统（${id}）`;
  if (kind === 'operator') return operators.get(Number(id)) ?? `操作员 #${id}`;
  if (kind === 'user') return `买家 #${id}`;
  return actor;
}
