import { ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Legend, LinearScale, Tooltip, type ChartConfiguration } from 'chart.js';
import type { AnalyticsReport, Counted } from '../report.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController, ArcElement, Legend, Tooltip);

const REASONS: Record<string, string> = { 'user-request': '用户要求', 'repeated-fallback': '多次未理解', urgent: '紧急情况', 'clarify-none': '选项都不是', unknown: '其他' };
const PALETTE = ['#0b5cab', '#2e9d5b', '#e08a00', '#b33a3a', '#7a4fb5', '#1b9aaa', '#c2549d', '#6b7c2f', '#8c6d46', '#4d5d6e'];
const charts = new Map<string, { destroy(): void }>();

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;
const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const name = (c: { id: string; title?: string }) => c.title ?? c.id;

function cellRow(cells: Array<string | number>): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = String(c);
    if (typeof c === 'number' || /^[\d.]+%?$/.test(String(c))) td.className = 'num';
    tr.append(td);
  }
  return tr;
}

function fill(table: string, rows: Array<Array<string | number>>): void {
  const body = $<HTMLTableElement>(table).tBodies[0]!;
  body.replaceChildren(...(rows.length ? rows : [['暂无数据']]).map(cellRow));
}

function draw(id: string, config: ChartConfiguration): void {
  charts.get(id)?.destroy();
  charts.set(id, new Chart($<HTMLCanvasElement>(`#${id}`), { ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options } }));
}

function bars(id: string, labels: string[], datasets: Array<{ label: string; data: number[] }>, stacked = false, max?: number): void {
  draw(id, {
    type: 'bar',
    data: { labels, datasets: datasets.map((d, i) => ({ ...d, backgroundColor: PALETTE[i % PALETTE.length] })) },
    options: { scales: { x: { stacked }, y: { stacked, beginAtZero: true, ...(max ? { max } : {}) } } },
  });
}

/** Top items per day, stacked: the five most asked items over the range, the rest as 其他. */
function dailyChart(r: AnalyticsReport): void {
  const top = r.topItems.slice(0, 5);
  const days = r.daily.map((d) => d.day);
  const series = top.map((t) => ({ label: name(t), data: r.daily.map((d) => d.items.find((i) => i.id === t.id)?.count ?? 0) }));
  const flows = { label: '一件事（发起）', data: r.daily.map((d) => d.flows.reduce((n, f) => n + f.count, 0)) };
  bars('chart-daily', days, [...series, flows], true);
}

function render(r: AnalyticsReport): void {
  const kpi = (k: string, v: string) => ($<HTMLElement>(`[data-kpi="${k}"]`).textContent = v);
  kpi('conversations', String(r.conversations));
  kpi('containment', pct(r.containment.rate));
  kpi('clarify', pct(r.rates.clarifyRate));
  kpi('fallback', pct(r.rates.fallbackRate));
  kpi('csat', r.csat.average === null ? '–' : r.csat.average.toFixed(2));
  kpi('applications', String(r.applications.reduce((n, a) => n + a.count, 0)));

  dailyChart(r);
  const contained = new Map(r.containment.byItem.map((c) => [c.id, c.rate]));
  fill('#table-top', r.topItems.map((t) => [name(t), t.count, pct(contained.get(t.id) ?? null)]));
  fill('#table-flows', r.topFlows.map((f) => [name(f), f.count]));
  bars('chart-containment', r.containment.byItem.slice(0, 12).map(name), [{ label: '自助解决率 %', data: r.containment.byItem.slice(0, 12).map((c) => Math.round(c.rate * 1000) / 10) }], false, 100);

  const reasonName = (c: Counted) => REASONS[c.id] ?? c.id;
  draw('chart-handoffs', { type: 'doughnut', data: { labels: r.handoffReasons.map(reasonName), datasets: [{ data: r.handoffReasons.map((c) => c.count), backgroundColor: PALETTE }] } });
  fill('#table-handoffs', r.handoffReasons.map((c) => [reasonName(c), c.count]));

  bars('chart-csat', r.csat.byItem.map(name), [{ label: '平均分（1–5）', data: r.csat.byItem.map((c) => c.average) }], false, 5);
  fill('#table-csat', r.csat.byItem.map((c) => [name(c), c.count, c.average.toFixed(2), pct(c.satisfiedRate)]));

  const funnel = r.funnel.slice(0, 8);
  bars('chart-funnel', funnel.map((f) => f.title ?? f.flowId), [
    { label: '发起', data: funnel.map((f) => f.started) },
    { label: '提交', data: funnel.map((f) => f.submitted) },
    { label: '中途离开', data: funnel.map((f) => f.abandoned) },
  ]);
  fill('#table-funnel', r.funnel.map((f) => [f.title ?? f.flowId, f.started, f.submitted, f.abandoned, f.steps.map((s) => `${s.label ?? s.step}×${s.abandoned}`).join('，') || '–']));
  fill('#table-unanswered', r.unanswered.map((g) => [g.count, g.label, g.fallback, g.noneOfThese, g.examples.filter((e) => e !== g.label).join(' / ') || '–']));
}

async function load(): Promise<void> {
  const status = $<HTMLElement>('#status');
  const params = new URLSearchParams();
  const from = $<HTMLInputElement>('#from').value;
  const to = $<HTMLInputElement>('#to').value;
  if (from) params.set('from', from);
  if (to) params.set('to', to);
  const qs = params.toString() ? `?${params}` : '';
  $<HTMLAnchorElement>('#csv').href = `/api/v1/analytics/unanswered.csv${qs}`;
  status.textContent = '加载中…';
  status.className = '';
  try {
    const res = await fetch(`/api/v1/analytics/report${qs}`, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(res.status === 401 ? '登录已失效，请重新打开页面' : `加载失败（${res.status}）`);
    const report = (await res.json()) as AnalyticsReport;
    render(report);
    status.textContent = `${report.range.from?.slice(0, 10) ?? ''} 起，共 ${report.range.events} 条事件`;
    document.body.dataset.loaded = 'true';
  } catch (err) {
    status.textContent = (err as Error).message;
    status.className = 'error';
  }
}

$<HTMLFormElement>('#range').addEventListener('submit', (e) => {
  e.preventDefault();
  void load();
});
void load();
