import { api, ApiError } from './api.js';
import { button, el, fill } from './dom.js';
import type { DeadLetter, DeadLetterList } from './types.js';

const OUTBOX = '/api/v1/backoffice/outbox';
const KIND: Record<DeadLetter['kind'], string> = { application: '办件申请', callback: '回电工单', 'handoff-outcome': '转人工结果' };

/** The outbox entry's reference number when its payload names one, else its id. */
function reference(d: DeadLetter): string {
  const ref = d.payload.ref;
  return typeof ref === 'string' && ref ? ref : d.id;
}

/** Back-office dead letters (admins only): counts, one row per entry, replay, refresh; the API's 403 stays the guard. */
export class DeadLettersView {
  readonly root = el('section', { class: 'panel wide', attrs: { id: 'dead-letters' } });
  // Kept across renders, so a replay's outcome stays on screen after the list reloads.
  private readonly notice = el('p', { class: 'muted', attrs: { id: 'dl-notice', role: 'status' } });

  /** Fetches the list and renders it; a refused or failed call shows the API's message. */
  async load(): Promise<void> {
    try {
      this.render(await api<DeadLetterList>('GET', OUTBOX));
    } catch (err) {
      this.say(err instanceof ApiError ? err.message : '加载失败', true);
      fill(this.root, this.heading(), this.notice);
    }
  }

  private refresh(): void {
    this.say('', false);
    void this.load();
  }

  private heading(): HTMLElement {
    return el('div', { class: 'row' }, el('h2', {}, '投递失败'), button('刷新', () => this.refresh(), '', { id: 'dl-refresh' }));
  }

  private render(list: DeadLetterList): void {
    const counts = el('p', { attrs: { id: 'dl-counts' } }, `投递失败 ${list.counts.dead} 条，待投递 ${list.counts.pending} 条`);
    const body = list.entries.length ? this.table(list.entries) : el('p', { class: 'muted', attrs: { id: 'dl-empty' } }, '没有投递失败的记录');
    fill(this.root, this.heading(), counts, this.notice, body);
  }

  private table(entries: DeadLetter[]): HTMLElement {
    const head = el('tr', {}, ...['类型', '编号', '尝试次数', '最后错误', '失败时间', ''].map((h) => el('th', {}, h)));
    return el('table', { attrs: { id: 'dl-table' } }, head, ...entries.map((d) => this.row(d)));
  }

  private row(d: DeadLetter): HTMLElement {
    const died = new Date(d.dueAt).toLocaleString('zh-CN', { hour12: false });
    const tr = el('tr', { class: 'dead-letter', attrs: { 'data-id': d.id, 'data-kind': d.kind } });
    const replay = button('重新投递', () => void this.replay(d, tr, replay), 'primary', { 'data-action': 'replay' });
    fill(tr, el('td', { class: 'kind' }, KIND[d.kind] ?? d.kind), el('td', { class: 'ref' }, reference(d)), el('td', { class: 'attempts' }, d.attempts), el('td', { class: 'last-error' }, d.lastError ?? '—'), el('td', { class: 'died' }, died), el('td', {}, replay));
    return tr;
  }

  private async replay(d: DeadLetter, tr: HTMLElement, b: HTMLButtonElement): Promise<void> {
    b.disabled = true;
    try {
      await api('POST', `${OUTBOX}/${encodeURIComponent(d.id)}/replay`);
      tr.remove();
      this.say(`${reference(d)} 已重新排队`, false);
      await this.load();
    } catch (err) {
      b.disabled = false;
      this.say(err instanceof ApiError ? err.message : '重新投递失败', true);
    }
  }

  private say(text: string, error: boolean): void {
    this.notice.textContent = text;
    this.notice.className = error ? 'error' : 'muted';
  }
}
