/**
 * JSON calls for bench:load over the benchmarks' lean keep-alive client (./http-client.ts), one pool per instance:
 * each call goes to the next instance in turn, and a network error is retried on the next one (a message carries its
 * clientMessageId, so a repeat runs nothing twice), as the round-robin proxy does.
 */
import { createHttpClient, type HttpClient } from './http-client.js';

/** One answered request. */
export interface JsonAnswer {
  status: number;
  body: any;
  /** From writing the request to the end of the response, in ms (of the last try). */
  ms: number;
}

/** Round-robin JSON calls over the cluster's instances. */
export class ClusterHttp {
  private readonly clients: HttpClient[];
  private next = 0;
  /** Network errors seen (each retried). */
  networkErrors = 0;

  constructor(instances: readonly string[], connectionsEach: number) {
    this.clients = instances.map((base) => createHttpClient(base, connectionsEach, 30_000));
  }

  /** Sends one request to the next instance, retrying network errors up to `tries` times; throws after the last. */
  async call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}, tries = 3): Promise<JsonAnswer> {
    for (let attempt = 1; ; attempt++) {
      try {
        const x = await this.clients[this.next++ % this.clients.length]!.send(method, path, body, headers);
        let parsed: unknown = x.body;
        try {
          parsed = x.body ? JSON.parse(x.body) : null;
        } catch {
          // not JSON: keep the text
        }
        return { status: x.status, body: parsed, ms: x.ms };
      } catch (err) {
        this.networkErrors++;
        if (attempt >= tries) throw err;
      }
    }
  }

  /** Closes every connection. */
  close(): void {
    for (const c of this.clients) c.close();
  }
}
