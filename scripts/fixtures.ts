// Shared by eval, calibrate and the fixture-bar tests: reads the labelled fixtures, their split and style,
// and scores understandings the way ../shared/eval/score.mjs does.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KnowledgeBase } from '../src/knowledge/index.js';
import type { Understanding } from '../src/nlu/index.js';

/** One labelled message. */
export interface Fixture {
  id: string;
  text: string;
  expect: string;
  /** calib: calibration may read it; frozen: only measured. */
  split: 'calib' | 'frozen';
  style: string;
}

/** The split of a fixture without one: a stable 80/20 hash of its id. */
function splitOf(id: string): 'calib' | 'frozen' {
  return createHash('sha1').update(id).digest()[0]! < 52 ? 'frozen' : 'calib';
}

/** The style of a message without a label: long, english, pinyin, 繁體, closings, out-of-scope, short. */
export function inferStyle(text: string, expect: string): string {
  const latin = (text.match(/[a-zA-Z]/g) ?? []).length;
  const han = (text.match(/\p{Script=Han}/gu) ?? []).length;
  if (latin > han * 2 && /\b(the|my|how|what|can|is|do|i|water)\b/i.test(text)) return 'english';
  if (latin >= 6) return 'pinyin';
  if ([...text].length >= 80) return 'long';
  if (/[們麼戶請錶費為這換與後開來時點發問]/.test(text)) return '繁體';
  if (expect === 'smalltalk') return 'closings';
  if (expect === 'out-of-scope') return 'out-of-scope';
  return 'short';
}

/** Reads a fixtures file; split and style default when a line has none. */
export function readFixtures(path = 'test/fixtures/questions.jsonl'): Fixture[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const q = JSON.parse(l) as Partial<Fixture> & { id: string; text: string; expect: string };
      return { ...q, split: q.split === 'frozen' || q.split === 'calib' ? q.split : splitOf(q.id), style: q.style ?? inferStyle(q.text, q.expect) };
    });
}

/** Whether an understanding serves what the label asks for (as score.mjs counts it). */
export function isCorrect(kb: KnowledgeBase, expect: string, u: Understanding): boolean {
  const [kind, id] = [expect.split(':')[0], expect.slice(expect.indexOf(':') + 1)];
  if (kind === 'item') return (u.decision === 'answer' && u.itemId === id) || (u.decision === 'flow' && (kb.flows.get(u.flowId ?? '')?.items ?? []).includes(id));
  if (kind === 'flow') return u.decision === 'flow' && u.flowId === id;
  if (kind === 'handoff') return u.decision === 'handoff';
  if (kind === 'out-of-scope') return u.decision === 'fallback' || u.decision === 'handoff';
  if (kind === 'smalltalk') return u.decision === 'smalltalk';
  return false;
}

/** Figures for a set of scored messages. */
export interface Score {
  n: number;
  accuracy: number;
  confidentlyWrong: number;
  clarify: number;
  oneClick: number;
}

/** Scores understandings against labels. */
export function score(kb: KnowledgeBase, rows: { expect: string; u: Understanding }[]): Score {
  let right = 0, wrong = 0, clarify = 0, one = 0;
  for (const { expect, u } of rows) {
    const ok = isCorrect(kb, expect, u);
    if (ok) right++;
    else if (u.decision === 'answer' || u.decision === 'flow') wrong++;
    if (u.decision === 'clarify') clarify++;
    if (ok || (u.decision === 'clarify' && /^(item|flow):/.test(expect) && u.candidates.slice(0, 4).includes(expect as never))) one++;
  }
  const n = rows.length || 1;
  return { n: rows.length, accuracy: right / n, confidentlyWrong: wrong / n, clarify: clarify / n, oneClick: one / n };
}
