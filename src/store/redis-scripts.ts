import { OUTBOX_ADD_LUA } from './redis-outbox.js';

/** Lua scripts of the Redis stores. Every write script starts with GUARD: ARGV[1] is the write's deadline in Redis milliseconds. */

const GUARD = `
local t = redis.call('TIME')
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[1]) then
  return redis.error_reply('DEADLINE the client gave up on this write')
end
`;

/** KEYS: session. ARGV: deadline, json, ttl seconds. */
export const SET_SESSION = `${GUARD}
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

/** KEYS: transcript. ARGV: deadline, ttl seconds, message JSON… Returns the new length (seq of the last message). */
export const APPEND = `${GUARD}
local n = redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return n`;

/** KEYS: app, run ('' without run). ARGV: deadline, json, ttl seconds, app key prefix. Returns the kept application's JSON. */
export const SAVE_APP = `${GUARD}
if KEYS[2] ~= '' then
  local ref = redis.call('GET', KEYS[2])
  if ref then
    local kept = redis.call('GET', ARGV[4] .. ref)
    if kept then return kept end
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], string.sub(KEYS[1], string.len(ARGV[4]) + 1), 'EX', ARGV[3]) end
return ARGV[2]`;

/**
 * One turn, atomically. KEYS: session, transcript, turns hash, then (app, run) per application, and last the outbox pending zset.
 * ARGV: deadline, session json, session ttl, transcript ttl, client message id ('' for none), app key prefix,
 * message count, messages…, then (json, ttl) per application, then (json, id) per outbox entry, then the outbox
 * hash prefix, now (ms), the outbox entry count, and last the lock ticket key ('' when not under the lock).
 * A commit whose lock lease ran out (its process stalled past the lease, another holder may be running) is refused.
 * Returns {0, first seq} for a new commit, {1, "first:count"} when the client message id was already committed.
 */
export const COMMIT = `${GUARD}
local fence = ARGV[#ARGV]
if fence ~= '' and redis.call('EXISTS', fence) == 0 then
  return redis.error_reply('LOCK_LOST the conversation lock lease ran out before the commit')
end
if ARGV[5] ~= '' then
  local done = redis.call('HGET', KEYS[3], ARGV[5])
  if done then return {1, done} end
end
local nmsg = tonumber(ARGV[7])
local a = 8 + nmsg
local k = 4
while k < #KEYS do
  local kept = false
  if KEYS[k + 1] ~= '' then
    local ref = redis.call('GET', KEYS[k + 1])
    if ref and redis.call('EXISTS', ARGV[6] .. ref) == 1 then kept = true end
  end
  if not kept then
    redis.call('SET', KEYS[k], ARGV[a], 'EX', ARGV[a + 1])
    if KEYS[k + 1] ~= '' then redis.call('SET', KEYS[k + 1], string.sub(KEYS[k], string.len(ARGV[6]) + 1), 'EX', ARGV[a + 1]) end
  end
  k = k + 2
  a = a + 2
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
local first
if nmsg > 0 then
  first = redis.call('RPUSH', KEYS[2], unpack(ARGV, 8, 7 + nmsg)) - nmsg + 1
  redis.call('EXPIRE', KEYS[2], ARGV[4])
else
  first = redis.call('LLEN', KEYS[2]) + 1
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[5], first .. ':' .. nmsg)
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
local nob = tonumber(ARGV[#ARGV - 1])
if nob > 0 then
  local pfx, due, now = ARGV[#ARGV - 3], KEYS[#KEYS], ARGV[#ARGV - 2]
  local ob = {unpack(ARGV, #ARGV - 3 - 2 * nob, #ARGV - 4)}
  ${OUTBOX_ADD_LUA}
end
return {0, first}`;

/** KEYS: attempts. ARGV: lockout ms. Counts a failure; every failure restarts the window. */
export const FAIL_ATTEMPT = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n`;

/**
 * The head of a ticket queue for `ticket`: drops dead tickets (lease expired: a crashed holder or waiter) from the
 * head, and answers 1 when `ticket` is now served, 0 while an earlier live ticket is ahead, -1 when it is not queued.
 */
const SERVED = `
local function served(queue, prefix, ticket)
  while true do
    local head = redis.call('ZRANGE', queue, 0, 0)[1]
    if not head then return -1 end
    if head == ticket then return 1 end
    if redis.call('EXISTS', prefix .. head) == 1 then return 0 end
    redis.call('ZREM', queue, head)
  end
end
`;

/** The value of the key ARGV[n] names ('' for none) when `state` is 1 (served), false otherwise: the first read of a lock holder. */
const PREFETCH = `
local function prefetch(state, key)
  if state == 1 and key ~= '' then return redis.call('GET', key) end
  return false
end
`;

/**
 * Ticket lock. KEYS: queue (sorted set of tickets), counter. ARGV: deadline, lease ms, ticket key prefix, idle ms,
 * key to read when served ('' for none). Returns {new ticket, served state as POLL_TICKET answers it, the value read}:
 * a free lock is taken, and the holder's first read done, in this one round trip.
 */
export const TAKE_TICKET = `${GUARD}${SERVED}${PREFETCH}
local n = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], n, n)
redis.call('SET', ARGV[3] .. n, '1', 'PX', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
local state = served(KEYS[1], ARGV[3], tostring(n))
return {n, state, prefetch(state, ARGV[5])}`;

/**
 * KEYS: queue. ARGV: lease ms, ticket key prefix, ticket, key to read when served ('' for none). Renews the caller's
 * ticket, drops dead tickets from the head, and answers {1, value read} when the caller is now served, {0} while an
 * earlier live ticket is ahead, {-1} when the caller's own ticket had expired.
 */
export const POLL_TICKET = `${SERVED}${PREFETCH}
if not redis.call('SET', ARGV[2] .. ARGV[3], '1', 'XX', 'PX', ARGV[1]) then
  redis.call('ZREM', KEYS[1], ARGV[3])
  return {-1, false}
end
local state = served(KEYS[1], ARGV[2], ARGV[3])
return {state, prefetch(state, ARGV[4])}`;

/** KEYS: queue, ticket key. ARGV: ticket. Leaves the queue (release or give up). */
export const DROP_TICKET = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1`;

/** KEYS: counter. ARGV: ttl seconds. The next reference number of a day. */
export const NEXT_REF = `
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return n`;

/** KEYS: key. ARGV: deadline, expected value, new value. Sets (keeping the TTL) only when the value is still the expected one. */
export const SET_IF_SAME = `${GUARD}
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
return 1`;

/** KEYS: hash. ARGV: deadline, field, expected value, new value. Sets the field only when it still holds the expected value. */
export const HSET_IF_SAME = `${GUARD}
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
return 1`;
