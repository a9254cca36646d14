// Every error code of the API (docs/openapi.json, ErrorCode) with what a shopper should read.
// Raw JSON is never shown; unknown codes fall back to a generic sentence.

const MESSAGES = {
  VALIDATION_FAILED: '填写的信息有误，请检查后重试',
  BAD_REQUEST: '请求有误，请稍后重试',
  PAYLOAD_TOO_LARGE: '内容太大了，请精简后重试',
  UNAUTHENTICATED: '登录已过期，请重新登录',
  FORBIDDEN: '没有权限进行此操作',
  NOT_FOUND: '内容不存在或已下架',
  OUT_OF_STOCK: '手慢了，商品库存不足',
  NOT_ON_SALE: '商品已下架',
  ILLEGAL_STATE: '订单状态已变化，请刷新后查看',
  IDEMPOTENCY_KEY_REQUIRED: '请求缺少防重标识，请重试',
  IDEMPOTENCY_KEY_REUSED: '重复提交的内容不一致，请重新下单',
  REQUEST_IN_PROGRESS: '正在处理中，请稍候',
  CONFLICT: '操作冲突，请刷新后重试',
  LIMIT_REACHED: '已达到数量上限',
  RATE_LIMITED: '操作太频繁，请稍后再试',
  REFUND_EXCEEDS_PAID: '退款金额超过可退金额',
  PAYMENT_PROVIDER_ERROR: '微信支付暂时不可用，请稍后再试',
  INVALID_NOTIFICATION: '支付通知无效',
  UNAVAILABLE: '服务繁忙，请稍后再试',
  INVALID_CREDENTIALS: '账号或密码错误',
  INTERNAL: '系统开小差了，请稍后再试',
  NETWORK: '网络不给力，请检查网络后重试',
};

const FALLBACK = '出了点问题，请稍后再试';

/** @param {{code?: string}|null|undefined} err */
function friendly(err) {
  const code = err && err.code;
  return (code && MESSAGES[code]) || FALLBACK;
}

/** Shows the friendly message as a toast. */
function toast(err) {
  wx.showToast({ title: friendly(err), icon: 'none' });
}

module.exports = { MESSAGES, FALLBACK, friendly, toast };
