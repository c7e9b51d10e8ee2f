import type { Question, Utility } from '../knowledge/index.js';
import { chineseNumber, normalize } from '../nlu/index.js';
import type { Controls } from './controls.js';
import { parseDate } from './dates.js';
import { compact, compactName } from './compact.js';

/** A slot value as stored in answers. */
export type SlotValue = string | number | boolean;

/** The result of checking one answer. */
export type SlotResult = { ok: true; value: SlotValue; display?: string } | { ok: false; reason: string };

const fail = (reason: string): SlotResult => ({ ok: false, reason });

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** Checks an 18-digit 身份证号: format, birth date and the GB 11643 check digit. */
export function checkIdCard(raw: string): SlotResult {
  const s = raw.replace(/\s/g, '').toUpperCase();
  if (!/^\d{17}[\dX]$/.test(s)) return fail('身份证号应为 18 位，前 17 位是数字，最后一位是数字或 X');
  const y = Number(s.slice(6, 10)), m = Number(s.slice(10, 12)), d = Number(s.slice(12, 14));
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d || birth.getTime() > Date.now()) return fail('身份证号中的出生日期无效');
  const sum = ID_WEIGHTS.reduce((acc, w, i) => acc + w * Number(s[i]), 0);
  if (ID_CHECK[sum % 11] !== s[17]) return fail('身份证号校验位不正确，请核对后重新输入');
  return { ok: true, value: s };
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** Checks a 统一社会信用代码: 18 characters and the GB 32100 check character. */
export function checkUscc(raw: string): SlotResult {
  const s = raw.replace(/\s/g, '').toUpperCase();
  if (s.length !== 18 || [...s].some((c) => !USCC_CHARS.includes(c))) return fail('统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）');
  const sum = USCC_WEIGHTS.reduce((acc, w, i) => acc + w * USCC_CHARS.indexOf(s[i]!), 0);
  const check = (31 - (sum % 31)) % 31;
  if (USCC_CHARS[check] !== s[17]) return fail('统一社会信用代码校验位不正确，请核对营业执照后重新输入');
  return { ok: true, value: s };
}

/** Checks a mainland mobile number (11 digits starting 13–19, optional +86). */
export function checkMobile(raw: string): SlotResult {
  const s = raw.normalize('NFKC').replace(/[\s-]/g, '').replace(/^(\+?86)/, '');
  const m = s.match(/1[3-9]\d{9}/);
  if (!m || s.replace(m[0], '').match(/\d/)) return fail('手机号应为 11 位数字，以 1 开头');
  return { ok: true, value: m[0] };
}

/** Reads yes or no with the dialogue's control words: a yes/no word and nothing else of substance ("是的" → yes; "不用" → no). */
export function checkYesNo(raw: string, controls: Controls, echo?: string): SlotResult {
  const v = controls.yesNo(raw, echo);
  if (v === null) return fail('请回答“是”或“否”');
  return { ok: true, value: v, display: v ? '是' : '否' };
}

/** Picks an option by value, label, alias or its number in the list. */
export function checkChoice(raw: string, question: Question, exactOnly = false): SlotResult {
  const options = question.options ?? [];
  const s = compact(raw);
  const n = Number(s.replace(/^第|个$|项$/g, '')) || chineseNumber(s.replace(/^第|个$|项$/g, ''));
  if (!exactOnly && n && n >= 1 && n <= options.length) return { ok: true, value: options[n - 1]!.value, display: options[n - 1]!.label };
  const names = (o: (typeof options)[number]) => [o.value, o.label, ...o.aliases].map(compactName);
  const exact = options.find((o) => names(o).includes(s));
  if (exactOnly) return exact ? { ok: true, value: exact.value, display: exact.label } : fail('');
  const found = exact ?? options.find((o) => names(o).some((x) => x.length > 1 && (s.includes(x) || x.includes(s) && s.length >= 2)));
  if (!found) return fail(`请从以下选项中选择：${options.map((o) => o.label).join('、')}`);
  return { ok: true, value: found.value, display: found.label };
}

/** Checks a 户号 against the utility's format. */
export function checkAccount(raw: string, utility: Utility): SlotResult {
  const s = raw.normalize('NFKC').replace(/[\s-]/g, '');
  if (!new RegExp(utility.accountNumber.pattern).test(s)) return fail(utility.accountNumber.description);
  return { ok: true, value: s };
}

/** Finds a district by name or alias ("武昌" → 武昌区). */
export function checkDistrict(raw: string, utility: Utility): SlotResult {
  const s = compact(raw);
  const hit = utility.districts.find((d) => [d.name, ...d.aliases].some((n) => s === n || s.includes(n)));
  if (!hit) return fail(`请填写${utility.city}的行政区，例如：${utility.districts.slice(0, 4).map((d) => d.name).join('、')}`);
  return { ok: true, value: hit.name };
}

/** Reads a DN size ("DN40", "40mm", "四十") from the allowed sizes. */
export function checkDn(raw: string, utility: Utility): SlotResult {
  const s = normalize(raw);
  const digits = s.match(/\d+/)?.[0];
  const n = digits ? Number(digits) : chineseNumber(s.replace(/[^零一二两三四五六七八九十百]/g, ''));
  if (!n || !utility.dnSizes.includes(n)) return fail(`管径应为以下规格之一：${utility.dnSizes.map((d) => `DN${d}`).join('、')}`);
  return { ok: true, value: n, display: `DN${n}` };
}

/** Reads a count ("5个人", "五口人", "6"). */
export function checkCount(raw: string): SlotResult {
  const s = compact(raw);
  const m = s.match(/^(?:共|一共|有|家里有|常住)?(\d{1,3})(?:个人|个|人|口人|口|位)?$/);
  const n = m ? Number(m[1]) : null;
  if (n === null || n > 200) return fail('请填写人数，例如“5”或“5个人”');
  return { ok: true, value: n, display: `${n} 人` };
}

/** Words users put before the value ("身份证号 4201…", "电话是 139…"): the question's own names, then 是/为/：. */
function withoutLabel(text: string, question: Question): string {
  const names = [question.label, ...question.labelAliases, ...(LABELS[question.type] ?? [])].sort((a, b) => b.length - a.length);
  let s = text.replace(/^(我的|我家的|我家|本人的|本人)/, '');
  const hit = names.find((n) => s.startsWith(n));
  if (!hit) return text;
  s = s.slice(hit.length).replace(/^(号码|号)?\s*(是|为|叫)?\s*[:：=]?\s*/, '');
  return s || text;
}

/** Names of a kind of value users may type before it, whatever the question calls it. */
const LABELS: Record<string, string[]> = {
  mobile: ['手机号码', '手机号', '手机', '电话号码', '联系电话', '电话', '联系方式'],
  'id-card': ['身份证号码', '身份证号', '身份证'],
  uscc: ['统一社会信用代码', '社会信用代码', '信用代码'],
  'account-number': ['户号', '用户号', '水费户号', '客户编号'],
  name: ['姓名', '名字', '我叫', '叫'],
  address: ['地址', '详细地址', '住址'],
};

/** What checking an answer reads: the utility's formats, the control words, and the clock for relative dates. */
export interface SlotEnv {
  utility: Utility;
  controls: Controls;
  now: Date;
}

/** Checks one answer for a question. */
export function checkSlot(raw: string, question: Question, env: SlotEnv): SlotResult {
  const { utility, controls, now } = env;
  const text = question.type === 'yes-no' || question.type === 'choice' ? raw.trim() : withoutLabel(raw.trim(), question);
  if (!text) return fail('回答不能为空');
  switch (question.type) {
    case 'mobile':
      return checkMobile(text);
    case 'id-card':
      return checkIdCard(text);
    case 'uscc':
      return checkUscc(text);
    case 'account-number':
      return checkAccount(text, utility);
    case 'district':
      return checkDistrict(text, utility);
    case 'dn':
      return checkDn(text, utility);
    case 'yes-no': {
      const count = question.yesFromCount ? checkCount(text) : null;
      if (count?.ok) return { ok: true, value: Number(count.value) >= question.yesFromCount!, display: Number(count.value) >= question.yesFromCount! ? '是' : '否' };
      return checkYesNo(text, controls, [question.prompt, question.label, ...question.labelAliases].join(' '));
    }
    case 'count':
      return checkCount(text);
    case 'choice':
      return checkChoice(text, question);
    case 'date': {
      const d = parseDate(text, now);
      return d ? { ok: true, value: d } : fail('请输入日期，例如“2026-12-08”“12月8日”“明天”或“下周一”，且不早于今天');
    }
    case 'address':
      if ([...text].length < 6 || !/\p{Script=Han}/u.test(text)) return fail('请填写详细地址，例如“武昌区中北路 100 号 2 栋 301”');
      if (text.length > 120) return fail('地址太长了，请控制在 120 字以内');
      return { ok: true, value: text };
    case 'name':
      if (text.length < 2 || text.length > 60 || /^\d+$/.test(text)) return fail('请填写姓名或单位名称（2–60 个字）');
      return { ok: true, value: text };
    default:
      if (text.length > 300) return fail('内容太长了，请控制在 300 字以内');
      return { ok: true, value: text };
  }
}

/** Shows a value for display, masking personal numbers of sensitive steps. */
export function displayValue(question: Question, value: SlotValue): string {
  if (typeof value === 'boolean') return value ? '是' : '否';
  if (question.type === 'dn') return `DN${value}`;
  if (question.type === 'count') return `${value} 人`;
  if (question.type === 'choice') return question.options?.find((o) => o.value === value)?.label ?? String(value);
  const s = String(value);
  if (!question.sensitive) return s;
  if (question.type === 'mobile') return s.slice(0, 3) + '****' + s.slice(-4);
  if (question.type === 'id-card' || question.type === 'uscc') return s.slice(0, 4) + '*'.repeat(s.length - 8) + s.slice(-4);
  return s.slice(0, 2) + '*'.repeat(Math.max(0, s.length - 4)) + s.slice(-2);
}
