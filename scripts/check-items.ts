// Quick validation of knowledge/items/*.yaml against the schema (used while authoring).
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { itemSchema } from '../src/knowledge/schema.js';
let bad = 0;
for (const f of readdirSync('knowledge/items').filter((f) => f.endsWith('.yaml'))) {
  const r = itemSchema.safeParse(parse(readFileSync(`knowledge/items/${f}`, 'utf8')));
  if (!r.success) { bad++; for (const i of r.error.issues) console.log(`knowledge/items/${f}: ${i.path.join('.')}: ${i.message}`); }
  else if (r.data.id + '.yaml' !== f) { bad++; console.log(`knowledge/items/${f}: id: must match file name`); }
}
console.log(bad ? `${bad} bad files` : 'all items valid');
