import { api, ApiError } from './api.js';
import { button, duration, el, fill } from './dom.js';
import type { Me, QueueItem } from './types.js';

const PRIORITY: Record<QueueItem['priority'], string> = { urgent: '紧急', complaint: '投诉', asked: '咨询' };

/** The live queue: urgent first, then oldest; a new urgent arrival flashes and beeps. */
export class QueueView {
  readonly root = el('section', { class: 'panel', attrs: { id: 'queue' } });
  private known = new Set<string>();
  private first = true;
  alerts = 0;
  private audio?: AudioContext;

  constructor(
    private readonly me: Me,
    private readonly claim: (id: string) => void,
  ) {}

  /** Called from a click (login), so the browser lets the console play its alert later. */
  unlockSound(): void {
    try {
      this.audio = new AudioContext();
    } catch {
      // no audio: the highlight still shows
    }
  }

  render(items: QueueItem[]): void {
    const fresh = items.filter((i) => !this.known.has(i.id));
    this.known = new Set(items.map((i) => i.id));
    if (!this.first && fresh.some((i) => i.priority === 'urgent' && i.status === 'queued')) this.alert();
    this.first = false;
    const waiting = items.filter((i) => i.status === 'queued');
    const mine = items.filter((i) => i.status === 'claimed' && i.agent === this.me.agent.login);
    fill(
      this.root,
      el('h2', {}, `排队 ${waiting.length}`),
      ...waiting.map((i) => this.item(i)),
      mine.length ? el('h2', {}, '我接入的会话') : null,
      ...mine.map((i) => this.item(i, true)),
    );
  }

  private item(i: QueueItem, mine = false): HTMLElement {
    return el(
      'article',
      { class: `queue-item ${i.priority}${mine ? ' mine' : ''}`, attrs: { 'data-id': i.id, 'data-priority': i.priority } },
      el('div', { class: 'meta' }, el('span', { class: `badge ${i.priority}` }, PRIORITY[i.priority]), el('span', {}, i.reasonLabel), el('span', {}, `等待 ${duration(i.waitingS)}`), i.position ? el('span', {}, `第 ${i.position} 位`) : null, el('span', {}, i.channel)),
      el('p', { class: 'summary' }, i.summary),
      button(mine ? '打开' : '接入', () => this.claim(i.id), 'primary', { 'data-action': 'claim' }),
    );
  }

  private alert(): void {
    this.alerts += 1;
    document.body.dataset.alerts = String(this.alerts);
    const ctx = this.audio;
    // Urgent arrivals are offered to online agents: a busy or away agent sees the highlight without the sound.
    if (!ctx || this.me.agent.state !== 'online') return;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  }
}

/** Agent assist: knowledge search (same understanding as the bot) and application lookup; for chats and phone calls. */
export class AssistView {
  readonly root = el('section', { class: 'panel', attrs: { id: 'assist' } });
  constructor(insert: (text: string) => void) {
    const q = el('input', { attrs: { id: 'kb-q', placeholder: '知识库检索，如：过户要带什么' } });
    const results = el('div', { attrs: { id: 'kb-results' } });
    const search = async () => {
      if (!q.value.trim()) return;
      try {
        const r = await api('GET', `kb/search?q=${encodeURIComponent(q.value.trim())}`);
        fill(results, ...(r.results.length ? r.results.map((x: any) => el('div', { class: 'result' }, el('b', {}, x.title), el('div', { class: 'text' }, x.text), button('插入回复', () => insert(x.text), '', { 'data-action': 'insert' }))) : [el('p', { class: 'muted' }, '没有找到相关指南')]));
      } catch (err) {
        fill(results, el('p', { class: 'error' }, err instanceof ApiError ? err.message : '检索失败'));
      }
    };
    q.addEventListener('keydown', (e) => e.key === 'Enter' && void search());
    const ref = el('input', { attrs: { id: 'app-ref', placeholder: '办件编号 WS20260101-0001' } });
    const app = el('div', { attrs: { id: 'app-result' } });
    const lookup = async () => {
      try {
        const r = await api('GET', `applications/${encodeURIComponent(ref.value.trim())}`);
        const a = r.application;
        fill(app, el('p', {}, el('b', {}, `${a.ref} ${a.title}`)), el('p', {}, `状态：${a.statusText}，预计 ${a.dueDate} 前办结；手机 ${a.mobile}`), el('table', {}, ...a.fields.map((f: any) => el('tr', {}, el('th', {}, f.label), el('td', {}, f.value)))));
      } catch (err) {
        fill(app, el('p', { class: 'error' }, err instanceof ApiError ? err.message : '查询失败'));
      }
    };
    fill(this.root, el('h2', {}, '坐席助手'), el('div', { class: 'row' }, q, button('检索', () => void search(), '', { id: 'kb-search' })), results, el('h2', {}, '办件查询'), el('div', { class: 'row' }, ref, button('查询', () => void lookup(), '', { id: 'app-lookup' })), app);
  }
}

/** Callback tickets: the list with called / resolved / not reachable, and a ticket from a phone call. */
export class CallbacksView {
  readonly root = el('section', { class: 'panel wide', attrs: { id: 'callbacks' } });
  constructor(private readonly me: Me) {}
  async load(): Promise<void> {
    const { callbacks } = await api('GET', 'callbacks');
    const status: Record<string, string> = { open: '待回电', called: '已回电', resolved: '已解决', unreachable: '未接通' };
    const mobile = el('input', { attrs: { id: 'cb-mobile', placeholder: '手机号' } });
    const slot = el('select', { attrs: { id: 'cb-slot' } }, ...this.me.slots.map((s) => el('option', { attrs: { value: s } }, s)));
    const note = el('input', { attrs: { id: 'cb-note', placeholder: '来电摘要' } });
    const error = el('p', { class: 'error' });
    const create = async () => {
      try {
        await api('POST', 'callbacks', { mobile: mobile.value, slot: slot.value, ...(note.value.trim() ? { note: note.value.trim() } : {}) });
        await this.load();
      } catch (err) {
        error.textContent = err instanceof ApiError ? err.message : '创建失败';
      }
    };
    const set = (id: string, s: string) => void api('POST', `callbacks/${encodeURIComponent(id)}/status`, { status: s }).then(() => this.load());
    fill(
      this.root,
      el('h2', {}, '回电工单'),
      el('div', { class: 'row' }, mobile, slot, note, button('登记电话回访', () => void create(), 'primary', { id: 'cb-create' })),
      error,
      el('table', {}, el('tr', {}, el('th', {}, '工单号'), el('th', {}, '手机'), el('th', {}, '时段'), el('th', {}, '状态'), el('th', {}, '备注'), el('th', {}, '')),
        ...callbacks.map((c: any) => el('tr', { attrs: { 'data-id': c.id } }, el('td', {}, c.id), el('td', {}, c.mobile), el('td', {}, c.slot), el('td', {}, status[c.status] ?? c.status), el('td', {}, c.note ?? ''),
          el('td', {}, button('已回电', () => set(c.id, 'called')), button('已解决', () => set(c.id, 'resolved')), button('未接通', () => set(c.id, 'unreachable')))))),
    );
  }
}

/** Today's figures. */
export class DashboardView {
  readonly root = el('section', { class: 'panel wide', attrs: { id: 'dashboard' } });
  async load(): Promise<void> {
    const d = await api('GET', 'dashboard');
    const fig = (label: string, value: string | number) => el('div', { class: 'figure' }, el('b', {}, String(value)), label);
    const list = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join('，') || '—';
    fill(
      this.root,
      el('h2', {}, `今日看板 ${d.day}`),
      el('div', { class: 'figures' }, fig('转人工', d.total), fig('排队中', d.waiting), fig('平均等待', d.waitAvgS === null ? '—' : duration(d.waitAvgS)), fig('P90 等待', d.waitP90S === null ? '—' : duration(d.waitP90S)), fig(`满意度（${d.ratings} 条评价）`, d.csatAvg ?? '—'), fig('回电积压', d.callbackBacklog), fig('在线坐席', d.agentsOnline)),
      el('p', {}, `按原因：${list(d.byReason)}`),
      el('p', {}, `按优先级：${list(d.byPriority)}`),
    );
  }
}
