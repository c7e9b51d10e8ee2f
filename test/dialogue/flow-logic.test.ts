/**
 * Flow-level facts over flow-logic: due dates (defect 6), 代扣 cancelled in 拆迁 (defect 7), checklists merged by id,
 * materials and 告知承诺 only where the answers call for them (defect 12).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checklistFor, checklistOf, commitmentOf, materialApplies, scopeOf, timeLimitFor, timeLimitOf } from '../../src/dialogue/flow-logic.js';
import { dueText } from '../../src/dialogue/render.js';
import { loadKnowledge, type Flow, type KnowledgeBase } from '../../src/knowledge/index.js';

let kb: KnowledgeBase;
const flow = (id: string): Flow => kb.flows.get(id)!;
beforeAll(() => {
  kb = loadKnowledge();
});

const WED = new Date('2026-11-25T02:00:00Z'); // 周三 10:00 北京时间
const SAT = new Date('2026-12-05T02:00:00Z'); // 周六
const names = (list: { name: string }[]) => list.map((m) => m.name);

const demolition = (extra: Record<string, string | boolean> = {}) => ({ accountNumber: '1002345678', ownerName: '张三', idCard: '420106198503121233', mobile: '13812345678', billSettled: true, hasAutoDebit: false, moveOutDate: '2026-12-15', ...extra });
const buyHouse = (extra: Record<string, string | boolean> = {}) => ({ accountNumber: '1002345678', ownerName: '张三', idCard: '420106198503121233', mobile: '13812345678', billSettled: true, autoDebit: false, ladderIncrease: false, ...extra });
const openExisting = (extra: Record<string, string | boolean | number> = {}) => ({ meterStatus: 'existing', accountNumber: '1002345678', accountChange: 'transfer', tariffChange: true, subjectType: 'sme', applicantName: '某某公司', uscc: '91420100MA4K12345K', mobile: '13812345678', autoDebit: true, ...extra });
const project = (extra: Record<string, string | boolean | number> = {}) => ({ projectType: 'lowrisk', dn: 40, temporaryWater: true, temporaryStart: '2026-11-26', companyName: '某某公司', uscc: '91420100MA4K12345K', mobile: '13812345678', district: '洪山区', address: '某路 1 号', ...extra });

describe('defect 6: due dates', () => {
  it('拆迁 with 搬离日期 2026-12-15 is not due before the move-out (was 预计办结 2026-12-02)', () => {
    const limit = timeLimitOf(kb, flow('demolition'), demolition(), new Date('2026-11-26T02:00:00Z'));
    expect(limit.due).toBe('2026-12-15');
    expect(limit.due! >= '2026-12-15').toBe(true);
    expect(limit.scheduled).toBe(true);
    expect(dueText(limit)).toBe('按您约定的日期办理，2026-12-15 前办结');
  });

  it('a single item application is due on the day asked for too (报停 上门日期, 临时用水 开始日期)', () => {
    for (const [item, slot] of [['suspend-resume', 'preferredDate'], ['temporary-water', 'startDate'], ['leak-detection', 'preferredDate']] as const) {
      const app = kb.applications.get(item)!;
      expect(app.questions.map((q) => q.id), item).toContain(slot);
      const limit = timeLimitFor(kb, { items: [item], route: app.routes[0] }, { [slot]: '2026-12-28' }, WED);
      expect(limit, item).toMatchObject({ due: '2026-12-28', scheduled: true });
    }
  });

  it('a move-out before the item limit keeps the item limit', () => {
    const limit = timeLimitOf(kb, flow('demolition'), demolition({ moveOutDate: '2026-11-26' }), WED);
    expect(limit).toMatchObject({ due: '2026-11-30', value: 3, unit: '工作日' });
    expect(limit.scheduled).toBeUndefined();
  });

  it('a route limit never replaces the others: 五零 + 临时用水 is due with 临时用水, not 即时办结', () => {
    const limit = timeLimitOf(kb, flow('new-project-connection'), project(), WED);
    expect(scopeOf(flow('new-project-connection'), project()).route?.id).toBe('five-zero');
    expect(limit.itemId).toBe('temporary-water');
    expect(limit).toMatchObject({ value: 5, unit: '工作日', due: '2026-12-02' });
    expect(dueText(limit)).not.toContain('即时办结');
  });

  it('绿色通道 + 临时用水 takes the later of the two', () => {
    const limit = timeLimitOf(kb, flow('new-project-connection'), project({ projectType: 'key', dn: 150 }), WED);
    expect(limit).toMatchObject({ value: 5, unit: '工作日', itemId: 'temporary-water' });
    const alone = timeLimitOf(kb, flow('new-project-connection'), project({ projectType: 'key', dn: 150, temporaryWater: false }), WED);
    expect(alone).toMatchObject({ value: 2, unit: '自然日', due: '2026-11-27', unverified: false, itemId: 'connect-green-channel' });
  });

  it('on a weekend a 1-工作日 item is not 即时办结 (no start from a 0-day due date)', () => {
    const answers = { subjectType: 'individual', companyName: '某某店', uscc: '92420111MA4J8K7L2T', accountNumber: '1003456789', mobile: '15071234567', sewageExemption: false, lateFee: false };
    const limit = timeLimitOf(kb, flow('relief-application'), answers, SAT);
    expect(limit).toMatchObject({ value: 1, unit: '工作日', due: '2026-12-07' });
    expect(dueText(limit)).not.toContain('即时办结');
    // A 0-day item and a 1-day item on a Saturday: both fall on Monday, the 1-day limit is the one shown.
    const mixed = timeLimitFor(kb, { items: ['bill-query', 'transfer-ownership'] }, {}, SAT);
    expect(mixed).toMatchObject({ value: 1, unit: '工作日', due: '2026-12-07', itemId: 'transfer-ownership' });
  });

  it('declining 告知承诺 gives no fixed due date: the limit counts from acceptance', () => {
    const limit = timeLimitOf(kb, flow('demolition'), demolition(), WED, { awaitingMaterials: true });
    expect(limit.due).toBeNull();
    expect(limit.startsOnAcceptance).toBe(true);
    expect(dueText(limit)).toContain('受理后开始计时');
    expect(dueText(limit)).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  });

  it('a limit the source does not give is shown as 参考; 接入通水 2 个自然日 is not', () => {
    expect(dueText(timeLimitOf(kb, flow('demolition'), demolition({ moveOutDate: '2026-11-26' }), WED))).toBe('参考：3 个工作日内（2026-11-30 前），以受理时答复为准');
    const limit = timeLimitOf(kb, flow('new-project-connection'), project({ projectType: 'other', dn: 80, temporaryWater: false }), WED);
    expect(limit).toMatchObject({ value: 2, unit: '自然日', unverified: false });
    expect(dueText(limit)).toBe('2 个自然日内（2026-11-27 前）');
  });
});

describe('defect 7: cancelling 代扣 in 拆迁', () => {
  it('adds no 代扣 signing materials', () => {
    const list = checklistOf(kb, flow('demolition'), demolition({ hasAutoDebit: true }));
    expect(scopeOf(flow('demolition'), demolition({ hasAutoDebit: true })).items).toContain('auto-debit');
    expect(names(list).join('、')).not.toMatch(/银行借记卡|户主授权书/);
  });

  it('signing 代扣 (二手房) or changing the card on its own still needs the bank card', () => {
    expect(names(checklistOf(kb, flow('buy-house'), buyHouse({ autoDebit: true })))).toContain('本人银行借记卡');
    expect(names(checklistFor(kb, { items: ['auto-debit'] }, { hasAutoDebit: true }))).toContain('本人银行借记卡');
    expect(names(checklistFor(kb, { items: ['auto-debit'] }, { cardHolderDiffers: true }))).toContain('户主授权书');
  });
});

describe('defect 12: checklists', () => {
  it('merges the same document from several items by id: one ID card, one 营业执照', () => {
    const buy = checklistOf(kb, flow('buy-house'), buyHouse({ autoDebit: true, ladderIncrease: true }));
    expect(buy.filter((m) => m.id === 'owner-id')).toHaveLength(1);
    expect(names(buy)).toContain('新户主有效身份证件');
    expect(names(buy)).not.toContain('户主或签约人有效身份证件');
    expect(buy.find((m) => m.id === 'owner-id')!.items).toEqual(['transfer-ownership', 'auto-debit', 'ladder-population']);

    const shop = checklistOf(kb, flow('open-business'), openExisting());
    const licences = shop.filter((m) => /^营业执照/.test(m.name));
    expect(licences.map((m) => m.name)).toEqual(['营业执照']);
    expect(new Set(shop.map((m) => m.id)).size).toBe(shop.length);
  });

  it('requires materials only under conditions the answers meet', () => {
    const shop = names(checklistOf(kb, flow('open-business'), openExisting()));
    expect(shop).not.toContain('委托书及代理人身份证件');
    expect(shop).not.toContain('经营场所租赁合同');
    expect(shop).not.toContain('新户主有效身份证件'); // a company applies with its 营业执照
    expect(shop).toContain('企业划型证明材料（如上年度财务报表、从业人员情况）');
    const individual = names(checklistOf(kb, flow('open-business'), openExisting({ subjectType: 'individual' })));
    expect(individual.join('、')).not.toContain('企业划型证明');
    const person = names(checklistOf(kb, flow('open-business'), openExisting({ subjectType: 'person' })));
    expect(person).toContain('新户主有效身份证件');
    expect(person).not.toContain('营业执照');
    const byAgent = names(checklistFor(kb, { items: ['transfer-ownership'] }, { byAgent: true }));
    expect(byAgent).toContain('委托书及代理人身份证件');
  });

  it('makes 结清凭证 必备 for 过户, settled or not', () => {
    for (const billSettled of [true, false]) {
      const m = checklistOf(kb, flow('buy-house'), buyHouse({ billSettled })).find((x) => x.id === 'bill-settlement')!;
      expect(m.requirement).toBe('必备');
      expect(m.commitment).toBe(false);
    }
  });

  it('a material one item needs for sure is 必备 for the whole application', () => {
    const list = checklistFor(kb, { items: ['tariff-change', 'mixed-use-agreement'] }, {});
    expect(list.map((m) => m.requirement)).toEqual([...list.map((m) => m.requirement)].sort((a, b) => (a === b ? 0 : a === '必备' ? -1 : 1)));
    expect(materialApplies({ when: { byAgent: true } }, {})).toBe(false);
    expect(materialApplies({ unless: { subjectType: ['sme'] } }, {})).toBe(true);
    expect(materialApplies({ unless: { subjectType: ['sme'] } }, { subjectType: 'sme' })).toBe(false);
  });
});

describe('defect 12: 告知承诺 only for relevant items, with a conditional text', () => {
  it('is not offered where no item of the application takes it (二手房, 拆迁, 装修, 更名)', () => {
    expect(commitmentOf(kb, flow('buy-house'), buyHouse({ billSettled: false, autoDebit: true, ladderIncrease: true }), WED)).toBeNull();
    expect(commitmentOf(kb, flow('demolition'), demolition({ billSettled: false, hasAutoDebit: true }), WED)).toBeNull();
    const reno = { needSuspend: true, suspendDate: '2026-11-30', relocate: true, resize: true, newDn: 25, accountNumber: '1002345678', applicantName: '王五', mobile: '13812345678', address: '某路 1 号' };
    expect(commitmentOf(kb, flow('renovation'), reno, WED)).toBeNull();
    expect(commitmentOf(kb, flow('open-business'), openExisting({ accountChange: 'rename', tariffChange: false, subjectType: 'person', autoDebit: false }), WED)).toBeNull();
  });

  it('promises only for the items that take it and names only their missing materials', () => {
    const shop = commitmentOf(kb, flow('open-business'), openExisting({ subjectType: 'individual' }), WED)!;
    expect(shop.items).toEqual(['tariff-change']);
    expect(shop.materials).toEqual(['房屋实际用途证明（营业执照、房屋租赁合同或社区出具的居住证明等）']);
    expect(shop.text).toContain('申请变更的用水性质与房屋实际用途一致');
    expect(shop.text).not.toMatch(/委托书|绿色通道|人口核增|用水优惠/);

    const build = commitmentOf(kb, flow('new-project-connection'), project({ projectType: 'key', dn: 150 }), WED)!;
    expect(build.items).toEqual(['temporary-water']);
    expect(build.text).not.toMatch(/绿色通道|认定文件|委托书/);
    expect(build.dueBy).toBe('2026-12-25');

    const relief = commitmentOf(kb, flow('relief-application'), { subjectType: 'sme', companyName: 'x', uscc: '91420100MA4K12345K', accountNumber: '1002345678', mobile: '13812345678', sewageExemption: true, lateFee: false }, WED)!;
    expect(relief.items).toEqual(['discount-sme', 'sewage-fee-exemption']);
    expect(relief.text).toContain('符合用水优惠条件');
    expect(relief.text).toContain('受疫情影响较大的中小企业');
    expect(relief.text).not.toMatch(/违约金|委托书/);
  });

  it('takes its deadline from the utility, marked unverified (the source gives no figure)', () => {
    const terms = commitmentOf(kb, flow('open-business'), openExisting(), WED)!;
    expect(terms.days).toBe(kb.utility.commitment.days);
    expect(terms.unverified).toBe(true);
    expect(terms.text).toContain('对暂缺的可容缺材料（房屋实际用途证明、企业划型证明材料），将在承诺期限内补齐。');
    expect(terms.text).not.toContain(`${terms.days} 日`);
    expect(terms.dueBy).toBe('2026-12-25');
  });
});
