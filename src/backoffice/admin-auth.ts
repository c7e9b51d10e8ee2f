import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/index.js';
import { bearerMatches, sameSecret } from './signature.js';

/** Name of the cookie the analytics page may carry the admin token in. */
export const ADMIN_COOKIE = 'wsa_admin';

/**
 * A preHandler accepting BACKOFFICE_ADMIN_TOKEN as `Authorization: Bearer`, or (for pages opened in a browser)
 * the `wsa_admin` cookie. Until the agent console's login exists this token guards the admin routes.
 */
export function requireAdmin(token: string) {
  return async (req: FastifyRequest): Promise<void> => {
    if (bearerMatches(req.headers.authorization, token)) return;
    if (sameSecret(cookieValue(req.headers.cookie, ADMIN_COOKIE), token)) return;
    throw new AppError('ADMIN_UNAUTHORIZED');
  };
}

/** One cookie's value from a Cookie header. */
export function cookieValue(header: unknown, name: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) {
      try {
        return decodeURIComponent(v.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
