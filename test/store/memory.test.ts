import { describe, expect, it } from 'vitest';
import { createMemoryStores, createStores } from '../../src/store/index.js';
import { storeContract } from './contract.js';

storeContract('memory', async (overrides) => createMemoryStores(overrides));

describe('createStores without a Redis URL', () => {
  it('picks the memory backend', async () => {
    const stores = await createStores({ ttlSeconds: 60 });
    expect(stores.backend).toBe('memory');
    await stores.close();
  });
});
