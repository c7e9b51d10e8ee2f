import type { FastifyRequest } from 'fastify';

/** Which sites may embed the widget: `*` any, otherwise a list of origins; the server's own origin always may. */
export type AllowedOrigins = '*' | readonly string[];

/** Parses WIDGET_ALLOWED_ORIGINS: `*`, or comma-separated origins (`https://www.example.com`); unset: same origin only. */
export function parseAllowedOrigins(value: string | undefined): AllowedOrigins {
  const v = value?.trim();
  if (!v) return [];
  if (v === '*') return '*';
  return v.split(',').map((o) => o.trim()).filter(Boolean).map((o) => new URL(o).origin);
}

/** The host the client asked for (behind a proxy: the forwarded host). */
function requestHost(req: FastifyRequest): string | undefined {
  const fwd = req.headers['x-forwarded-host'];
  return (typeof fwd === 'string' ? fwd.split(',')[0]!.trim() : undefined) ?? req.headers.host;
}

/** True when the request has no Origin (not a browser page), comes from the server's own origin, or from an allowed one. */
export function originAllowed(req: FastifyRequest, allowed: AllowedOrigins): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed === '*') return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.host === requestHost(req)) return true;
  return allowed.includes(parsed.origin);
}
