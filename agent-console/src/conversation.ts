import { api, ApiError } from './api.js';
import { button, duration, el, fill } from './dom.js';
import type { Me, Message, Packet } from './types.js';

const WHO: Record<Message['from'], string> = { user: '用户', bot: '智能客服', agent: '坐席', system: '系统' };
const CHANNEL: Record<string, string> = { web: '网页', telegram: 'Telegram', wechat: '微信', cli: '终端' };

/** The conversation view: packet, transcript (resync by seq), reply box, canned replies, transfer, close, reveal. */
export class ConversationView {
  readonly root = el('section', { class: 'panel', attrs: { id: 'conversation' } });
  private packet?: Packet;
  private lastSeq = 0;
  private readonly seen = new Set<number>();
  private readonly transcript = el('div', { class: 'transcript', attrs: { id: 'transcript', 'aria-live': 'polite' } });
  readonly reply = el('textarea', { attrs: { id: 'reply', placeholder: '输入回复，Ctrl+Enter 发送' } });
  private readonly error = el('p', { class: 'error', attrs: { id: 'conv-error' } });

  constructor(
    private readonly me: Me,
    private readonly watch: (handoffId: string, after: number) => void,
    private readonly changed: () => void,
  ) {
    this.reply.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void this.send();
    });
    fill(this.root, el('h2', {}, '会话'), el('p', { class: 'muted' }, '从左侧队列接入一个会话，或在右侧使用知识库检索和办件查询（电话坐席同样适用）。'));
  }

  get handoffId(): string | undefined {
    return this.packet?.handoff.id;
  }

  /** Shows a claimed handoff and starts following its transcript. */
  open(packet: Packet): void {
    this.packet = packet;
    this.lastSeq = 0;
    this.seen.clear();
    this.transcript.replaceChildren();
    this.append(packet.messages);
    this.render();
    this.watch(packet.handoff.id, this.lastSeq);
  }

  /** After a reconnect: ask for everything after the last seq shown. */
  resync(): void {
    if (this.packet) this.watch(this.packet.handoff.id, this.lastSeq);
  }

  /** Appends messages in seq order, each once; text only. */
  append(messages: Message[]): void {
    for (const m of [...messages].sort((a, b) => a.seq - b.seq)) {
      if (this.seen.has(m.seq)) continue;
      this.seen.add(m.seq);
      this.lastSeq = Math.max(this.lastSeq, m.seq);
      const time = new Date(m.at).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit' });
      this.transcript.append(el('div', { class: `msg ${m.from}`, attrs: { 'data-seq': String(m.seq) } }, el('span', { class: 'who' }, `${m.author ?? WHO[m.from]} · ${time}`), m.text));
    }
    this.transcript.scrollTop = this.transcript.scrollHeight;
  }

  /** Puts a text into the reply box for editing (agent assist). */
  insert(text: string): void {
    this.reply.value = this.reply.value ? `${this.reply.value}\n${text}` : text;
    this.reply.focus();
  }

  private render(): void {
    const p = this.packet!;
    const h = p.handoff;
    const canned = el('select', { attrs: { id: 'canned', 'aria-label': '常用语' } }, el('option', { attrs: { value: '' } }, '常用语…'), ...this.me.canned.map((c, i) => el('option', { attrs: { value: String(i) } }, c)));
    canned.addEventListener('change', () => {
      if (canned.value) this.insert(this.me.canned[Number(canned.value)]!);
      canned.value = '';
    });
    const resolution = el('select', { attrs: { id: 'resolution', 'aria-label': '处理结果' } }, ...this.me.resolutions.map((r) => el('option', { attrs: { value: r.code } }, r.label)));
    const transferTo = el('select', { attrs: { id: 'transfer-to', 'aria-label': '转给' } });
    const note = el('input', { attrs: { id: 'transfer-note', placeholder: '转接备注' } });
    void api('GET', 'agents').then((r) => fill(transferTo, ...r.agents.filter((a: any) => a.login !== this.me.agent.login).map((a: any) => el('option', { attrs: { value: a.login } }, `${a.name}（${a.present ? '在线' : '离线'}）`))));
    const secrets = el('ul', { class: 'secrets' }, ...h.secrets.map((s) => {
      const value = el('span', {}, s.masked);
      return el('li', {}, `${s.label}：`, value, ' ', button('查看', () => void this.reveal(s.name, value), '', { 'data-field': s.name }));
    }));
    fill(
      this.root,
      el('h2', {}, `会话 · ${CHANNEL[h.channel] ?? h.channel} · ${h.conversationId}`),
      el('div', { class: 'row' }, el('span', { class: `badge ${h.priority}` }, h.priority === 'urgent' ? '紧急' : h.priority === 'complaint' ? '投诉' : '咨询'), el('span', {}, `原因：${p.reasonLabel}`), el('span', { class: 'muted' }, `等待 ${duration(p.waitingS)}`)),
      el('p', { class: 'summary', attrs: { id: 'summary' } }, h.summary),
      h.transfers.length ? el('p', { class: 'muted' }, `转接备注：${h.transfers.at(-1)!.note || '（无）'}`) : null,
      h.secrets.length ? el('div', {}, el('span', { class: 'muted' }, '个人信息（查看会记录审计）'), secrets) : null,
      this.transcript,
      el('div', { class: 'reply' }, this.reply, el('div', { class: 'row' }, button('发送', () => void this.send(), 'primary', { id: 'send' }), canned)),
      el('div', { class: 'row' }, transferTo, note, button('转接', () => void this.transfer(transferTo.value, note.value), '', { id: 'transfer' })),
      el('div', { class: 'row' }, resolution, button('结束会话', () => void this.close(resolution.value), 'danger', { id: 'close' })),
      this.error,
    );
  }

  private async guard(work: () => Promise<void>): Promise<void> {
    this.error.textContent = '';
    try {
      await work();
    } catch (err) {
      this.error.textContent = err instanceof ApiError ? `${err.message}（${err.code}）` : '网络错误，请重试';
    }
  }

  private send(): Promise<void> {
    const text = this.reply.value.trim();
    if (!text || !this.packet) return Promise.resolve();
    return this.guard(async () => {
      const r = await api('POST', `handoffs/${encodeURIComponent(this.packet!.handoff.id)}/messages`, { text });
      this.reply.value = '';
      this.append(r.messages);
    });
  }

  private reveal(field: string, target: HTMLElement): Promise<void> {
    return this.guard(async () => {
      const r = await api('POST', `handoffs/${encodeURIComponent(this.packet!.handoff.id)}/reveal`, { field });
      target.textContent = r.value;
    });
  }

  private transfer(to: string, note: string): Promise<void> {
    if (!to) return Promise.resolve();
    return this.guard(async () => {
      await api('POST', `handoffs/${encodeURIComponent(this.packet!.handoff.id)}/transfer`, { to, note });
      this.done('已转接。');
    });
  }

  private close(resolution: string): Promise<void> {
    return this.guard(async () => {
      await api('POST', `handoffs/${encodeURIComponent(this.packet!.handoff.id)}/close`, { resolution });
      this.done('会话已结束，已请用户评价。');
    });
  }

  private done(note: string): void {
    this.packet = undefined;
    fill(this.root, el('h2', {}, '会话'), el('p', { class: 'muted', attrs: { id: 'conv-done' } }, note));
    this.changed();
  }
}
