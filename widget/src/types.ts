// The wire types are the server's own (type-only import: nothing of the server is bundled).
export type { Card, Message, QuickReply } from '../../src/core/types.js';

/** The two languages of the widget's interface and of the replies. */
export type Lang = 'zh' | 'en';

/** What a user sends: typed text or a button's postback. */
export type Outgoing = { clientMessageId: string } & ({ text: string } | { postback: string });
