import { XMLParser } from 'fast-xml-parser';

/** A WeChat push: the flat fields of its `<xml>` root, all as strings. */
export type WechatFields = Record<string, string>;

/** Thrown for XML that is malformed, hostile (DOCTYPE, entities) or not a WeChat message. */
export class WechatXmlError extends Error {
  override readonly name = 'WechatXmlError';
}

// No entity or DOCTYPE processing, no type coercion (MsgId is a 64-bit number, openids must stay text).
const parser = new XMLParser({
  processEntities: false,
  htmlEntities: false,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
});

const MAX_FIELDS = 64;

/**
 * Parses one WeChat push. A DOCTYPE or ENTITY declaration is refused before parsing (billion laughs, XXE);
 * the root must be `<xml>` with flat text fields.
 */
export function parseWechatXml(body: string): WechatFields {
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw new WechatXmlError('DOCTYPE and entity declarations are not accepted');
  let doc: unknown;
  try {
    doc = parser.parse(body, true);
  } catch (err) {
    throw new WechatXmlError('malformed XML', { cause: err });
  }
  const root = (doc as { xml?: unknown } | null)?.xml;
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw new WechatXmlError('no <xml> root element');
  const entries = Object.entries(root as Record<string, unknown>);
  if (entries.length > MAX_FIELDS) throw new WechatXmlError('too many fields');
  const fields: WechatFields = {};
  for (const [k, v] of entries) {
    // Nested elements (e.g. a menu's ScanCodeInfo) are not used; only text fields are kept.
    if (typeof v === 'string') fields[k] = v;
  }
  return fields;
}

/** Text safe inside CDATA: "]]>" split across two sections, characters XML 1.0 forbids removed. */
export function cdata(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
  return `<![CDATA[${clean.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}

/** Builds a passive reply `<xml>`: string values in CDATA, numbers as they are. */
export function buildXml(fields: Record<string, string | number>): string {
  const inner = Object.entries(fields)
    .map(([k, v]) => `<${k}>${typeof v === 'number' ? String(Math.trunc(v)) : cdata(v)}</${k}>`)
    .join('');
  return `<xml>${inner}</xml>`;
}
