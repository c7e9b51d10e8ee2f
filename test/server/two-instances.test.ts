/**
 * Two instances on one Redis (stores and delivery bus under one prefix), like two processes behind a load
 * balancer: a widget socket held by instance A sees what instance B appends, and the conversation continues
 * whichever instance handles the next message.
 */
import { afterAll, expect, it } from 'vitest';
import { createWebChannel } from '../../src/channels/web/index.js';
import { redisInstances } from '../helpers/redis-instances.js';
import { Widget } from './web-helpers.js';

const cluster = await redisInstances('two instances on Redis', 'two');

cluster.suite('two instances on Redis', () => {
  const sockets: Widget[] = [];
  const instance = async () => {
    const i = await cluster.start({ bus: true, listen: true, channel: ({ service, bus }) => createWebChannel({ service, bus }) });
    return { ...i, base: i.base! };
  };

  afterAll(async () => {
    for (const s of sockets) s.close();
    await cluster.close();
  });

  it('a message sent on instance B reaches the widget socket held on instance A, and the flow continues across them', async () => {
    const [a, b] = [await instance(), await instance()];
    const res = await fetch(`${b.base}/api/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { conversationId: id, token } = await res.json();
    const widget = await Widget.open(a.base, id, token);
    sockets.push(widget);
    await widget.untilSeq(1);
    // The subscription reaches Redis asynchronously; a real widget is connected long before the next message.
    await new Promise((r) => setTimeout(r, 150));

    const post = (input: object) => fetch(`${b.base}/api/v1/conversations/${id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(input) }).then((r) => r.json());
    const started = await post({ postback: 'flow:demolition', clientMessageId: 'm1' });
    expect(started.state).toEqual({ mode: 'flow', flowId: 'demolition' });
    await widget.untilSeq(started.messages.at(-1).seq);
    expect(widget.messages.slice(1).map((m) => m.seq)).toEqual([2, ...started.messages.map((m: { seq: number }) => m.seq)]);
    expect(widget.messages.at(-1)!.text).toContain('户号');

    // The next answer goes through the socket on A: the engine state written by B is there.
    widget.send({ type: 'send', text: '1002345678', clientMessageId: 'm2' });
    await widget.until((w) => w.messages.some((m) => m.from === 'bot' && /名字/.test(m.text)));

    // An agent message appended on B reaches A's socket.
    await b.service.post(id, [{ from: 'agent', text: '我是人工客服，正在查看您的申请', author: '人工客服 小王' }]);
    await widget.until((w) => w.messages.some((m) => m.from === 'agent'));

    const all = await a.service.history(id);
    expect(widget.messages).toEqual(all);
    expect(new Set(widget.messages.map((m) => m.seq)).size).toBe(widget.messages.length);
    expect(all.find((m) => m.from === 'user' && m.seq > 2)!.text).toBe('10******78');
  });
});
