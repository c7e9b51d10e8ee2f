import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_NAMES } from '../../src/config.js';
import { RUNTIME_PATHS } from './runtime-paths.js';

// Docker cannot run on this machine: these checks read the deployment files for what a deployment needs.

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped, split into stages. */
function dockerStages(text: string): Instruction[][] {
  const joined = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of joined) {
    const [op = '', ...rest] = line.split(/\s+/);
    const ins = { op: op.toUpperCase(), args: rest.join(' ') };
    if (ins.op === 'FROM') stages.push([]);
    stages.at(-1)?.push(ins);
  }
  return stages;
}

/** Variable names an ENV instruction sets (`ENV A=1 B=2` or `ENV A 1`). */
function envNames(args: string): string[] {
  if (!args.includes('=')) return [args.split(/\s+/)[0]!];
  return [...args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!);
}

const dockerfile = readFileSync('Dockerfile', 'utf8');
const stages = dockerStages(dockerfile);
const runtime = stages.at(-1)!;
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, { environment?: Record<string, string>; volumes?: string[]; command?: string[]; image?: string; build?: unknown; ports?: string[]; healthcheck?: { test?: string[]; disable?: boolean } }>;
  volumes: Record<string, unknown>;
};
const assistants = Object.entries(compose.services).filter(([, s]) => s.build);
const caddyfile = readFileSync('deploy/Caddyfile', 'utf8');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };

describe('Dockerfile', () => {
  it('is multi-stage and the runtime stage is Node 20 slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime[0]!.args).toMatch(/^node:20[\w.-]*-slim\b/);
  });

  it('runs as a non-root user', () => {
    const users = runtime.filter((i) => i.op === 'USER').map((i) => i.args.split(':')[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)$/);
    // USER comes before CMD, so the server process itself is not root.
    expect(runtime.findIndex((i) => i.op === 'USER')).toBeLessThan(runtime.findIndex((i) => i.op === 'CMD'));
  });

  it('has a HEALTHCHECK on /healthz', () => {
    const hc = runtime.find((i) => i.op === 'HEALTHCHECK');
    expect(hc?.args).toContain('/healthz');
    expect(hc?.args).not.toMatch(/\bcurl\b|\bwget\b/); // neither is in the slim image
  });

  it('runs compiled JavaScript with node, no tsx, on production dependencies installed with the .npmrc', () => {
    const cmd = runtime.find((i) => i.op === 'CMD')!.args;
    expect(JSON.parse(cmd)).toEqual(['node', 'dist/main.js']);
    expect(runtime.map((i) => i.args).join('\n')).not.toMatch(/\btsx\b/);
    const copyNpmrc = runtime.findIndex((i) => i.op === 'COPY' && /\.npmrc/.test(i.args));
    const ci = runtime.findIndex((i) => i.op === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args));
    expect(copyNpmrc).toBeGreaterThanOrEqual(0);
    expect(ci).toBeGreaterThan(copyNpmrc);
    expect(runtime.some((i) => i.op === 'COPY' && /--from=build\b.*dist/.test(i.args))).toBe(true);
    const build = stages.find((s) => /\bAS build$/i.test(s[0]!.args))!;
    expect(build.some((i) => i.op === 'RUN' && /npm run build/.test(i.args))).toBe(true);
  });

  it('bakes an embedding model directory chosen by a build argument', () => {
    expect(runtime.some((i) => i.op === 'ARG' && i.args.startsWith('EMBEDDING_MODEL_DIR'))).toBe(true);
    expect(runtime.some((i) => i.op === 'ENV' && /EMBEDDING_MODEL=\$\{EMBEDDING_MODEL_DIR:\+/.test(i.args))).toBe(true);
  });

  it('copies into the runtime stage everything the compiled server reads, from the stage that builds it', () => {
    const copies = runtime.filter((i) => i.op === 'COPY').map((i) => {
      const words = i.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const [dest, ...sources] = words.filter((w) => !w.startsWith('--')).reverse();
      const dir = dest!.replace(/^\.\/|\/$/g, '');
      // Several sources, or a destination ending in /, land inside it under their own names.
      const lands = sources.length > 1 || dest!.endsWith('/') ? sources.map((src) => [dir, src.split('/').at(-1)].filter(Boolean).join('/')) : [dir];
      return { from, lands };
    });
    const copyOf = (path: string) => copies.find((c) => c.lands.some((l) => path === l || path.startsWith(`${l}/`)));
    for (const path of RUNTIME_PATHS) expect(copyOf(path), path).toBeDefined();
    // The bundles come from the stage that runs their build script.
    const stageRuns = (name: string | undefined, script: string) => stages.find((st) => new RegExp(`\\bAS ${name}$`, 'i').test(st[0]!.args))?.some((i) => i.op === 'RUN' && i.args.includes(script));
    expect(stageRuns(copyOf('widget/dist')!.from, 'build-widget.mjs')).toBe(true);
    expect(stageRuns(copyOf('agent-console/dist')!.from, 'build-console.mjs')).toBe(true);
    expect(stageRuns(copyOf('dist')!.from, 'npm run build')).toBe(true);
  });

  it('gives the build stage every script `npm run build` runs (the analytics page bundle is written into dist/)', () => {
    const scripts = [...pkg.scripts.build!.matchAll(/node (scripts\/[\w.-]+)/g)].map((m) => m[1]!);
    expect(scripts).toContain('scripts/build-analytics.mjs');
    const build = stages.find((st) => /\bAS build$/i.test(st[0]!.args))!;
    const copied = build.filter((i) => i.op === 'COPY').map((i) => i.args).join('\n');
    for (const script of scripts) expect(copied, script).toContain(script);
  });

  it('keeps every path the server writes under the data volume', () => {
    const env = Object.fromEntries(runtime.filter((i) => i.op === 'ENV').flatMap((i) => [...i.args.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])));
    const volume = runtime.find((i) => i.op === 'VOLUME')!.args;
    for (const name of ['DATA_DIR', 'HANDOFF_DATA_DIR', 'EMBEDDING_CACHE_DIR']) expect(env[name]?.startsWith(volume), name).toBe(true);
  });

  it('sets only variables the configuration knows', () => {
    const names = runtime.filter((i) => i.op === 'ENV').flatMap((i) => envNames(i.args));
    expect(names.length).toBeGreaterThan(2);
    expect(names.filter((n) => !CONFIG_NAMES.includes(n))).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  it('runs two assistant instances sharing Redis, with TRUST_PROXY set', () => {
    expect(assistants.length).toBe(2);
    for (const [, s] of assistants) {
      expect(s.environment?.REDIS_URL).toMatch(/^redis:\/\/redis:\d+$/);
      expect(s.environment?.TRUST_PROXY).toBeTruthy();
      expect(s.environment?.TRUST_PROXY).not.toBe('true'); // only the proxy's address, not every client
      expect(s.ports ?? []).toEqual([]); // reached through the proxy only
      expect(s.healthcheck?.disable).not.toBe(true);
    }
  });

  it('passes only variables the configuration knows', () => {
    const names = assistants.flatMap(([, s]) => Object.keys(s.environment ?? {}));
    expect(names).toContain('DATA_KEY');
    expect([...new Set(names.filter((n) => !CONFIG_NAMES.includes(n)))]).toEqual([]);
  });

  it('gives each instance its own data volume', () => {
    const dataVolumes = assistants.map(([, s]) => (s.volumes ?? []).find((v) => v.endsWith(':/data'))?.split(':')[0]);
    expect(new Set(dataVolumes).size).toBe(2);
    for (const v of dataVolumes) expect(compose.volumes).toHaveProperty(v!);
  });

  it('keeps Redis on an AOF-persisted volume', () => {
    const redis = compose.services.redis!;
    expect(redis.command?.join(' ')).toMatch(/--appendonly yes/);
    const vol = (redis.volumes ?? []).find((v) => v.endsWith(':/data'))?.split(':')[0];
    expect(compose.volumes).toHaveProperty(vol!);
  });

  it('puts Caddy in front, round-robin over both instances, with the proxy address the instances trust', () => {
    const proxy = Object.values(compose.services).find((s) => s.image?.startsWith('caddy'))!;
    expect(proxy.volumes?.some((v) => v.startsWith('./deploy/Caddyfile:'))).toBe(true);
    for (const [name] of assistants) expect(caddyfile).toContain(`${name}:3000`);
    expect(caddyfile).toMatch(/lb_policy round_robin/);
    expect(caddyfile).toMatch(/health_uri \/readyz/);
    const raw = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: { proxy: { networks: Record<string, { ipv4_address: string }> } } };
    const proxyIp = Object.values(raw.services.proxy.networks)[0]!.ipv4_address;
    for (const [, s] of assistants) expect(s.environment?.TRUST_PROXY).toBe(proxyIp);
  });
});

describe('package scripts', () => {
  it('builds with esbuild, and tsx is a development tool only', () => {
    expect(pkg.scripts.build).toMatch(/\besbuild\b.*--outdir=dist/);
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.devDependencies).toHaveProperty('tsx');
  });
});
