import { liveValue, type Live } from './live.js';

/** The error catalogue: every error the API can return, with its code and HTTP status. */
export const ERRORS = {
  BAD_REQUEST: { status: 400, message: '请求格式不正确' },
  EMPTY_MESSAGE: { status: 400, message: '消息不能为空' },
  INVALID_TEXT: { status: 400, message: '消息包含无法识别的字符，请检查后重新发送' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: '不支持的内容类型，请以 application/json 发送' },
  HEADERS_TOO_LARGE: { status: 431, message: '请求头过大' },
  MESSAGE_TOO_LONG: { status: 413, message: '消息过长，请控制在 2000 字以内' },
  UNAUTHORIZED: { status: 401, message: '缺少或错误的会话令牌' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: '此网站未被允许接入' },
  BAD_SIGNATURE: { status: 401, message: '签名无效或已过期' },
  OUTBOX_ENTRY_NOT_FOUND: { status: 404, message: '未找到该死信条目' },
  CONVERSATION_NOT_FOUND: { status: 404, message: '会话不存在或已过期' },
  APPLICATION_NOT_FOUND: { status: 404, message: '未找到该办件，请核对办件编号和手机号' },
  CONVERSATION_BUSY: { status: 409, message: '会话正忙，请稍后重试' },
  RATE_LIMITED: { status: 429, message: '请求过于频繁，请稍后再试' },
  STORE_UNAVAILABLE: { status: 503, message: '系统繁忙，请稍后再试或拨打 {hotline}' },
  DELIVERY_FAILED: { status: 503, message: '回复未能送达消息平台，请稍后重试' },
  NOT_FOUND: { status: 404, message: '接口不存在' },
  AGENT_LOGIN_REQUIRED: { status: 401, message: '请先登录坐席控制台' },
  LOGIN_FAILED: { status: 401, message: '账号或密码错误' },
  ADMIN_REQUIRED: { status: 403, message: '此操作仅限管理员' },
  CSRF_INVALID: { status: 403, message: '缺少或错误的 CSRF 令牌，请刷新页面后重试' },
  HANDOFF_NOT_YOURS: { status: 403, message: '该会话未由您接入' },
  HANDOFF_NOT_FOUND: { status: 404, message: '转人工记录不存在' },
  AGENT_NOT_FOUND: { status: 404, message: '坐席不存在' },
  CALLBACK_NOT_FOUND: { status: 404, message: '回电工单不存在' },
  HANDOFF_TAKEN: { status: 409, message: '该会话已被其他坐席接入' },
  HANDOFF_CLOSED: { status: 409, message: '该会话已结束' },
  INVALID_MOBILE: { status: 400, message: '手机号应为 11 位数字，以 1 开头' },
  INTERNAL: { status: 500, message: '服务内部错误，请稍后再试或拨打 {hotline}' },
} as const;
export type ErrorCode = keyof typeof ERRORS;

/** An error with a catalogue code; the server turns it into `{error: {code, message}}`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].message, options);
    this.code = code;
    this.status = ERRORS[code].status;
    this.name = 'AppError';
  }
}

/** Fills a catalogue message's placeholders (`{hotline}`) from the utility's data; without a hotline, the phrase naming it goes. */
export function fillMessage(message: string, vars: { hotline?: Live<string> | undefined }): string {
  if (!message.includes('{hotline}')) return message;
  const hotline = vars.hotline === undefined ? undefined : liveValue(vars.hotline);
  return hotline ? message.replaceAll('{hotline}', hotline) : message.replace(/或拨打 \{hotline\}/g, '').replaceAll('{hotline}', '');
}
