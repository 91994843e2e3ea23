import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/** A Lua script run with EVALSHA, falling back to EVAL when Redis does not know it (yet). */
export class LuaScript {
  readonly sha: string

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex')
  }

  /**
   * @example
   * const reply = await PUBLISH_SCRIPT.run(redis, [metaKey, histKey], ['1', '100'])
   */
  async run(client: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
      return client.eval(this.source, keys.length, ...keys, ...args)
    }
  }
}

/** Redis server time in ms (scripts use it so node clocks never matter for expiry). */
const NOW_MS = `local __t = redis.call('TIME')
local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)`

/**
 * Publishes a batch atomically. For each input: idempotency check, epoch creation when the
 * meta hash is missing (the old history goes with it), seq INCR, history append + trim,
 * expiries, idempotency record and PUBLISH.
 *
 * First, when a rate is given, the app's cluster-wide token bucket (`rate` tokens a second,
 * holding one second's worth, by Redis time) must have `n` tokens, or nothing is published.
 *
 * ARGV: n, historySize, historyTtlSeconds, idempotencyMs, rate (0: none), then per input 6 values:
 *   hasId ('1'|'0'), candidate epoch, pub/sub channel, JSON head (up to `"seq":`), JSON tail (after epoch),
 *   pub/sub prefix ('' or `x<JSON session id>\n`: the session the message is not delivered to).
 * KEYS: the app's rate bucket, then per input: meta, hist, and idem when hasId.
 * Reply: flat list of (duplicate '1'|'0', message JSON) per input; or ('rate', seconds to wait).
 */
export const PUBLISH_SCRIPT = new LuaScript(`
local n = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local idemMs = tonumber(ARGV[4])
local rate = tonumber(ARGV[5])
if rate > 0 then
  ${NOW_MS}
  local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
  local tokens = tonumber(b[1]) or rate
  local at = tonumber(b[2]) or now
  tokens = math.min(rate, tokens + math.max(0, now - at) * rate / 1000)
  if tokens < n then
    return {'rate', tostring(math.max(1, math.ceil((n - tokens) / rate)))}
  end
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - n), 'at', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil(1000 * n / rate) + 2000)
end
local out = {}
local k = 2
local a = 6
for i = 1, n do
  local meta, hist = KEYS[k], KEYS[k + 1]
  k = k + 2
  local idem = false
  if ARGV[a] == '1' then
    idem = KEYS[k]
    k = k + 1
  end
  local cand, pubch, head, tail, pfx = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  a = a + 6
  local first = false
  if idem then first = redis.call('GET', idem) end
  if first then
    out[#out + 1] = '1'
    out[#out + 1] = first
  else
    local epoch = redis.call('HGET', meta, 'epoch')
    if not epoch then
      epoch = cand
      redis.call('DEL', hist)
      redis.call('HSET', meta, 'epoch', epoch, 'seq', 0)
    end
    local seq = redis.call('HINCRBY', meta, 'seq', 1)
    redis.call('HSET', meta, 'ttl', ttl)
    local json = head .. seq .. ',"epoch":"' .. epoch .. '"' .. tail
    if size > 0 then
      redis.call('RPUSH', hist, json)
      redis.call('LTRIM', hist, -size, -1)
      redis.call('EXPIRE', hist, ttl)
    else
      redis.call('DEL', hist)
    end
    redis.call('EXPIRE', meta, ttl)
    if idem then redis.call('SET', idem, json, 'PX', idemMs) end
    redis.call('PUBLISH', pubch, pfx .. json)
    out[#out + 1] = '0'
    out[#out + 1] = json
  end
end
return out
`)

/**
 * Reads a channel's position (creating its epoch when missing) and a slice of its history.
 * The history list always holds the gap-free seqs (seq - len + 1 .. seq) of the current epoch.
 *
 * KEYS: meta, hist. ARGV: candidate epoch, default ttl (s), mode, a, b.
 * Modes: 'pos' (no history); 'latest' (last a); 'after' (at most b after seq a);
 *        'since' (the entries after seq a when at most b were missed); 'all'.
 * Reply: epoch, seq, ttl, then message JSONs oldest first.
 */
export const READ_SCRIPT = new LuaScript(`
local meta, hist = KEYS[1], KEYS[2]
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', hist)
  redis.call('HSET', meta, 'epoch', epoch, 'seq', 0, 'ttl', ARGV[2])
  redis.call('EXPIRE', meta, ARGV[2])
end
local seq = tonumber(redis.call('HGET', meta, 'seq') or '0')
local ttl = redis.call('HGET', meta, 'ttl') or ARGV[2]
local out = {epoch, tostring(seq), ttl}
local mode = ARGV[3]
local items = {}
if mode == 'latest' then
  local limit = tonumber(ARGV[4])
  if limit > 0 then items = redis.call('LRANGE', hist, -limit, -1) end
elseif mode == 'after' then
  local after, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
  local len = redis.call('LLEN', hist)
  local start = after - seq + len
  if start < 0 then start = 0 end
  if limit > 0 and start < len then items = redis.call('LRANGE', hist, start, start + limit - 1) end
elseif mode == 'since' then
  local since, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
  local missed = seq - since
  if missed > 0 and missed <= limit then items = redis.call('LRANGE', hist, -missed, -1) end
elseif mode == 'all' then
  items = redis.call('LRANGE', hist, 0, -1)
end
for _, v in ipairs(items) do out[#out + 1] = v end
return out
`)

/**
 * Adds (or re-asserts) a connection's presence and files it under its node (whose lease, not
 * the entry, expires: no per-connection heartbeat). Publishes `join` when the clientId had no
 * connection on the channel.
 *
 * KEYS: pres hash, count hash, the node's entry set.
 * ARGV: connectionId, member JSON, clientId, (unused), entry, pub/sub channel, event prefix.
 * Reply: 1 when a join was published.
 */
export const PRESENCE_ADD_SCRIPT = new LuaScript(`
local pres, counts, owned = KEYS[1], KEYS[2], KEYS[3]
local conn, member, cid = ARGV[1], ARGV[2], ARGV[3]
redis.call('SADD', owned, ARGV[5])
local prev = redis.call('HGET', pres, conn)
if prev then
  local pcid = cjson.decode(prev).clientId
  if pcid == cid then
    redis.call('HSET', pres, conn, member)
    return 0
  end
  redis.call('HDEL', pres, conn)
  if redis.call('HINCRBY', counts, pcid, -1) <= 0 then
    redis.call('HDEL', counts, pcid)
    redis.call('PUBLISH', ARGV[6], 'p' .. ARGV[7] .. 'leave","member":' .. prev .. '}')
  end
end
redis.call('HSET', pres, conn, member)
if redis.call('HINCRBY', counts, cid, 1) == 1 then
  redis.call('PUBLISH', ARGV[6], 'p' .. ARGV[7] .. 'join","member":' .. member .. '}')
  return 1
end
return 0
`)

/**
 * Removes a connection's presence; publishes `leave` when it was the clientId's last connection.
 * With ARGV[5] = '1' it only removes it while its node's lease has run out (the sweep of a dead
 * node: a node that came back keeps its entries).
 *
 * KEYS: pres hash, count hash, the node's entry set, node lease zset. ARGV: connectionId, entry,
 * pub/sub channel, event prefix, onlyDead, nodeId. Reply: 1 when a leave was published.
 */
export const PRESENCE_REMOVE_SCRIPT = new LuaScript(`
${NOW_MS}
local pres, counts, owned, leases = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if ARGV[5] == '1' then
  local lease = redis.call('ZSCORE', leases, ARGV[6])
  if lease and tonumber(lease) > now then return 0 end
end
redis.call('SREM', owned, ARGV[2])
local v = redis.call('HGET', pres, ARGV[1])
if not v then return 0 end
redis.call('HDEL', pres, ARGV[1])
local cid = cjson.decode(v).clientId
if redis.call('HINCRBY', counts, cid, -1) <= 0 then
  redis.call('HDEL', counts, cid)
  redis.call('PUBLISH', ARGV[3], 'p' .. ARGV[4] .. 'leave","member":' .. v .. '}')
  return 1
end
return 0
`)

/**
 * Renews a node's presence lease (one command per node and heartbeat, whatever its connection
 * count). KEYS: node lease zset. ARGV: nodeId, lease (ms). Reply: 1 when the node had no lease
 * (first start, a Redis that lost its data, or a node the others swept as dead): its entries
 * must be asserted again.
 */
export const PRESENCE_LEASE_SCRIPT = new LuaScript(`
${NOW_MS}
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
`)

/** Nodes whose presence lease ran out (by Redis time). KEYS: node lease zset. ARGV: max count. */
export const PRESENCE_DEAD_NODES_SCRIPT = new LuaScript(`
${NOW_MS}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
`)

/**
 * Forgets a dead node once its entry set is empty (and its lease is still out).
 * KEYS: node lease zset, the node's entry set. ARGV: nodeId. Reply: 1 when forgotten.
 */
export const PRESENCE_FORGET_NODE_SCRIPT = new LuaScript(`
${NOW_MS}
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
if lease and tonumber(lease) > now then return 0 end
if redis.call('SCARD', KEYS[2]) > 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`)
