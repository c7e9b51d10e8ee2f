export { KeyedQueue } from './queue.js';
export { splitMeasured, codePoints, utf8Bytes, type Measure } from './split.js';
export { MAX_USER_TEXT, repliesOf, sendOrOpen, type ChannelInput, type ChannelService } from './service.js';
