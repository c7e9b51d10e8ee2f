import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let parser: ((src: string) => unknown) | null = null;

/** Parses YAML; the parser is loaded on first use, since a start with every file's parse cached never needs it. */
export function parseYaml(src: string): unknown {
  parser ??= (require('yaml') as { parse: (src: string) => unknown }).parse;
  return parser(src);
}
