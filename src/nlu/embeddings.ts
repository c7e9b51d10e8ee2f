import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** Turns texts into L2-normalised, mean-pooled sentence vectors. */
export interface Embedder {
  readonly model: string;
  embed(texts: string[]): Promise<Float32Array[]>;
}

/** Options for {@link createEmbedder}. */
export interface EmbedderOptions {
  /** Local model directory or Hugging Face hub id; unset means lexical-only. */
  model?: string;
  /** Allow fetching the model from the hub; otherwise only local files and the cache are used. */
  allowDownload?: boolean;
  /** Directory for downloaded hub models. */
  cacheDir?: string;
  log?: (msg: string) => void;
}

/** A scored key returned by dense search and rank fusion. */
export interface ScoredKey {
  key: string;
  score: number;
}

/** A document to index: `key` is returned by search, `text` is embedded. */
export interface DenseDoc {
  key: string;
  text: string;
}

const BATCH_SIZE = 32;
const TOKENIZER_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

let defaultCacheDir: string | null | undefined;

/** Loads a feature-extraction model; returns null (after one log line) when none is configured or it cannot load. */
export async function createEmbedder(opts: EmbedderOptions = {}): Promise<Embedder | null> {
  const log = opts.log ?? (() => {});
  const model = opts.model?.trim();
  if (!model) {
    log('embeddings: no model (EMBEDDING_MODEL unset), running lexical-only');
    return null;
  }
  const fail = (reason: string): null => {
    log(`embeddings: failed to load ${model}: ${reason}, running lexical-only`);
    return null;
  };

  const localDir = resolveLocalDir(model);
  if (localDir === 'missing') return fail(`directory ${resolve(model)} not found`);
  if (localDir) {
    // Without tokenizer_config.json the pipeline silently loads no tokenizer and only breaks on first use.
    const missing = TOKENIZER_FILES.filter((f) => !existsSync(join(localDir, f)));
    if (missing.length > 0) return fail(`missing ${missing.join(', ')} in ${localDir}`);
  }

  try {
    // Imported lazily so lexical-only deployments never load onnxruntime.
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = !!opts.allowDownload;
    env.allowLocalModels = true;
    // Model-file discovery in pipeline() ignores the cache_dir option and reads env.cacheDir, so set both
    // (and restore the library default so one caller's cacheDir does not leak into the next).
    if (defaultCacheDir === undefined) defaultCacheDir = env.cacheDir;
    const cacheDir = opts.cacheDir ? resolve(opts.cacheDir) : undefined;
    env.cacheDir = cacheDir ?? defaultCacheDir;

    // An absolute path never matches the hub-id pattern, so the library reads it as-is instead of
    // prefixing env.localModelPath (which a relative id like "models/bge" would get).
    const source = localDir ?? model;
    const extractor = await pipeline('feature-extraction', source, {
      ...(cacheDir ? { cache_dir: cacheDir } : {}),
      local_files_only: !opts.allowDownload,
    });

    const embedder: Embedder = {
      model,
      async embed(texts: string[]): Promise<Float32Array[]> {
        if (texts.length === 0) return [];
        const out = await extractor(texts, { pooling: 'mean', normalize: true });
        const [rows, dim] = out.dims as [number, number];
        const data = out.data as Float32Array;
        const vectors: Float32Array[] = [];
        for (let i = 0; i < rows; i++) vectors.push(data.slice(i * dim, (i + 1) * dim));
        return vectors;
      },
    };

    // A probe surfaces broken tokenizers or graphs now rather than on the first user query.
    const probe = await embedder.embed(['测试']).then(
      ([v]) => v,
      async (err: unknown) => {
        await extractor.dispose();
        throw err;
      },
    );
    if (!probe || probe.length === 0 || !probe.every(Number.isFinite)) {
      await extractor.dispose();
      return fail('probe embedding was empty or not finite');
    }
    log(`embeddings: loaded ${model} (dim ${probe.length})`);
    return embedder;
  } catch (err) {
    const notFound = err instanceof Error && err.name === 'ModelFileNotFoundError';
    const hint = notFound && !localDir && !opts.allowDownload ? ' (downloads disabled and not in the cache)' : '';
    return fail(oneLine(err) + hint);
  }
}

/** In-memory cosine index over normalised document vectors, optionally cached on disk. */
export class DenseIndex {
  private constructor(
    private readonly embedder: Embedder,
    private readonly keys: string[],
    private readonly vectors: Float32Array,
    readonly dim: number,
  ) {}

  /** Embeds docs in batches of 32, or loads their vectors from `cache` when model and hash match. */
  static async build(
    embedder: Embedder,
    docs: DenseDoc[],
    cache?: { dir: string; knowledgeHash: string },
  ): Promise<DenseIndex> {
    const keys = docs.map((d) => d.key);
    const paths = cache ? cachePaths(cache.dir, embedder.model, cache.knowledgeHash) : undefined;

    if (paths && docs.length > 0) {
      const cached = await readCache(paths, embedder.model, cache!.knowledgeHash, keys);
      if (cached) return new DenseIndex(embedder, keys, cached.vectors, cached.dim);
    }

    const rows: Float32Array[] = [];
    for (let i = 0; i < docs.length; i += BATCH_SIZE) {
      const batch = docs.slice(i, i + BATCH_SIZE).map((d) => d.text);
      rows.push(...(await embedder.embed(batch)));
    }
    if (rows.length !== docs.length) {
      throw new Error(`embeddings: expected ${docs.length} vectors, got ${rows.length}`);
    }
    const dim = rows[0]?.length ?? 0;
    const vectors = new Float32Array(rows.length * dim);
    rows.forEach((row, i) => vectors.set(row, i * dim));

    if (paths && docs.length > 0) {
      await writeCache(paths, { model: embedder.model, knowledgeHash: cache!.knowledgeHash, dim, keys }, vectors);
    }
    return new DenseIndex(embedder, keys, vectors, dim);
  }

  /** Number of indexed documents. */
  get size(): number {
    return this.keys.length;
  }

  /** Top-k docs by cosine similarity (dot product of unit vectors), best first. */
  search(vector: Float32Array, k: number): ScoredKey[] {
    if (this.keys.length === 0 || k <= 0) return [];
    if (vector.length !== this.dim) {
      throw new Error(`embeddings: query has dim ${vector.length}, index has dim ${this.dim}`);
    }
    const scored: ScoredKey[] = this.keys.map((key, i) => {
      let dot = 0;
      const base = i * this.dim;
      for (let j = 0; j < this.dim; j++) dot += vector[j]! * this.vectors[base + j]!;
      return { key, score: dot };
    });
    return scored.sort((a, b) => b.score - a.score).slice(0, k);
  }

  /** Embeds `text` and returns its top-k docs. */
  async query(text: string, k: number): Promise<ScoredKey[]> {
    const [vector] = await this.embedder.embed([text]);
    return vector ? this.search(vector, k) : [];
  }
}

/** Fuses best-first rankings: score(key) = Σ 1 / (k + rank), rank starting at 1; ties keep first-seen order. */
export function reciprocalRankFusion(rankings: string[][], k = 60): ScoredKey[] {
  const scores = new Map<string, number>();
  for (const ranking of rankings) {
    const seen = new Set<string>();
    ranking.forEach((key, i) => {
      if (seen.has(key)) return;
      seen.add(key);
      scores.set(key, (scores.get(key) ?? 0) + 1 / (k + i + 1));
    });
  }
  return [...scores].map(([key, score]) => ({ key, score })).sort((a, b) => b.score - a.score);
}

/** Absolute directory for a local model, 'missing' for a path that does not exist, undefined for a hub id. */
function resolveLocalDir(model: string): string | 'missing' | undefined {
  const abs = resolve(model);
  if (existsSync(abs) && statSync(abs).isDirectory()) return abs;
  const pathLike = isAbsolute(model) || /^\.{1,2}[\\/]/.test(model) || model.startsWith('~') || model.includes('\\');
  return pathLike ? 'missing' : undefined;
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.trim().replace(/\.$/, '') || 'unknown error';
}

interface CacheMeta {
  model: string;
  knowledgeHash: string;
  dim: number;
  keys: string[];
}

interface CachePaths {
  bin: string;
  json: string;
}

function sanitise(part: string): string {
  return part.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[_.]+|_+$/g, '') || 'model';
}

function cachePaths(dir: string, model: string, knowledgeHash: string): CachePaths {
  const base = join(dir, `${sanitise(model)}-${sanitise(knowledgeHash)}`);
  return { bin: `${base}.bin`, json: `${base}.json` };
}

async function readCache(
  paths: CachePaths,
  model: string,
  knowledgeHash: string,
  keys: string[],
): Promise<{ vectors: Float32Array; dim: number } | undefined> {
  try {
    const meta = JSON.parse(await readFile(paths.json, 'utf8')) as Partial<CacheMeta>;
    const sameKeys = Array.isArray(meta.keys) && meta.keys.length === keys.length && meta.keys.every((k, i) => k === keys[i]);
    if (meta.model !== model || meta.knowledgeHash !== knowledgeHash || !sameKeys || !meta.dim) return undefined;
    const buf = await readFile(paths.bin);
    if (buf.byteLength !== keys.length * meta.dim * 4) return undefined;
    // Copy into a fresh buffer: Node's pooled Buffer may not be 4-byte aligned for a Float32Array view.
    const vectors = new Float32Array(buf.byteLength / 4);
    new Uint8Array(vectors.buffer).set(buf);
    return { vectors, dim: meta.dim };
  } catch {
    return undefined;
  }
}

async function writeCache(paths: CachePaths, meta: CacheMeta, vectors: Float32Array): Promise<void> {
  try {
    await mkdir(dirname(paths.bin), { recursive: true });
    // The json is written last and is what readCache checks first, so a half-written cache is never trusted.
    const tmp = `.tmp-${process.pid}`;
    await writeFile(paths.bin + tmp, new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
    await rename(paths.bin + tmp, paths.bin);
    await writeFile(paths.json + tmp, JSON.stringify(meta));
    await rename(paths.json + tmp, paths.json);
  } catch {
    // The cache only saves start-up time; the in-memory index is complete without it.
  }
}
