import type { Lang } from './types.js';

const zh = {
  open: '在线客服',
  title: '在线客服',
  subtitle: '24 小时智能客服',
  close: '收起对话',
  handoff: '转人工',
  handoffHint: '转接人工客服',
  largeText: '大字模式',
  langToggle: 'English',
  langToggleLabel: 'Switch to English',
  input: '请输入您的问题',
  inputHint: '按 Enter 发送，Shift+Enter 换行',
  send: '发送',
  typing: '客服正在输入…',
  quickReplies: '快捷回复',
  you: '我',
  bot: '智能客服',
  agent: '人工客服',
  system: '系统消息',
  sending: '发送中…',
  failed: '未发送，点击重试',
  online: '已连接',
  polling: '已连接',
  connecting: '正在连接…',
  offline: '连接已断开，正在重连…',
  restored: '已恢复连接',
  startFailed: '暂时无法连接客服，请稍后重试，或拨打服务热线',
  retry: '重试',
  gone: '上一次对话已过期，已为您开始新的对话。',
  langLater: '英文回复将在新对话中生效。',
  newChat: '开始新对话',
  required: '必备',
  optional: '可容缺',
  commitment: '可告知承诺',
  provided: '已提供',
  reference: '办件编号',
  dueDate: '预计办结',
  status: '状态',
  textVersion: '查看文字版',
  handoffCard: '已转人工客服',
  ticket: '工单号',
  call: '拨打热线',
  log: '对话记录',
  tooLong: '消息过长，请分几次发送',
  colon: '：',
} as const;

type Strings = { [K in keyof typeof zh]: string };

const en: Strings = {
  open: 'Chat with us',
  title: 'Customer service',
  subtitle: '24-hour assistant',
  close: 'Minimise chat',
  handoff: 'Agent',
  handoffHint: 'Talk to a human agent',
  largeText: 'Large text',
  langToggle: '中文',
  langToggleLabel: '切换到中文',
  input: 'Type your question',
  inputHint: 'Enter to send, Shift+Enter for a new line',
  send: 'Send',
  typing: 'Typing…',
  quickReplies: 'Quick replies',
  you: 'You',
  bot: 'Assistant',
  agent: 'Agent',
  system: 'Notice',
  sending: 'Sending…',
  failed: 'Not sent. Tap to retry',
  online: 'Connected',
  polling: 'Connected',
  connecting: 'Connecting…',
  offline: 'Connection lost, reconnecting…',
  restored: 'Reconnected',
  startFailed: 'The assistant cannot be reached right now. Please try again later or call the hotline',
  retry: 'Retry',
  gone: 'The earlier conversation has expired; a new one has started.',
  langLater: 'English replies start with a new conversation.',
  newChat: 'New conversation',
  required: 'Required',
  optional: 'Can follow later',
  commitment: 'Pledge accepted',
  provided: 'Provided',
  reference: 'Reference',
  dueDate: 'Due',
  status: 'Status',
  textVersion: 'Show as text',
  handoffCard: 'Transferred to an agent',
  ticket: 'Ticket',
  call: 'Call',
  log: 'Conversation',
  tooLong: 'The message is too long; please split it',
  colon: ': ',
};

/** The interface strings of a language. */
export function strings(lang: Lang): Strings {
  return lang === 'en' ? en : zh;
}

export type { Strings };

/** The HTML `lang` of a reply language. */
export function htmlLang(lang: Lang | undefined): string {
  return lang === 'en' ? 'en' : 'zh-CN';
}

/** Status names as the API reports them, in the interface language. */
export function statusName(status: string, lang: Lang): string {
  const names: Record<string, [string, string]> = {
    submitted: ['已提交，待受理', 'Submitted'],
    accepted: ['已受理，办理中', 'Accepted, in progress'],
    completed: ['已办结', 'Completed'],
    cancelled: ['已撤销', 'Cancelled'],
  };
  const n = names[status];
  return n ? n[lang === 'en' ? 1 : 0] : status;
}
