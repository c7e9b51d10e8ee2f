import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DenseIndex,
  createEmbedder,
  reciprocalRankFusion,
  type Embedder,
} from '../../src/nlu/embeddings.js';

const { onnx } = onnxProto;

const DIM = 8;
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
// Each cluster owns one embedding dimension, so texts sharing a topic's characters point the same way.
const CLUSTERS = [
  '缴交费钱账单付', // billing
  '停断供恢复通知', // outage
  '漏管爆裂修报', // leak
  '表读数抄', // meter
  '户开过名销', // account
  '质浑黄味浊', // water quality
  '你好谢您请', // greeting
  '我的了吗怎么家里什时候想如何纳在哪是水测试', // filler
];

const VOCAB: string[] = [...SPECIALS, ...CLUSTERS.flatMap((c) => [...c])];

function embeddingTable(): number[] {
  const table: number[] = [];
  for (const token of VOCAB) {
    const row = new Array<number>(DIM).fill(0);
    const cluster = CLUSTERS.findIndex((c) => c.includes(token));
    if (cluster >= 0) {
      row[cluster] = 1;
      // A small deterministic offset keeps characters within a cluster distinct.
      row[(cluster + 1) % DIM] = 0.05 * ((VOCAB.indexOf(token) % 3) + 1);
    } else if (token === '[UNK]') {
      row[DIM - 1] = 0.1;
    }
    table.push(...row);
  }
  return table;
}

function tensorInput(name: string, elemType: number, dims: (string | number)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** Encodes a BERT-shaped ONNX graph: word + token-type embeddings, zeroed where attention_mask is 0. */
function tinyBertOnnx(): Uint8Array {
  const { FLOAT, INT64 } = onnx.TensorProto.DataType;
  const graph: onnxProto.onnx.IGraphProto = {
    name: 'tiny-bert',
    input: [
      tensorInput('input_ids', INT64, ['batch', 'seq']),
      tensorInput('attention_mask', INT64, ['batch', 'seq']),
      tensorInput('token_type_ids', INT64, ['batch', 'seq']),
    ],
    output: [tensorInput('last_hidden_state', FLOAT, ['batch', 'seq', DIM])],
    initializer: [
      { name: 'word_embeddings', dataType: FLOAT, dims: [VOCAB.length, DIM], floatData: embeddingTable() },
      { name: 'type_embeddings', dataType: FLOAT, dims: [2, DIM], floatData: new Array<number>(2 * DIM).fill(0) },
      { name: 'last_axis', dataType: INT64, dims: [1], int64Data: [-1] },
    ],
    node: [
      { opType: 'Gather', input: ['word_embeddings', 'input_ids'], output: ['words'], name: 'gather_words' },
      { opType: 'Gather', input: ['type_embeddings', 'token_type_ids'], output: ['types'], name: 'gather_types' },
      { opType: 'Add', input: ['words', 'types'], output: ['summed'], name: 'add' },
      {
        opType: 'Cast',
        input: ['attention_mask'],
        output: ['mask_f'],
        name: 'cast_mask',
        attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }],
      },
      { opType: 'Unsqueeze', input: ['mask_f', 'last_axis'], output: ['mask_3d'], name: 'unsqueeze_mask' },
      { opType: 'Mul', input: ['summed', 'mask_3d'], output: ['last_hidden_state'], name: 'apply_mask' },
    ],
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'embeddings.test',
    graph,
  }).finish();
}

function tokenizerJson(): object {
  const special = (content: string) => ({
    id: VOCAB.indexOf(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const cls = { SpecialToken: { id: '[CLS]', type_id: 0 } };
  const sep = { SpecialToken: { id: '[SEP]', type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [cls, { Sequence: { id: 'A', type_id: 0 } }, sep],
      pair: [cls, { Sequence: { id: 'A', type_id: 0 } }, sep, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [VOCAB.indexOf('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [VOCAB.indexOf('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
    },
  };
}

async function writeTinyModel(dir: string): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const json = (file: string, value: object) => writeFile(join(dir, file), JSON.stringify(value, null, 2));
  await json('config.json', {
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: DIM,
    num_attention_heads: 1,
    num_hidden_layers: 1,
    intermediate_size: 16,
    vocab_size: VOCAB.length,
    max_position_embeddings: 64,
    type_vocab_size: 2,
  });
  await json('tokenizer.json', tokenizerJson());
  await json('tokenizer_config.json', {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: 64,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
  });
  // fp32 is the default dtype on the Node cpu device, which maps to onnx/model.onnx (no suffix).
  await writeFile(join(dir, 'onnx', 'model.onnx'), tinyBertOnnx());
}

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
const norm = (a: Float32Array) => Math.sqrt(cosine(a, a));

/** Wraps an embedder and records every batch it is asked to embed. */
function counting(inner: Embedder): Embedder & { batches: number[] } {
  const batches: number[] = [];
  return {
    model: inner.model,
    batches,
    embed(texts) {
      batches.push(texts.length);
      return inner.embed(texts);
    },
  };
}

const DOCS = [
  { key: 'billing', text: '缴纳水费 交费 账单' },
  { key: 'outage', text: '停水通知 恢复供水' },
  { key: 'leak', text: '水管漏水 爆管报修' },
  { key: 'meter', text: '水表读数 抄表' },
  { key: 'account', text: '开户 过户 销户' },
];

describe('dense embeddings', () => {
  let root: string;
  let modelDir: string;
  let embedder: Embedder;
  const logs: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'embeddings-test-'));
    modelDir = join(root, 'tiny-bert');
    await writeTinyModel(modelDir);
    const loaded = await createEmbedder({ model: modelDir, log: (m) => logs.push(m) });
    if (!loaded) throw new Error(`tiny model failed to load: ${logs.join(' | ')}`);
    embedder = loaded;
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('loads a local model directory through the pipeline and logs one line', () => {
    expect(embedder.model).toBe(modelDir);
    expect(logs).toEqual([`embeddings: loaded ${modelDir} (dim ${DIM})`]);
  });

  it('returns unit-length vectors of the model dimension', async () => {
    const vectors = await embedder.embed(['怎么缴费', '你好', '完全不认识的字']);
    expect(vectors).toHaveLength(3);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(DIM);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    expect(await embedder.embed([])).toEqual([]);
  });

  it('places texts that share characters closer than unrelated texts', async () => {
    const [pay, payToo, hello] = await embedder.embed(['怎么缴费', '我想交费', '你好谢谢']);
    expect(cosine(pay!, payToo!)).toBeGreaterThan(cosine(pay!, hello!) + 0.3);
  });

  it('ignores padding: a text embeds the same alone and in a batch with a longer one', async () => {
    const [alone] = await embedder.embed(['停水']);
    const [batched] = await embedder.embed(['停水', '水管漏水了怎么报修呢']);
    for (let i = 0; i < DIM; i++) expect(batched![i]).toBeCloseTo(alone![i]!, 6);
  });

  it('ranks the matching document first', async () => {
    const index = await DenseIndex.build(embedder, DOCS);
    expect(index.size).toBe(DOCS.length);
    expect((await index.query('我家停水了', 3))[0]!.key).toBe('outage');
    expect((await index.query('水管爆了', 3))[0]!.key).toBe('leak');

    const [vector] = await embedder.embed(['怎么抄表']);
    const hits = index.search(vector!, 2);
    expect(hits).toHaveLength(2);
    expect(hits[0]!.key).toBe('meter');
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(index.search(vector!, 0)).toEqual([]);
  });

  it('embeds in batches of at most 32', async () => {
    const docs = Array.from({ length: 70 }, (_, i) => DOCS[i % DOCS.length]!).map((d, i) => ({ key: `${d.key}-${i}`, text: d.text }));
    const wrapper = counting(embedder);
    const index = await DenseIndex.build(wrapper, docs);
    expect(wrapper.batches).toEqual([32, 32, 6]);
    expect(index.size).toBe(70);
  });

  it('writes a vector cache and reuses it for the same model and knowledge hash', async () => {
    const dir = join(root, 'vector-cache');
    const first = counting(embedder);
    const built = await DenseIndex.build(first, DOCS, { dir, knowledgeHash: 'abc123' });
    expect(first.batches).toEqual([DOCS.length]);

    const files = readdirSync(dir).sort();
    const base = `${modelDir.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[_.]+/, '')}-abc123`;
    expect(files).toEqual([`${base}.bin`, `${base}.json`]);
    expect((await readFile(join(dir, `${base}.bin`))).byteLength).toBe(DOCS.length * DIM * 4);

    const second = counting(embedder);
    const cached = await DenseIndex.build(second, DOCS, { dir, knowledgeHash: 'abc123' });
    expect(second.batches).toEqual([]);
    const [vector] = await embedder.embed(['停水了']);
    expect(cached.search(vector!, 5)).toEqual(built.search(vector!, 5));
    // query() still embeds the query text itself.
    expect((await cached.query('停水了', 1))[0]!.key).toBe('outage');
    expect(second.batches).toEqual([1]);

    const third = counting(embedder);
    await DenseIndex.build(third, DOCS, { dir, knowledgeHash: 'def456' });
    expect(third.batches).toEqual([DOCS.length]);
    expect(existsSync(join(dir, `${base.replace('abc123', 'def456')}.bin`))).toBe(true);
  });

  it('returns null and logs once when the model directory is missing', async () => {
    const messages: string[] = [];
    const missing = join(root, 'no-such-model');
    expect(await createEmbedder({ model: missing, log: (m) => messages.push(m) })).toBeNull();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^embeddings: failed to load .*no-such-model.*running lexical-only$/);
  });

  it('returns null when a local directory lacks tokenizer files', async () => {
    const partial = join(root, 'partial-model');
    await mkdir(join(partial, 'onnx'), { recursive: true });
    await writeFile(join(partial, 'config.json'), '{"model_type":"bert"}');
    const messages: string[] = [];
    expect(await createEmbedder({ model: partial, log: (m) => messages.push(m) })).toBeNull();
    expect(messages).toEqual([
      `embeddings: failed to load ${partial}: missing tokenizer.json, tokenizer_config.json in ${partial}, running lexical-only`,
    ]);
  });

  it('returns null without touching the network for an uncached hub id when downloads are off', async () => {
    const messages: string[] = [];
    const cacheDir = join(root, 'hub-cache');
    expect(await createEmbedder({ model: 'example-org/not-cached', cacheDir, log: (m) => messages.push(m) })).toBeNull();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^embeddings: failed to load example-org\/not-cached: .*\(downloads disabled and not in the cache\), running lexical-only$/);
  });

  it('returns null when no model is configured', async () => {
    const messages: string[] = [];
    expect(await createEmbedder({ log: (m) => messages.push(m) })).toBeNull();
    expect(await createEmbedder({ model: '  ' })).toBeNull();
    expect(messages).toEqual(['embeddings: no model (EMBEDDING_MODEL unset), running lexical-only']);
  });
});

describe('reciprocalRankFusion', () => {
  it('rewards keys ranked well by several lists', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b', 'c'],
      ['b', 'c', 'a'],
      ['b', 'd'],
    ]);
    expect(fused.map((f) => f.key)).toEqual(['b', 'a', 'c', 'd']);
    expect(fused[0]!.score).toBeCloseTo(1 / 62 + 1 / 61 + 1 / 61, 10);
    expect(fused[3]!.score).toBeCloseTo(1 / 62, 10);
  });

  it('honours k and counts a repeated key once per list', () => {
    const fused = reciprocalRankFusion([['x', 'x', 'y']], 1);
    expect(fused).toEqual([
      { key: 'x', score: 1 / 2 },
      { key: 'y', score: 1 / 4 },
    ]);
    expect(reciprocalRankFusion([])).toEqual([]);
  });
});
