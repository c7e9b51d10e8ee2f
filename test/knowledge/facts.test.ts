/**
 * Facts true to the source (the 2020 blue book): 告知承诺 / 容缺 markings, 接入通水 0 资料, the scope of DN≤100 三零,
 * 7x24 巡护, dated 2020 policies, figures the source does not give, and no "示例" shown to anyone.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ASPECTS, formatIssue, lintKnowledge, loadCatalog, loadKnowledge, shownFields, shownFlowFields, shownUtilityFields, unverifiedFigures, type KnowledgeBase } from '../../src/knowledge/index.js';
import { aspectText, guideReply, policyStatusText, timeLimitText } from '../../src/dialogue/render.js';

let kb: KnowledgeBase;
beforeAll(() => {
  kb = loadKnowledge();
});

const items = () => [...kb.items.values()];
const sentences = (text: string) => text.split(/[。；\n]/);

describe('告知承诺 and 容缺 (蓝皮书 二（三）: 13 项告知承诺马上办, 5 项容缺办理, naming 用水优惠、水价调整、混合用水协议)', () => {
  const NAMED = ['discount-sme', 'tariff-change', 'mixed-use-agreement'];

  it('marks the three items the source names, not as samples', () => {
    for (const id of NAMED) {
      const item = kb.items.get(id)!;
      expect(item.commitment, id).toBeDefined();
      expect(item.deferral, id).toBeDefined();
      expect(item.commitment!.sample, id).toBe(false);
      expect(item.deferral!.sample, id).toBe(false);
    }
  });

  it('marks no more items than the source counts, every other choice a sample with a note for the utility', () => {
    const committed = items().filter((i) => i.commitment);
    const deferred = items().filter((i) => i.deferral);
    expect(committed.length).toBeLessThanOrEqual(13);
    expect(deferred.length).toBeLessThanOrEqual(5);
    expect(kb.utility.reform).toEqual({ commitmentItems: 13, deferralItems: 5 });
    for (const i of [...committed, ...deferred].filter((x) => !NAMED.includes(x.id))) {
      expect(i.commitment?.sample ?? true, i.id).toBe(true);
      expect(i.deferral?.sample ?? true, i.id).toBe(true);
      expect(i.commitment?.note ?? i.deferral?.note, i.id).toBeTruthy();
    }
  });

  it('lists 可容缺 materials only in 容缺 items, and 告知承诺 only in 告知承诺 items', () => {
    for (const item of items())
      for (const m of item.materials) {
        if (m.requirement === '可容缺') expect(item.deferral, `${item.id}: ${m.name}`).toBeDefined();
        if (m.commitment) expect(item.commitment, `${item.id}: ${m.name}`).toBeDefined();
      }
  });

  it('gives every material a stable id, unique in its guide, and a note for every conditional one', () => {
    for (const item of items()) {
      const ids = item.materials.map((m) => m.id);
      expect(new Set(ids).size, item.id).toBe(ids.length);
      for (const m of item.materials) if (m.when || m.unless) expect(m.note, `${item.id}: ${m.id}`).toBeTruthy();
    }
  });

  it('asks for 委托书 only when someone acts for the applicant', () => {
    for (const item of items())
      for (const m of item.materials.filter((x) => /委托书/.test(x.name)))
        expect(m.when ?? m.unless ?? {}, `${item.id}: ${m.name}`).toHaveProperty('byAgent');
  });

  it('makes 结清凭证 必备 for 过户 (过户 waits for settlement)', () => {
    const m = kb.items.get('transfer-ownership')!.materials.find((x) => x.id === 'bill-settlement')!;
    expect(m.requirement).toBe('必备');
  });
});

describe('接入通水 (蓝皮书 三（一）: 申请资料由 1 项减为 0; DN100（含）以下新建项目 零跑腿、零资料、零费用)', () => {
  it('needs 0 申请资料, the 绿色通道 included (no 承诺书, no 认定文件)', () => {
    for (const id of ['connect-nonresidential', 'connect-green-channel', 'connect-small-lowrisk']) expect(kb.items.get(id)!.materials, id).toEqual([]);
    const green = shownFields(kb.items.get('connect-green-channel')!).map((f) => f.text).join('\n');
    expect(green).not.toMatch(/承诺书/);
    for (const s of sentences(green).filter((x) => x.includes('认定文件'))) expect(s).toContain('无需');
  });

  it('ties DN≤100 零跑腿零资料零费用 to 新建项目 wherever it is stated', () => {
    const loose: string[] = [];
    for (const item of items())
      for (const f of shownFields(item))
        for (const s of sentences(f.text)) if (/DN100/.test(s) && /零费用|零跑腿、零资料/.test(s) && !/新建项目/.test(s)) loose.push(`${item.id} ${f.field}: ${s}`);
    expect(loose).toEqual([]);
  });

  it('says a shop in a finished building is not promised 2 个自然日 or 零费用', () => {
    const text = shownFields(kb.items.get('connect-nonresidential')!).map((f) => f.text).join('\n');
    expect(text).toContain('已建成房屋内的门面');
    expect(text).toContain('以查勘后答复为准');
  });
});

describe('7x24 (蓝皮书 三（四）: 对自来水输配水管网供“7x24”小时巡护)', () => {
  it('is said only of 管网巡护, never of repairs', () => {
    const wrong: string[] = [];
    for (const item of items()) for (const f of shownFields(item)) for (const s of sentences(f.text)) if (/7\s*x\s*24/i.test(s) && !/巡护/.test(s)) wrong.push(`${item.id} ${f.field}: ${s}`);
    expect(wrong).toEqual([]);
    expect(guideReply(kb, kb.items.get('repair-report')!).card).not.toMatchObject({ facts: expect.arrayContaining([expect.objectContaining({ value: expect.stringMatching(/7x24/) })]) });
  });
});

describe('2020 policies (大事记: 1 月 23 日告用户书, 3 月 18 日、5 月 1 日实施细则)', () => {
  const POLICY_ITEMS = ['discount-sme', 'sewage-fee-exemption', 'late-fee-waiver'];

  it('carry validFrom in data, from the source', () => {
    expect(kb.items.get('late-fee-waiver')!.policies[0]!.validFrom).toBe('2020-01-23');
    expect(kb.items.get('sewage-fee-exemption')!.policies[0]!.validFrom).toBe('2020-03-18');
    expect(kb.items.get('discount-sme')!.policies.map((p) => p.validFrom)).toEqual(['2020-03-18', '2020-05-01']);
    for (const id of POLICY_ITEMS) for (const p of kb.items.get(id)!.policies) expect(p.source, id).toMatch(/蓝皮书/);
  });

  it('undated temporary policies are told in the past tense with the hotline, from the data', () => {
    const now = new Date('2026-12-01T02:00:00Z');
    for (const id of POLICY_ITEMS) {
      const item = kb.items.get(id)!;
      const status = policyStatusText(kb, item, now)!;
      expect(status, id).toContain('阶段性政策');
      expect(status, id).toContain(`现行政策请咨询 ${kb.utility.hotline}`);
      expect(status, id).not.toContain('正在执行');
      expect(item.answer, id).toMatch(/2020 年/);
      expect(item.answer, id).toContain('现行政策请咨询');
    }
    expect(policyStatusText(kb, kb.items.get('transfer-ownership')!, now)).toBeNull();
  });

  it('answers "还在执行吗" from validFrom / validUntil', () => {
    const item = kb.items.get('sewage-fee-exemption')!;
    const dated = (validUntil: string) => ({ ...item, policies: [{ ...item.policies[0]!, validUntil }] });
    const now = new Date('2026-12-01T02:00:00Z');
    expect(policyStatusText(kb, dated('2027-06-30'), now)).toMatch(/正在执行：自 2020 年 3 月 18 日起，执行至 2027 年 6 月 30 日/);
    expect(policyStatusText(kb, dated('2027-06-30'), now)).not.toContain('现行政策请咨询');
    const ended = policyStatusText(kb, dated('2020-12-31'), now)!;
    expect(ended).toContain('2020 年 3 月 18 日至 2020 年 12 月 31 日执行的阶段性政策，已经到期');
    expect(ended).toContain(`现行政策请咨询 ${kb.utility.hotline}`);
  });

  it('shows the policy status on the guide card', () => {
    const card = guideReply(kb, kb.items.get('late-fee-waiver')!, new Date('2026-12-01T02:00:00Z')).card as { facts: { label: string; value: string }[] };
    expect(card.facts.find((f) => f.label === '政策时效')?.value).toContain('阶段性政策');
  });
});

describe('figures the source does not give', () => {
  it('are stated as "参考：… 以受理时答复为准" and listed, named ones included', () => {
    const figures = unverifiedFigures(kb);
    const text = figures.map((f) => `${f.file}: ${f.field}: ${f.text}`).join('\n');
    for (const want of [
      /meter-calibration\.yaml: fees: .*60 元/, // 校表 60 元
      /leak-detection\.yaml: fees: .*100 元/, // 查漏 100 元
      /late-fee-waiver\.yaml: answer: 欠费金额的千分之一\/日/, // 违约金 rate
      /low-income-relief\.yaml: answer: .*5 立方米/, // 低保 减免量
      /utility\.yaml: hallHours: 工作日 8:30-17:30/, // hall hours
      /service-hall-hours\.yaml: .*双休.*不对外营业/, // weekend closure
      /secondary-supply\.yaml: answer: 故障 2 小时内到场/, // arrival time
      /complaint\.yaml: answer: 一般诉求 24 小时内联系您，5 个工作日内答复/, // complaint reply time
      /suspend-resume\.yaml: .*报停期限一般不超过 2 年/, // 报停 limit
      /utility\.yaml: commitment\.days: /, // 告知承诺 30 天
      /transfer-ownership\.yaml: timeLimit: 1 个工作日/,
    ])
      expect(text).toMatch(want);
    // Items' own applications (flows/items) have no list: their figures are read from the 参考 wording itself.
    for (const f of figures.filter((x) => x.field !== 'timeLimit' && x.field !== 'commitment.days' && !x.file.includes(join('flows', 'items')))) {
      const item = [...kb.items.values()].find((i) => f.file.endsWith(`items/${i.id}.yaml`));
      const flow = [...kb.flows.values()].find((x) => f.file.endsWith(`flows/${x.id}.yaml`));
      const fields = item ? shownFields(item) : flow ? shownFlowFields(flow) : shownUtilityFields(kb.utility);
      expect(fields.find((x) => x.field === f.field)?.text, `${f.file} ${f.field}`).toContain(`参考：${f.text}，以受理时答复为准`);
    }
  });

  it('keeps the source figures plain: 接入通水 2 个自然日 and 五零 are not 参考', () => {
    expect(timeLimitText(kb.items.get('connect-nonresidential')!)).toMatch(/^2 个自然日/);
    expect(timeLimitText(kb.items.get('connect-small-lowrisk')!)).toMatch(/^即时办结/);
    expect(timeLimitText(kb.items.get('transfer-ownership')!)).toMatch(/^参考：1 个工作日.*，以受理时答复为准$/);
  });

  it('`kb lint --unverified` prints every figure as file: field: text', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'kb', 'lint', '--unverified'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    const figures = unverifiedFigures(kb);
    expect(lines.at(-1)).toBe(`${figures.length} unverified figures`);
    for (const f of figures) expect(lines).toContain(`${f.file}: ${f.field}: ${f.text}`);
  }, 30_000);
});

describe('"示例" is never shown to a user', () => {
  it('in any guide text, utility text, flow text, or rendered guide and aspect', () => {
    const shown = [
      ...items().flatMap((i) => shownFields(i).map((f) => `${i.id} ${f.field}: ${f.text}`)),
      ...shownUtilityFields(kb.utility).map((f) => `utility ${f.field}: ${f.text}`),
      ...items().flatMap((i) => [JSON.stringify(guideReply(kb, i, new Date())), ...ASPECTS.map((a) => aspectText(kb, i, a))]),
      ...[...kb.flows.values()].map((f) => JSON.stringify({ ...f, examples: [] })),
    ];
    expect(shown.filter((t) => t.includes('示例'))).toEqual([]);
  });

  it('nor anywhere in the knowledge or flow files, internal notes included', () => {
    const yamls = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamls(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : []));
    const files = [...yamls('knowledge'), ...yamls('flows')];
    expect(files.filter((f) => readFileSync(f, 'utf8').includes('示例'))).toEqual([]);
  });
});

describe('no city or hotline literal in the knowledge code and the wording of facts', () => {
  it.each(['src/knowledge/schema.ts', 'src/knowledge/lint.ts', 'src/knowledge/load.ts', 'src/knowledge/catalog.ts', 'src/knowledge/index.ts', 'src/dialogue/render.ts', 'src/dialogue/flow-logic.ts', 'src/dialogue/dates.ts'])('%s', (file) => {
    const code = readFileSync(file, 'utf8');
    expect(code).not.toContain('武汉');
    expect(code).not.toContain(kb.utility.hotline);
  });
});

describe('lint catches drift from the source', () => {
  let root: string;
  let n = 0;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'facts-test-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const copy = () => {
    const dir = join(root, `case-${++n}`);
    cpSync('knowledge', join(dir, 'knowledge'), { recursive: true });
    cpSync('flows', join(dir, 'flows'), { recursive: true });
    return dir;
  };
  const change = (dir: string, file: string, fn: (d: Record<string, unknown>) => void) => {
    const path = join(dir, file);
    const d = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    fn(d);
    writeFileSync(path, stringify(d));
  };
  const lint = (dir: string) => lintKnowledge(join(dir, 'knowledge'), join(dir, 'flows'), loadCatalog()).map(formatIssue);

  it('a 可容缺 material in an item not marked 容缺', () => {
    const dir = copy();
    change(dir, 'knowledge/items/transfer-ownership.yaml', (d) => {
      (d.materials as { requirement: string }[])[0]!.requirement = '可容缺';
    });
    expect(lint(dir)).toContainEqual(expect.stringMatching(/transfer-ownership\.yaml: materials\.0\.requirement: 可容缺 needs the item marked `deferral`/));
  });

  it('more 容缺 items than the source counts', () => {
    const dir = copy();
    change(dir, 'knowledge/items/transfer-ownership.yaml', (d) => {
      d.deferral = { sample: true, note: '测试' };
    });
    expect(lint(dir)).toContainEqual(expect.stringMatching(/utility\.yaml: reform\.deferralItems: 6 guides are marked 容缺, the source counts 5/));
  });

  it('an unverified figure that is not stated as 参考, and a 参考 figure that is not listed', () => {
    const dir = copy();
    change(dir, 'knowledge/items/meter-calibration.yaml', (d) => {
      d.fees = String(d.fees).replace('参考：居民 DN15–DN25 水表 60 元/只，以受理时答复为准', '居民 DN15–DN25 水表 60 元/只');
      d.answer = `${String(d.answer)}参考：上门 1 小时，以受理时答复为准。`;
    });
    const issues = lint(dir);
    expect(issues).toContainEqual(expect.stringMatching(/meter-calibration\.yaml: unverified\.\d+\.text: "居民 DN15–DN25 水表 60 元\/只" must appear in fees as "参考：/));
    expect(issues).toContainEqual(expect.stringMatching(/meter-calibration\.yaml: answer: "上门 1 小时" is stated as unverified but not listed/));
  });

  it('a figure stated plainly that the source does not give (flows included)', () => {
    const dir = copy();
    change(dir, 'flows/renovation.yaml', (d) => {
      (d.nextSteps as { text: string }[])[0]!.text += '工作人员 2 小时内联系您。';
    });
    change(dir, 'knowledge/items/repair-report.yaml', (d) => {
      d.answer = `${String(d.answer)}城区一般 1 小时内到场。`;
    });
    const issues = lint(dir);
    expect(issues).toContainEqual(expect.stringMatching(/renovation\.yaml: nextSteps\.0\.text: states "2 小时" plainly/));
    expect(issues).toContainEqual(expect.stringMatching(/repair-report\.yaml: answer: states "1 小时" plainly/));
    // The source's own figures may be stated plainly.
    expect(issues.filter((i) => /"24 小时"|"30 分钟"|"2 个自然日"/.test(i))).toEqual([]);
  });

  it('"示例" in a text a user sees', () => {
    const dir = copy();
    change(dir, 'flows/demolition.yaml', (d) => {
      (d.questions as { help?: string }[])[0]!.help = '例如 1002345678（示例）';
    });
    change(dir, 'knowledge/utility.yaml', (d) => {
      (d.halls as { address: string }[])[1]!.address = '江岸区（示例地址）';
    });
    const issues = lint(dir);
    expect(issues).toContainEqual(expect.stringMatching(/demolition\.yaml: questions\.0\.help: shows "示例"/));
    expect(issues).toContainEqual(expect.stringMatching(/utility\.yaml: halls\.1\.address: shows "示例"/));
  });
});

describe('items’ own applications (flows/items) follow the same rules', () => {
  it('state no plain figure the source does not give, and show no "示例"', () => {
    const issues = lintKnowledge('knowledge', 'flows', loadCatalog()).map(formatIssue);
    expect(issues.filter((i) => i.includes('flows/items/'))).toEqual([]);
    expect(kb.applications.size).toBeGreaterThan(0);
    for (const [id, app] of kb.applications) expect(JSON.stringify(app), id).not.toContain('示例');
  });

  it('list their 参考 figures in `kb lint --unverified`', () => {
    const figures = unverifiedFigures(kb).filter((f) => f.file.includes(join('flows', 'items')));
    expect(figures).toContainEqual({ file: join('flows', 'items', 'ladder-population.yaml'), field: 'intro', text: '5 人及以上' });
  });
});

describe('material conditions name real answers', () => {
  it('a typo in a condition is reported (it would silently drop the material)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facts-slot-'));
    try {
      cpSync('knowledge', join(dir, 'knowledge'), { recursive: true });
      cpSync('flows', join(dir, 'flows'), { recursive: true });
      const path = join(dir, 'knowledge/items/transfer-ownership.yaml');
      const d = parse(readFileSync(path, 'utf8')) as { materials: { id: string; when?: Record<string, unknown> }[] };
      d.materials.find((m) => m.id === 'agent-authorization')!.when = { byAgnet: true };
      writeFileSync(path, stringify(d));
      const issues = lintKnowledge(join(dir, 'knowledge'), join(dir, 'flows'), loadCatalog()).map(formatIssue);
      expect(issues).toContainEqual(expect.stringMatching(/transfer-ownership\.yaml: materials\.\d+\.when\.byAgnet: "byAgnet" is not a question of any flow or item application/));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
