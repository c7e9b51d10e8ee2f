import chineseDays from 'chinese-days';

const { findWorkday } = chineseDays;
import { chineseNumber } from '../nlu/index.js';

const WEEKDAYS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 0, 天: 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 0 };

/** Formats a date as YYYY-MM-DD in China time (UTC+8). */
export function isoDay(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function weekday(day: string): number {
  return new Date(`${day}T00:00:00Z`).getUTCDay();
}

const num = (s: string) => (/^\d+$/.test(s) ? Number(s) : chineseNumber(s));

function absolute(s: string, today: string): string | null {
  let m = s.match(/(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})/);
  let y = Number(today.slice(0, 4));
  let mo: number | null, d: number | null;
  if (m) [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else {
    m = s.match(/([\d一二三四五六七八九十]{1,3})\s*[月/]\s*([\d一二三四五六七八九十]{1,3})\s*[日号]?/);
    if (!m) return null;
    [mo, d] = [num(m[1]!), num(m[2]!)];
  }
  if (!mo || !d || mo > 12 || d > 31) return null;
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCMonth() !== mo - 1) return null;
  let day = date.toISOString().slice(0, 10);
  // "3月5日" with no year means the next such day.
  if (!s.match(/\d{4}/) && day < today) day = `${y + 1}${day.slice(4)}`;
  return day;
}

function relative(s: string, today: string): string | null {
  const words: Record<string, number> = { 今天: 0, 今日: 0, 明天: 1, 明日: 1, 后天: 2, 大后天: 3 };
  for (const [w, n] of Object.entries(words).sort((a, b) => b[0].length - a[0].length)) if (s.includes(w)) return addDays(today, n);
  let m = s.match(/([\d一二两三四五六七八九十]+)\s*天(以)?后/);
  if (m) return addDays(today, num(m[1]!) ?? 0);
  m = s.match(/(下下|下个?|这个?|本)?(周|星期|礼拜)([一二三四五六日天1-7])/);
  if (m) {
    const target = WEEKDAYS[m[3]!]!;
    const now = weekday(today);
    const toMonday = (now + 6) % 7;
    const offset = (target + 6) % 7;
    const weeks = m[1]?.startsWith('下下') ? 2 : m[1]?.startsWith('下') ? 1 : 0;
    let day = addDays(today, -toMonday + offset + 7 * weeks);
    if (!m[1] && day < today) day = addDays(day, 7);
    return day;
  }
  m = s.match(/下个?月\s*([\d一二三四五六七八九十]+)\s*[日号]/);
  if (m) {
    const d = num(m[1]!);
    const [y, mo] = [Number(today.slice(0, 4)), Number(today.slice(5, 7))];
    const date = new Date(Date.UTC(y, mo, d ?? 1));
    return date.getUTCDate() === d ? date.toISOString().slice(0, 10) : null;
  }
  return null;
}

/** Reads a date ("2026-12-08", "12月8日", "明天", "下周一", "3天后"); null unless it is today or within a year. */
export function parseDate(text: string, now: Date): string | null {
  const today = isoDay(now);
  const s = text.normalize('NFKC').replace(/\s+/g, '');
  const day = relative(s, today) ?? absolute(s, today);
  if (!day || day < today || day > addDays(today, 366)) return null;
  return day;
}

/** The due date of a time limit counted from `now`: 工作日 skip weekends and holidays (with 调休), 自然日 do not. */
export function dueDate(now: Date, value: number, unit: '工作日' | '自然日'): string {
  const today = isoDay(now);
  if (unit === '自然日') return addDays(today, value);
  return value === 0 ? findWorkday(0, today) : findWorkday(value, today);
}
