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
 * ARGV: n, historySize, historyTtlSeconds, idempotencyMs, then per input 6 values:
 *   hasId ('1'|'0'), candidate epoch, pub/sub channel, JSON head (up to `"seq":`), JSON tail (after epoch),
 *   pub/sub prefix ('' or `x<JSON session id>\n`: the session the message is not delivered to).
 * KEYS per input: meta, hist, and idem when hasId.
 * Reply: flat list of (duplicate '1'|'0', message JSON) per input.
 */
export const PUBLISH_SCRIPT = new LuaScript(`
local n = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local idemMs = tonumber(ARGV[4])
local out = {}
local k = 1
local a = 5
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
 * Adds (or re-asserts, for heartbeats) a connection's presence and sets its expiry.
 * Publishes `join` when the clientId had no connection on the channel.
 *
 * KEYS: pres hash, count hash, expiry zset.
 * ARGV: connectionId, member JSON, clientId, ttl (ms), expiry entry, pub/sub channel, event prefix.
 * Reply: 1 when a join was published.
 */
export const PRESENCE_ADD_SCRIPT = new LuaScript(`
${NOW_MS}
local pres, counts, expiry = KEYS[1], KEYS[2], KEYS[3]
local conn, member, cid = ARGV[1], ARGV[2], ARGV[3]
redis.call('ZADD', expiry, now + tonumber(ARGV[4]), ARGV[5])
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
 * With ARGV[5] = '1' it only removes an entry whose expiry has passed (the sweep of dead nodes).
 *
 * KEYS: pres hash, count hash, expiry zset. ARGV: connectionId, expiry entry, pub/sub channel,
 * event prefix, onlyExpired. Reply: 1 when a leave was published.
 */
export const PRESENCE_REMOVE_SCRIPT = new LuaScript(`
${NOW_MS}
local pres, counts, expiry = KEYS[1], KEYS[2], KEYS[3]
if ARGV[5] == '1' then
  local score = redis.call('ZSCORE', expiry, ARGV[2])
  if score and tonumber(score) > now then return 0 end
end
redis.call('ZREM', expiry, ARGV[2])
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

/** Presence entries whose expiry passed (by Redis time). KEYS: expiry zset. ARGV: max count. */
export const PRESENCE_EXPIRED_SCRIPT = new LuaScript(`
${NOW_MS}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
`)
