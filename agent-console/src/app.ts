import { api, ApiError, setCsrf } from './api.js';
import { ConversationView } from './conversation.js';
import { DeadLettersView } from './dead-letters.js';
import { button, el, fill } from './dom.js';
import { AssistView, CallbacksView, DashboardView, QueueView } from './panels.js';
import { ConsoleSocket } from './socket.js';
import type { Me, Packet } from './types.js';

const root = () => document.getElementById('app')!;

/** Starts the console: the shell when the session is alive, the login form otherwise. */
export async function boot(): Promise<void> {
  try {
    const me = await api<Me>('GET', 'me');
    setCsrf(me.csrfToken);
    shell(me, false);
  } catch {
    await login();
  }
}

async function login(): Promise<void> {
  const { csrfToken } = await api('GET', 'csrf');
  setCsrf(csrfToken);
  const user = el('input', { attrs: { id: 'login', autocomplete: 'username', placeholder: '工号' } });
  const pass = el('input', { attrs: { id: 'password', type: 'password', autocomplete: 'current-password', placeholder: '密码' } });
  const error = el('p', { class: 'error', attrs: { id: 'login-error' } });
  const submit = async () => {
    try {
      const r = await api('POST', 'login', { login: user.value.trim(), password: pass.value });
      setCsrf(r.csrfToken);
      const me = await api<Me>('GET', 'me');
      setCsrf(me.csrfToken);
      shell(me, true);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : '网络错误';
    }
  };
  const form = el('form', { class: 'login', attrs: { id: 'login-form' } }, el('h1', {}, '人工客服坐席登录'), user, pass, el('button', { class: 'primary', attrs: { type: 'submit', id: 'login-submit' } }, '登录'), error);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submit();
  });
  fill(root(), form);
}

function shell(me: Me, fromClick: boolean): void {
  const status = el('span', { class: 'status down', attrs: { id: 'socket-status' } }, '连接中');
  const conversation = new ConversationView(me, (handoffId, after) => socket.send({ type: 'watch', handoffId, after }), () => void refreshQueue());
  const queue = new QueueView(me, (id) => void claim(id));
  if (fromClick) queue.unlockSound();
  const assist = new AssistView((t) => conversation.insert(t));
  const callbacks = new CallbacksView(me);
  const dashboard = new DashboardView();
  const deadLetters = new DeadLettersView();
  // Only admins get the tab; the outbox API's 403 stays the real guard.
  const admin = me.agent.role === 'admin';
  const main = el('div', { class: 'layout' });
  const views = { chat: [queue.root, conversation.root, assist.root], callbacks: [callbacks.root], dashboard: [dashboard.root], deadLetters: [deadLetters.root] } as const;
  const tabs: HTMLButtonElement[] = [];
  const show = (name: keyof typeof views) => {
    fill(main, ...views[name]);
    tabs.forEach((t) => t.classList.toggle('active', t.dataset.tab === name));
    if (name === 'callbacks') void callbacks.load();
    if (name === 'dashboard') void dashboard.load();
    if (name === 'deadLetters') void deadLetters.load();
  };
  const tab = (name: keyof typeof views, label: string) => {
    const b = button(label, () => show(name), '', { 'data-tab': name });
    tabs.push(b);
    return b;
  };
  const state = el('select', { attrs: { id: 'agent-state', 'aria-label': '状态' } }, ...(['online', 'busy', 'away'] as const).map((s) => el('option', { attrs: { value: s } }, { online: '在线', busy: '忙碌', away: '离开' }[s])));
  state.value = me.agent.state;
  state.addEventListener('change', () => {
    me.agent.state = state.value;
    void api('POST', 'state', { state: state.value });
  });
  const logout = async () => {
    await api('POST', 'logout').catch(() => undefined);
    socket.stop();
    await login();
  };
  fill(root(), el('header', { class: 'top' }, el('span', { class: 'title' }, `${me.utility} ${me.hotline} 坐席控制台`), tab('chat', '会话'), tab('callbacks', '回电工单'), tab('dashboard', '看板'), admin && tab('deadLetters', '投递失败'), el('a', { attrs: { href: '/agent/analytics', id: 'analytics-link' } }, '运营分析'), el('span', { attrs: { id: 'agent-name' } }, me.agent.name), state, status, button('退出', () => void logout(), '', { id: 'logout' })), main);
  show('chat');

  async function claim(id: string): Promise<void> {
    try {
      const packet = await api<Packet>('POST', `handoffs/${encodeURIComponent(id)}/claim`);
      conversation.open(packet);
    } catch (err) {
      alertText(err instanceof ApiError ? err.message : '接入失败');
    }
  }
  async function refreshQueue(): Promise<void> {
    const r = await api('GET', 'queue').catch(() => null);
    if (r) queue.render(r.items);
  }
  function alertText(text: string): void {
    const p = el('p', { class: 'error' }, text);
    queue.root.prepend(p);
    setTimeout(() => p.remove(), 4000);
  }
  const socket = new ConsoleSocket(
    (e) => {
      if (e.type === 'queue') queue.render(e.items);
      else if (e.type === 'messages' && e.handoffId === conversation.handoffId) conversation.append(e.messages);
      else if (e.type === 'changed' && main.contains(callbacks.root)) void callbacks.load();
    },
    () => conversation.resync(),
    (up) => {
      status.textContent = up ? '已连接' : '重连中';
      status.classList.toggle('down', !up);
    },
    () => void login(),
  );
  socket.connect();
  setInterval(() => socket.send({ type: 'ping' }), 20_000);
}
