// Environment knobs and the printed lines shared by bench:api and bench:soak.
import { DEFAULT_MIX, type Mix } from './corpus.js';
import { non2xx, rate, type DriveResult } from './driver.js';

/** A positive number from the environment, or the fallback. */
export function positive(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** A traffic mix from "guide/flow/handoff" shares ("70/20/10"), or the default. */
export function mixFrom(raw: string | undefined): Mix {
  if (!raw) return DEFAULT_MIX;
  const [guide, flow, handoff] = raw.split('/').map(Number);
  if (![guide, flow, handoff].every((x) => Number.isFinite(x) && x! >= 0) || guide! + flow! + handoff! <= 0) throw new Error(`BENCH_MIX must be guide/flow/handoff shares like 70/20/10, not ${raw}`);
  return { guide: guide!, flow: flow!, handoff: handoff! };
}

/** The lines describing a conversation run. */
export function conversationLines(r: DriveResult): string[] {
  const m = r.latency.summary();
  const s = r.starts.summary();
  const kinds = Object.entries(r.kinds)
    .map(([k, v]) => `${k} ${v.conversations} conv / ${v.messages} msg`)
    .join(', ');
  return [
    `messages               ${rate(r).toFixed(0).padStart(7)} msg/s  p50 ${m.p50} ms  p90 ${m.p90} ms  p99 ${m.p99} ms  max ${m.max} ms  (${r.ok} ok in ${r.seconds.toFixed(1)} s)`,
    `conversation starts    ${(r.starts.count / r.seconds).toFixed(0).padStart(7)} /s     p50 ${s.p50} ms  p99 ${s.p99} ms  max ${s.max} ms`,
    `conversations          ${r.conversationsStarted} started, ${r.conversationsFinished} played to the end; ${kinds}`,
    `distinct texts sent    ${r.distinctCorpusTexts} of the corpus's questions; ${r.distinctTexts} in all with the answers to flows' questions`,
    `applications submitted ${r.applications} (reference numbers in replies)`,
    `problems               ${non2xx(r)} non-2xx, ${r.errors} errors, ${r.divergences} scripts the bot did not follow; status codes ${JSON.stringify(r.statusCodes)}`,
    ...r.samples.map((x) => `  ${x}`),
  ];
}

/** The line describing a fixed-request run (hello-world). */
export function requestLine(name: string, r: DriveResult): string {
  const l = r.latency.summary();
  return `${name.padEnd(22)} ${rate(r).toFixed(0).padStart(7)} req/s  p50 ${l.p50} ms  p99 ${l.p99} ms  max ${l.max} ms  (${r.ok} ok, ${non2xx(r)} non-2xx, ${r.errors} errors, ${r.seconds.toFixed(1)} s)`;
}

/** Whether a run had anything that must fail the benchmark: a non-2xx, a transport error, a script the bot did not follow. */
export function failed(r: DriveResult): boolean {
  return non2xx(r) > 0 || r.errors > 0 || r.divergences > 0;
}
