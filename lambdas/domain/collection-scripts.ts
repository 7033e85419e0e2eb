import { scriptRegistry } from './script-registry';

/**
 * Lua scripts behind the list, set, hash and sorted-set operations (see docs/data-structures.md). Each touches one
 * key, so it runs in that key's cluster slot and can never raise CROSSSLOT; each is one atomic round trip.
 *
 * Every script first checks the key's type and refuses, before writing anything, with
 * `WRONGTYPE skycache actual=<type>` so the 409 can name the actual type without a second round trip.
 *
 * Scripts that may create the collection take ARGV[1] = TTL in ms to set ('' = keep the current one),
 * ARGV[2] = default TTL in ms (applied only when this call created the key), ARGV[3] = the collection's size cap;
 * their own arguments follow. They refuse with `SKYCACHE_FULL <size>` when the cap would be passed, again before
 * writing. They return the key's PTTL after the write (-2 when nothing exists, e.g. an XX add on a missing key).
 */
const guard = (expected: string) => `
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'none' and kind ~= ${expected} then return redis.error_reply('WRONGTYPE skycache actual=' .. kind) end
local existed = kind ~= 'none'
`;

/**
 * The start of a script that only reads: flagged `no-writes`, so any replica runs it (and a full cache under
 * noeviction still does); registered `readOnly`, so a cluster client that reads from replicas sends it to one.
 */
const readOnlyGuard = (expected: string) => `#!lua flags=no-writes${guard(expected)}`;

const writing = (type: string) => `${guard(`'${type}'`)}
local cap = tonumber(ARGV[3])
local function settle()
  if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
  if ARGV[1] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[1])
  elseif not existed then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return redis.call('PTTL', KEYS[1])
end
local function full(size) return redis.error_reply('SKYCACHE_FULL ' .. size) end
local created = existed and 0 or 1
`;

export const collectionScripts = {
  /** ARGV[1]: the type the key must have. Returns 1 when a key was removed, 0 when none was there. */
  collectionDelete: {
    numberOfKeys: 1,
    lua: `${guard('ARGV[1]')}
if not existed then return 0 end
redis.call('UNLINK', KEYS[1])
return 1
`,
  },

  /** ARGV[4]: 'left' | 'right', ARGV[5..]: values. Returns [size, created, pttl]. */
  listPush: {
    numberOfKeys: 1,
    lua: `${writing('list')}
local size = redis.call('LLEN', KEYS[1])
local n = #ARGV - 4
if size + n > cap then return full(size + n) end
size = redis.call(ARGV[4] == 'left' and 'LPUSH' or 'RPUSH', KEYS[1], unpack(ARGV, 5))
return {size, created, settle()}
`,
  },
  /**
   * ARGV: end, count, byte budget. Pops one value at a time and stops before the values would pass the budget (the
   * first is always popped), so a reply never grows past what a response can carry. Returns [values, size].
   */
  listPop: {
    numberOfKeys: 1,
    lua: `${guard(`'list'`)}
if not existed then return {{}, 0} end
local index = ARGV[1] == 'left' and 0 or -1
local pop = ARGV[1] == 'left' and 'LPOP' or 'RPOP'
local values, total, budget = {}, 0, tonumber(ARGV[3])
for i = 1, tonumber(ARGV[2]) do
  local v = redis.call('LINDEX', KEYS[1], index)
  if not v or (#values > 0 and total + #v > budget) then break end
  redis.call(pop, KEYS[1])
  total = total + #v
  values[#values + 1] = v
end
return {values, redis.call('LLEN', KEYS[1])}
`,
  },
  /** ARGV: start, stop. Returns [values, size, pttl] or nil when there is no list. */
  listRange: {
    numberOfKeys: 1,
    readOnly: true,
    lua: `${readOnlyGuard(`'list'`)}
if not existed then return false end
return {redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2]), redis.call('LLEN', KEYS[1]), redis.call('PTTL', KEYS[1])}
`,
  },
  /** ARGV: start, stop. Returns the size after trimming. */
  listTrim: {
    numberOfKeys: 1,
    lua: `${guard(`'list'`)}
if not existed then return 0 end
redis.call('LTRIM', KEYS[1], ARGV[1], ARGV[2])
return redis.call('LLEN', KEYS[1])
`,
  },

  /** ARGV[4..]: members. Returns [added, size, created, pttl]. */
  setAdd: {
    numberOfKeys: 1,
    lua: `${writing('set')}
local size = redis.call('SCARD', KEYS[1])
if size + #ARGV - 3 > cap then
  local fresh, seen = 0, {}
  for i = 4, #ARGV do
    local m = ARGV[i]
    if not seen[m] then
      seen[m] = true
      if redis.call('SISMEMBER', KEYS[1], m) == 0 then fresh = fresh + 1 end
    end
  end
  if size + fresh > cap then return full(size + fresh) end
end
local added = redis.call('SADD', KEYS[1], unpack(ARGV, 4))
return {added, size + added, created, settle()}
`,
  },
  /** ARGV: members. Returns [removed, size]. */
  setRemove: {
    numberOfKeys: 1,
    lua: `${guard(`'set'`)}
if not existed then return {0, 0} end
local removed = redis.call('SREM', KEYS[1], unpack(ARGV))
return {removed, redis.call('SCARD', KEYS[1])}
`,
  },
  /** Returns [members, pttl] or nil when there is no set. */
  setMembers: {
    numberOfKeys: 1,
    readOnly: true,
    lua: `${readOnlyGuard(`'set'`)}
if not existed then return false end
return {redis.call('SMEMBERS', KEYS[1]), redis.call('PTTL', KEYS[1])}
`,
  },
  /** ARGV: count, byte budget (as for listPop: a member that would pass it is put back). Returns [members, size]. */
  setPop: {
    numberOfKeys: 1,
    lua: `${guard(`'set'`)}
if not existed then return {{}, 0} end
local members, total, budget = {}, 0, tonumber(ARGV[2])
for i = 1, tonumber(ARGV[1]) do
  local m = redis.call('SPOP', KEYS[1])
  if not m then break end
  if #members > 0 and total + #m > budget then
    redis.call('SADD', KEYS[1], m)
    break
  end
  total = total + #m
  members[#members + 1] = m
end
return {members, redis.call('SCARD', KEYS[1])}
`,
  },

  /** ARGV[4..]: field, value pairs. Returns [added, size, created, pttl]. */
  hashSet: {
    numberOfKeys: 1,
    lua: `${writing('hash')}
local size = redis.call('HLEN', KEYS[1])
if size + (#ARGV - 3) / 2 > cap then
  local fresh = 0
  for i = 4, #ARGV, 2 do
    if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then fresh = fresh + 1 end
  end
  if size + fresh > cap then return full(size + fresh) end
end
local added = redis.call('HSET', KEYS[1], unpack(ARGV, 4))
return {added, size + added, created, settle()}
`,
  },
  /** Returns [flat field/value list, pttl] or nil when there is no hash. */
  hashGetAll: {
    numberOfKeys: 1,
    readOnly: true,
    lua: `${readOnlyGuard(`'hash'`)}
if not existed then return false end
return {redis.call('HGETALL', KEYS[1]), redis.call('PTTL', KEYS[1])}
`,
  },
  /** ARGV: fields. Returns [removed, size]. */
  hashRemove: {
    numberOfKeys: 1,
    lua: `${guard(`'hash'`)}
if not existed then return {0, 0} end
local removed = redis.call('HDEL', KEYS[1], unpack(ARGV))
return {removed, redis.call('HLEN', KEYS[1])}
`,
  },
  /**
   * ARGV[4]: field, ARGV[5]: integer increment. Refuses (SKYCACHE_NOT_INTEGER, SKYCACHE_OVERFLOW) a field that does
   * not hold an integer or a result outside ±(2^53-1), where JSON numbers stop being exact. Returns
   * [value, created, pttl].
   */
  hashIncrement: {
    numberOfKeys: 1,
    lua: `${writing('hash')}
local current = redis.call('HGET', KEYS[1], ARGV[4])
if not current then
  local size = redis.call('HLEN', KEYS[1])
  if size + 1 > cap then return full(size + 1) end
elseif not string.match(current, '^%-?%d+$') then
  return redis.error_reply('SKYCACHE_NOT_INTEGER')
end
local nextValue = (current and tonumber(current) or 0) + tonumber(ARGV[5])
if math.abs(nextValue) > 9007199254740991 then return redis.error_reply('SKYCACHE_OVERFLOW') end
local value = redis.call('HINCRBY', KEYS[1], ARGV[4], ARGV[5])
-- as text: integer replies near 2^53 do not survive the client's parser exactly
return {string.format('%d', value), created, settle()}
`,
  },

  /**
   * ARGV[4]: ZADD flags ('NX', 'XX', 'GT', 'LT', space separated, or ''), ARGV[5..]: score, member pairs.
   * Returns [added, updated, size, created, pttl].
   */
  zsetAdd: {
    numberOfKeys: 1,
    lua: `${writing('zset')}
local size = redis.call('ZCARD', KEYS[1])
local onlyExisting = string.find(ARGV[4], 'XX', 1, true) ~= nil
if not onlyExisting and size + (#ARGV - 4) / 2 > cap then
  local fresh, seen = 0, {}
  for i = 6, #ARGV, 2 do
    local m = ARGV[i]
    if not seen[m] then
      seen[m] = true
      if not redis.call('ZSCORE', KEYS[1], m) then fresh = fresh + 1 end
    end
  end
  if size + fresh > cap then return full(size + fresh) end
end
local args = {'ZADD', KEYS[1]}
for flag in string.gmatch(ARGV[4], '%S+') do args[#args + 1] = flag end
args[#args + 1] = 'CH'
for i = 5, #ARGV do args[#args + 1] = ARGV[i] end
local changed = redis.call(unpack(args))
local after = redis.call('ZCARD', KEYS[1])
local added = after - size
return {added, changed - added, after, created, settle()}
`,
  },
  /** ARGV: members. Returns [removed, size]. */
  zsetRemove: {
    numberOfKeys: 1,
    lua: `${guard(`'zset'`)}
if not existed then return {0, 0} end
local removed = redis.call('ZREM', KEYS[1], unpack(ARGV))
return {removed, redis.call('ZCARD', KEYS[1])}
`,
  },
  /**
   * ARGV: from, to, 'BYSCORE' or '' (by rank), '1' to reverse, '1' for scores, offset, count ('' for no LIMIT).
   * Returns [reply of ZRANGE, size, pttl] or nil when there is no sorted set.
   */
  zsetRange: {
    numberOfKeys: 1,
    readOnly: true,
    lua: `${readOnlyGuard(`'zset'`)}
if not existed then return false end
local args = {'ZRANGE', KEYS[1], ARGV[1], ARGV[2]}
if ARGV[3] ~= '' then args[#args + 1] = ARGV[3] end
if ARGV[4] == '1' then args[#args + 1] = 'REV' end
if ARGV[6] ~= '' then
  args[#args + 1] = 'LIMIT'
  args[#args + 1] = ARGV[6]
  args[#args + 1] = ARGV[7]
end
if ARGV[5] == '1' then args[#args + 1] = 'WITHSCORES' end
return {redis.call(unpack(args)), redis.call('ZCARD', KEYS[1]), redis.call('PTTL', KEYS[1])}
`,
  },
  /** ARGV: member, '1' to count from the highest score. Returns [rank, score], both nil for no such member. */
  zsetRank: {
    numberOfKeys: 1,
    readOnly: true,
    lua: `${readOnlyGuard(`'zset'`)}
if not existed then return {false, false} end
local rank = redis.call(ARGV[2] == '1' and 'ZREVRANK' or 'ZRANK', KEYS[1], ARGV[1])
return {rank, redis.call('ZSCORE', KEYS[1], ARGV[1])}
`,
  },
  /**
   * ARGV[4]: member, ARGV[5]: finite increment. Refuses (SKYCACHE_NOT_FINITE) a result that overflows to infinity.
   * Returns [score, created, pttl].
   */
  zsetIncrement: {
    numberOfKeys: 1,
    lua: `${writing('zset')}
local current = redis.call('ZSCORE', KEYS[1], ARGV[4])
if not current then
  local size = redis.call('ZCARD', KEYS[1])
  if size + 1 > cap then return full(size + 1) end
end
local nextScore = (current and tonumber(current) or 0) + tonumber(ARGV[5])
if nextScore ~= nextScore or nextScore == math.huge or nextScore == -math.huge then
  return redis.error_reply('SKYCACHE_NOT_FINITE')
end
return {redis.call('ZINCRBY', KEYS[1], ARGV[5], ARGV[4]), created, settle()}
`,
  },
} as const;

/** The client with the collection scripts registered as commands. */
export const withCollectionScripts = scriptRegistry(collectionScripts);
