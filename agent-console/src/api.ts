/** An API error as the server sends it. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

let csrf = '';

/** Remembers the CSRF token for state-changing calls. */
export function setCsrf(token: string): void {
  csrf = token;
}

/** Calls the agent API (or another console route when `path` starts with `/`) with the session cookie and the CSRF header. */
export async function api<T = any>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method === 'POST') headers['x-csrf-token'] = csrf;
  const url = path.startsWith('/') ? path : `/api/v1/agent/${path}`;
  const res = await fetch(url, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'INTERNAL', data?.error?.message ?? `HTTP ${res.status}`);
  return data as T;
}
