/** Single-item applications are data: flows/items/<item>.yaml built from flows/questions/library.yaml, validated at load. */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKnowledge, readKnowledge } from '../../src/knowledge/index.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function flowsWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'flows-'));
  dirs.push(dir);
  cpSync('flows', dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

describe('single-item applications', () => {
  it('loads one application per file, its questions taken from the library with overrides', () => {
    const kb = loadKnowledge();
    expect(kb.applications.size).toBeGreaterThanOrEqual(10);
    const transfer = kb.applications.get('transfer-ownership')!;
    expect(transfer.id).toBe('apply-transfer-ownership');
    expect(transfer.items).toEqual(['transfer-ownership']);
    const owner = transfer.questions.find((q) => q.id === 'applicantName')!;
    expect(owner.label).toBe('新户主');
    expect(owner.type).toBe('name');
    // Fields not overridden come from the library.
    expect(transfer.questions.find((q) => q.id === 'mobile')).toMatchObject({ type: 'mobile', sensitive: true });
    for (const app of kb.applications.values()) expect(app.questions.some((q) => q.type === 'mobile'), app.id).toBe(true);
    expect(kb.bundles.get('transfer-ownership')?.flow).toBe('buy-house');
  });

  it('reports an unknown library question, an unknown item and a missing mobile by file and field', () => {
    const dir = flowsWith({
      'items/no-such-item.yaml': 'item: no-such-item\nquestions: [mobile]\n',
      'items/invoice.yaml': 'item: invoice\nquestions: [accountNumber, nosuchquestion, mobile]\n',
      'items/auto-debit.yaml': 'item: auto-debit\nquestions: [accountNumber]\n',
    });
    const { issues } = readKnowledge('knowledge', dir);
    const has = (file: string, field: string, problem: RegExp) => issues.some((i) => i.file.endsWith(file) && i.field === field && problem.test(i.problem));
    expect(has('items/no-such-item.yaml', 'item', /unknown item/)).toBe(true);
    expect(has('items/invoice.yaml', 'questions.1.use', /unknown library question "nosuchquestion"/)).toBe(true);
    expect(has('items/auto-debit.yaml', 'questions', /mobile/)).toBe(true);
  });
});
