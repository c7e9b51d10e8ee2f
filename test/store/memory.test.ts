import { describe, expect, it } from 'vitest';
import { createMemoryStores, createStores } from '../../src/store/index.js';
import { storeContract } from './contract.js';

storeContract('memory', async (overrides) => createMemoryStores(overrides));

describe('memory stores', () => {
  it('createStores picks memory for STORE=memory', async () => {
    const stores = await createStores({ store: 'memory', ttlSeconds: 60 });
    expect(stores.backend).toBe('memory');
    await stores.close();
  });

  it('caps conversations: beyond the cap the least recently written go, whole', async () => {
    const stores = createMemoryStores({ maxConversations: 100 });
    const rec = { schemaVersion: 1, state: {}, updatedAt: new Date().toISOString() };
    for (let i = 0; i < 250; i++) {
      await stores.sessions.set(`c${i}`, rec);
      await stores.transcripts.append(`c${i}`, [{ from: 'user', text: `m${i}`, at: rec.updatedAt }]);
    }
    // Writing c0 again keeps it as recent.
    const size = await stores.size();
    expect(size.sessions).toBe(100);
    expect(size.transcripts).toBe(100);
    expect(await stores.sessions.get('c0')).toBeNull();
    expect(await stores.transcripts.list('c0')).toEqual([]);
    expect(await stores.sessions.get('c249')).not.toBeNull();
    expect((await stores.transcripts.list('c150')).map((m) => m.text)).toEqual(['m150']);
    await stores.close();
  });
});
