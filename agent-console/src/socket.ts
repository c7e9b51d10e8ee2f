/** The console socket: reconnects with backoff and tells the caller to resync after every (re)connect. */
export class ConsoleSocket {
  private ws?: WebSocket;
  private attempt = 0;
  private stopped = false;
  constructor(
    private readonly onEvent: (e: any) => void,
    private readonly onOpen: () => void,
    private readonly onState: (up: boolean) => void,
    private readonly onEnded: () => void = () => {},
  ) {}

  connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/agent/socket`);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.onState(true);
      this.onOpen();
    };
    ws.onmessage = (m) => {
      try {
        this.onEvent(JSON.parse(String(m.data)));
      } catch {
        // a frame that is not JSON is ignored
      }
    };
    ws.onclose = (ev) => {
      this.onState(false);
      if (this.stopped) return;
      // The server ended the session (logout elsewhere, expiry): log in again instead of retrying.
      if (ev.code === 4401) {
        this.stopped = true;
        return this.onEnded();
      }
      const delay = Math.min(10_000, 500 * 2 ** this.attempt++) + Math.random() * 300;
      setTimeout(() => this.connect(), delay);
    };
  }

  send(e: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(e));
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }
}
