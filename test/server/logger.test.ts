import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/index.js';

describe('logger', () => {
  it('masks personal numbers in messages and fields, child loggers included', () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) });
    const log = createLogger('info', { destination: destination as never }).child({ conversationId: 'c1' });
    log.info({ text: '手机 13912345678', nested: { id: ['420102198507150035'] }, n: 13912345678 }, '用户说 %s', '91420100MA4K12345K');
    log.warn('身份证 420102198507150035');
    const out = lines.join('');
    for (const secret of ['"手机 13912345678"', '420102198507150035', '91420100MA4K12345K']) expect(out).not.toContain(secret);
    expect(out).toContain('139****5678');
    expect(out).toContain('"conversationId":"c1"');
    expect(out).toContain('用户说 9142**********345K');
  });
});
