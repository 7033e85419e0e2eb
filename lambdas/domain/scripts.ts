import { createHash } from 'node:crypto';
import { LEASE_PREFIX, TAG_INDEX_PREFIX } from '../core/keyspace';
import type { RedisClient } from '../core/redis';
import { scriptText } from './change-events';
import { scriptRegistry } from './script-registry';

/**
 * Lua helpers shared by the scripts. An entry is a Redis string; the current form is
 *   `x<expiresAtMs, 15 digits>:<version>:<createdAtMs>:<updatedAtMs>:<ttlMs>:<tagsLength>:<tags JSON><value JSON>`
 * where the absolute expiry (0 for none) lets a read answer the remaining TTL from the GET alone; it has a fixed
 * width at a fixed place, so a TTL change rewrites it in place (SETRANGE) without copying the value. Still read:
 * the tags form `<version>:<createdAtMs>:<updatedAtMs>:<ttlMs>:<tagsLength>:<tags JSON><value JSON>` and the first
 * form `<version>:<createdAtMs>:<updatedAtMs>:<value JSON>` (no ttl, no tags); a read of those asks PTTL too. None
 * can be confused with another: a JSON value never starts with `x` or `<digits>:`. See docs/storage.md.
 *
 * Tag index: a sorted set per tag, members = entry Redis keys, score = expiry time in ms (`inf` for none). In a
 * cluster there is one such index per tag *per slot*, named with the entry's slot tag, so an entry and its index
 * entries change atomically in the same script; `prefix` (an ARGV) is the index name before the tag.
 * Scripts name the index keys they derive from stored tags themselves: they are always in the entry's own slot.
 */
const LUA = {
  nowMs: `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`,
  firstVersion: `
-- The version of the first write of a key's lifetime: the server clock in microseconds. Each later write adds 1,
-- and one key takes less than one write per microsecond, so a new lifetime (after a delete or an expiry) never
-- repeats a version, or an ETag, of an earlier one.
local function firstVersion()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
`,
  parse: `
-- The header of each stored form: prefix length, version, createdAtMs, updatedAtMs, ttlMs, tags length (the
-- first form: nil for ttl and tags length). Nil when raw is no entry.
-- The grace form (issue 13) also answers its grace ms (7th).
local function header(raw)
  local e, v, c, u, t, n = string.match(raw, '^x(%d+):(%d+):(%d+):(%d+):(%d+):(%d+):')
  if e then return #e + #v + #c + #u + #t + #n + 7, v, c, u, t, n end
  local g
  e, g, v, c, u, t, n = string.match(raw, '^g(%d+):(%d+):(%d+):(%d+):(%d+):(%d+):(%d+):')
  if e then return #e + #g + #v + #c + #u + #t + #n + 8, v, c, u, t, n, g end
  v, c, u, t, n = string.match(raw, '^(%d+):(%d+):(%d+):(%d+):(%d+):')
  if v then return #v + #c + #u + #t + #n + 5, v, c, u, t, n end
  v, c, u = string.match(raw, '^(%d+):(%d+):(%d+):')
  if v then return #v + #c + #u + 3, v, c, u, nil, nil end
  return nil
end
-- The value's JSON text after the header (nil when raw is no entry) and the tags JSON as stored ('' for none).
local function storedParts(raw)
  local at, _, _, _, t, n = header(raw)
  if t then return string.sub(raw, at + tonumber(n) + 1), string.sub(raw, at + 1, at + tonumber(n)) end
  if at then return string.sub(raw, at + 1), '' end
  return nil, ''
end
-- version, createdAtMs (string or nil), ttlMs (number or nil), tags (table)
local function parse(raw)
  local at, v, c, _, t, n = header(raw)
  if t then
    local len = tonumber(n)
    local tags = {}
    if len > 0 then
      local ok, decoded = pcall(cjson.decode, string.sub(raw, at + 1, at + len))
      if ok and type(decoded) == 'table' then tags = decoded end
    end
    return tonumber(v), c, tonumber(t), tags
  end
  v, c = string.match(raw, '^(%d+):(%d+):')
  if v then return tonumber(v), c, nil, {} end
  return 0, nil, nil, {}
end
`,
  expiry: `
-- The entry form's absolute expiry field: 15 digits, 0 for none.
local function expiryField(ms)
  return string.format('%015d', ms)
end
-- After a TTL change, rewrites a current-form entry's expiry in place (older forms are left as they are: their
-- reads ask PTTL). pttl: the key's PTTL after the change.
local function restampExpiry(key, raw, pttl, now)
  local form = string.sub(raw, 1, 1)
  if form ~= 'x' and form ~= 'g' then return end
  redis.call('SETRANGE', key, 1, expiryField(pttl < 0 and 0 or now + pttl))
  -- The grace form's field is when the entry turns stale: the key itself lives its grace longer.
  if form == 'g' and pttl >= 0 then
    local _, _, _, _, _, _, grace = header(raw)
    redis.call('PEXPIREAT', key, string.format('%.0f', now + pttl + tonumber(grace)))
  end
end
`,
  refreshIndexExpiry: `
local function refreshIndexExpiry(idx)
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if #top == 0 then return end
  if top[2] == 'inf' then redis.call('PERSIST', idx)
  else redis.call('PEXPIREAT', idx, string.format('%.0f', tonumber(top[2]))) end
end
`,
  indexAdd: `
local function indexAdd(prefix, tags, member, score, now)
  for _, tag in ipairs(tags) do
    local idx = prefix .. tag
    redis.call('ZREMRANGEBYSCORE', idx, '-inf', '(' .. now)
    redis.call('ZADD', idx, score, member)
    refreshIndexExpiry(idx)
  end
end
`,
  indexRemove: `
local function indexRemove(prefix, tags, member, now)
  for _, tag in ipairs(tags) do
    local idx = prefix .. tag
    redis.call('ZREM', idx, member)
    redis.call('ZREMRANGEBYSCORE', idx, '-inf', '(' .. now)
    refreshIndexExpiry(idx)
  end
end
`,
  scoreOf: `
local function scoreOf(pttl, now)
  if pttl < 0 then return 'inf' end
  return string.format('%.0f', now + pttl)
end
`,
  deleteKey: `
-- Deletes one key of any type; a skycache entry also leaves its tag indexes. Returns 1 when something was there.
-- noteChange: the change-event hook (change-events.ts), a no-op unless change events are on.
local function deleteKey(key, prefix, now)
  -- A deletion ends any lease on the key (issue 13): a fill loaded before it must not put back what it removed.
  redis.call('UNLINK', '${LEASE_PREFIX}' .. string.sub(prefix, ${TAG_INDEX_PREFIX.length + 1}) .. key)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'none' then return 0 end
  local version, tags = 0, {}
  if kind == 'string' then
    local v, _, _, t = parse(redis.call('GET', key))
    version, tags = v, t
    indexRemove(prefix, tags, key, now)
  end
  redis.call('UNLINK', key)
  noteChange(key, nil, version, tags)
  return 1
end
`,
};
/**
 * The helpers a script needs, in dependency order. Each script carries only its own: ioredis sends a script's
 * whole text (EVAL) once per auto-pipeline flush, so short scripts keep every request small.
 */
function lua(helpers: (keyof typeof LUA)[], body: string): string {
  return helpers.map((h) => LUA[h]).join('') + body;
}

/**
 * Lua scripts that make each single-key operation one atomic round trip: the version, timestamps, value, TTL and
 * the entry's own tag-index members change together.
 */
export const scripts = {
  /**
   * The read that changes the expiry (a plain read is a GET, see EntryStore.get). KEYS: entry. ARGV: touch TTL in
   * ms or '', '1' to slide (re-apply the TTL of the last write), index prefix. Returns [raw, pttl] or nil.
   */
  skycacheGet: {
    numberOfKeys: 1,
    lua: lua(['nowMs', 'parse', 'expiry', 'refreshIndexExpiry', 'indexAdd'], `
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local ms = ARGV[1] or ''
if ms ~= '' or ARGV[2] == '1' then
  local _, _, ttl, tags = parse(raw)
  if ARGV[2] == '1' and ttl and ttl > 0 and redis.call('PTTL', KEYS[1]) >= 0 then ms = tostring(ttl) end
  if ms ~= '' then
    local now = nowMs()
    -- Absolute, from the same clock as the stored expiry field: PEXPIRE would count from Redis's own command time.
    redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', now + tonumber(ms)))
    restampExpiry(KEYS[1], raw, tonumber(ms), now)
    raw = redis.call('GET', KEYS[1])
    if #tags > 0 then indexAdd(ARGV[3] or '_:tag:', tags, KEYS[1], string.format('%.0f', now + tonumber(ms)), now) end
  end
end
return {raw, redis.call('PTTL', KEYS[1])}
`),
  },
  /**
   * KEYS: entry, its lease key (issue 13). ARGV: value JSON, TTL ms (or 'keep:<TTL ms>': keepTtl), now ms, condition
   * ('' | 'absent' | 'present' | expected version), tags JSON ('' for none), index prefix. Bumps the version by one (a new
   * key starts at firstVersion), keeps createdAt across overwrites, moves the key between tag indexes. Returns ['OK',
   * version, createdAtMs, existed (0/1), ms until the entry turns stale or expires (-1: never)] or, when the condition
   * fails, ['FAILED', current version or -1 when absent]. The last three ARGV (see the prelude): grace ms, lease token,
   * external version; a lease token that the lease key does not hold returns ['LEASE', the lease's pttl].
   */
  skycacheSet: {
    numberOfKeys: 2,
    lua: lua(['nowMs', 'firstVersion', 'parse', 'expiry', 'refreshIndexExpiry', 'indexAdd', 'indexRemove'], `
-- Issue 13 (leases, grace, external versions): KEYS[2] is the entry's lease key; the caller appends three ARGV
-- after the write's own, taken off here so the ARGV above keep their places: grace ms ('' or '0': none), lease
-- token ('': none), external version ('': none).
local externalVersion = table.remove(ARGV)
local leaseToken = table.remove(ARGV)
local graceMs = tonumber(table.remove(ARGV)) or 0
if leaseToken ~= '' and redis.call('GET', KEYS[2]) ~= leaseToken then return {'LEASE', redis.call('PTTL', KEYS[2])} end
-- End of the issue 13 prelude.
local old = redis.call('GET', KEYS[1])
local version, created, oldTags, oldTtl = 0, ARGV[3], {}, nil
if old then
  local v, c, ttl, t = parse(old)
  version, oldTags, oldTtl = v, t, ttl
  if c then created = c end
end
-- ARGV[4..6] may be absent (a caller of the first, 3-argument form): no condition, no tags.
local cond = ARGV[4] or ''
local prefix = ARGV[6] or '_:tag:'
local current = old and version or -1
if cond == 'absent' then
  if old then return {'FAILED', current} end
elseif cond == 'present' then
  if not old then return {'FAILED', current} end
elseif cond ~= '' then
  if not old or version ~= tonumber(cond) then return {'FAILED', current} end
end
-- Issue 13: an external version (the source of truth's) applies only above the stored one, and becomes it.
if externalVersion ~= '' then
  if old and version >= tonumber(externalVersion) then return {'FAILED', current} end
  version = tonumber(externalVersion)
elseif old then version = version + 1 else version = firstVersion() end
local tagsJson = ARGV[5] or ''
local newTags = {}
if tagsJson ~= '' then newTags = cjson.decode(tagsJson) end
local now = nowMs()
local ttlMs = ARGV[2]
local expiresAt
-- keepTtl ('keep:<ms>', issue 16): an existing entry keeps its expiry (none when persisted) and its stored TTL;
-- a new one gets <ms>. A grace-form entry's key outlives its TTL by the grace: its expiry is the stored staleAt.
local keepFor = string.match(ttlMs, '^keep:(%d+)$')
if keepFor then
  ttlMs = keepFor
  if old then
    local staleAt = string.match(old, '^g(%d+):')
    local pttl = redis.call('PTTL', KEYS[1])
    if staleAt then expiresAt = tonumber(staleAt) else expiresAt = pttl < 0 and 0 or now + pttl end
    ttlMs = string.format('%d', oldTtl or math.max(pttl, 0))
  end
end
-- end keepTtl
expiresAt = expiresAt or now + tonumber(ttlMs)
-- Issue 13: with grace, the grace form; its field is when the entry turns stale, the key lives its grace longer.
-- An entry without expiry has no grace.
local form, keyExpiresAt = 'x', expiresAt
if graceMs > 0 and expiresAt ~= 0 then form, keyExpiresAt = 'g', expiresAt + graceMs end
local graceField = form == 'g' and (string.format('%d', graceMs) .. ':') or ''
local stored = form .. expiryField(expiresAt) .. ':' .. graceField .. string.format('%d', version) .. ':' .. created .. ':' ..
  ARGV[3] .. ':' .. ttlMs .. ':' .. string.format('%d', #tagsJson) .. ':' .. tagsJson .. ARGV[1]
if expiresAt == 0 then redis.call('SET', KEYS[1], stored)
else redis.call('SET', KEYS[1], stored, 'PXAT', string.format('%d', keyExpiresAt)) end
local keep, dropped = {}, {}
for _, t in ipairs(newTags) do keep[t] = true end
for _, t in ipairs(oldTags) do if not keep[t] then dropped[#dropped + 1] = t end end
indexRemove(prefix, dropped, KEYS[1], now)
indexAdd(prefix, newTags, KEYS[1], expiresAt == 0 and 'inf' or string.format('%.0f', keyExpiresAt), now)
-- Issue 13: any write ends the key's lease; a fill with an older load is then refused.
redis.call('UNLINK', KEYS[2])
return {'OK', version, created, old and 1 or 0, expiresAt == 0 and -1 or expiresAt - now}
`),
  },
  /**
   * KEYS: entry. ARGV: expected version ('' for any, '*' for "must exist"), index prefix.
   * Returns ['OK', 1|0] or ['FAILED', current version or -1 when absent].
   */
  skycacheDelete: {
    numberOfKeys: 1,
    lua: lua(['nowMs', 'parse', 'refreshIndexExpiry', 'indexRemove', 'deleteKey'], `
if ARGV[1] ~= '' then
  local kind = redis.call('TYPE', KEYS[1])['ok']
  if kind == 'none' then return {'FAILED', -1} end
  if ARGV[1] ~= '*' then
    local version = 0
    if kind == 'string' then version = parse(redis.call('GET', KEYS[1])) end
    if version ~= tonumber(ARGV[1]) then return {'FAILED', version} end
  end
end
return {'OK', deleteKey(KEYS[1], ARGV[2], nowMs())}
`),
  },
  /**
   * KEYS: entry (any Redis type). ARGV: 'get' | 'touch' | 'persist', TTL ms (touch), index prefix.
   * Returns nil when the key does not exist, else [pttl after the change, tags JSON array].
   */
  skycacheTtl: {
    numberOfKeys: 1,
    lua: lua(['nowMs', 'parse', 'expiry', 'refreshIndexExpiry', 'indexAdd', 'scoreOf'], `
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'none' then return false end
local tags, raw = {}, nil
if kind == 'string' then
  raw = redis.call('GET', KEYS[1])
  local _, _c, _t, t = parse(raw)
  tags = t
end
local changedAt = nowMs()
-- Absolute, from the same clock as the stored expiry field: PEXPIRE would count from Redis's own command time.
if ARGV[1] == 'touch' then redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', changedAt + tonumber(ARGV[2])))
elseif ARGV[1] == 'persist' then redis.call('PERSIST', KEYS[1]) end
local pttl = redis.call('PTTL', KEYS[1])
if raw and ARGV[1] == 'touch' then restampExpiry(KEYS[1], raw, tonumber(ARGV[2]), changedAt)
elseif raw and ARGV[1] == 'persist' then restampExpiry(KEYS[1], raw, -1, changedAt) end
if ARGV[1] ~= 'get' and #tags > 0 then
  local now = nowMs()
  indexAdd(ARGV[3], tags, KEYS[1], scoreOf(pttl, now), now)
end
local tagsJson = '[]'
if #tags > 0 then tagsJson = cjson.encode(tags) end
return {pttl, tagsJson}
`),
  },
  /**
   * Cluster only. KEYS: a tag's slot directory (which slots hold an index for the tag). ARGV: now ms, then pairs of
   * slot and score (expiry ms or 'inf'). Adds or raises each slot's score, prunes slots whose score passed, and
   * expires the directory with its last member. Returns the directory's size.
   */
  skycacheTagSlots: {
    numberOfKeys: 1,
    lua: `
local dir = KEYS[1]
redis.call('ZREMRANGEBYSCORE', dir, '-inf', '(' .. ARGV[1])
for i = 2, #ARGV, 2 do redis.call('ZADD', dir, 'GT', ARGV[i + 1], ARGV[i]) end
local top = redis.call('ZRANGE', dir, -1, -1, 'WITHSCORES')
if #top > 0 then
  if top[2] == 'inf' then redis.call('PERSIST', dir)
  else redis.call('PEXPIREAT', dir, string.format('%.0f', tonumber(top[2]))) end
end
return redis.call('ZCARD', dir)
`,
  },
  /**
   * KEYS: entry. ARGV: integer increment, TTL ms ('' keeps the entry's TTL), default TTL ms (for a new entry), now ms,
   * tag index prefix. Keeps the entry's tags (moving their index scores when the TTL changes).
   * A counter is an entry whose value is a JSON integer; a missing one starts at 0. Refuses, changing nothing, an
   * entry that does not hold an integer (SKYCACHE_NOT_INTEGER) and a result outside ±(2^53-1) (SKYCACHE_OVERFLOW).
   * Returns [value, version, createdAtMs, existed (0/1), pttl, tags JSON ('' for none)].
   */
  /**
   * A read that asks for a lease (issue 13, docs/client.md). KEYS: entry, its lease key. ARGV: lease ms, token.
   * A fresh entry is a hit and leaves the lease alone. On a miss, or an entry past its TTL within its grace
   * (stale), the caller is granted the lease unless another holds it. Returns [state ('HIT' | 'MISS' | 'STALE'),
   * raw ('' on a miss), the entry's pttl, token granted ('' when another holds the lease), lease pttl, now ms].
   */
  skycacheLease: {
    numberOfKeys: 2,
    lua: lua(['nowMs'], `
local raw = redis.call('GET', KEYS[1])
local now = nowMs()
local state = 'MISS'
if raw then
  state = 'HIT'
  local staleAt = string.match(raw, '^g(%d+):')
  if staleAt and tonumber(staleAt) > 0 and tonumber(staleAt) <= now then state = 'STALE' end
end
local pttl = raw and redis.call('PTTL', KEYS[1]) or -2
if state == 'HIT' then return {state, raw, pttl, '', -2, now} end
local token = ''
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[1]) then token = ARGV[2] end
return {state, raw or '', pttl, token, redis.call('PTTL', KEYS[2]), now}
`),
  },
  /**
   * DELETE /counters/{key} in one round trip. KEYS: the counter's entry. ARGV: index prefix. Deletes the entry (and
   * its tag-index membership, and any lease) when it holds a JSON integer; returns 1, or 0 when nothing is there.
   * Refuses, deleting nothing, an entry holding anything else (SKYCACHE_NOT_INTEGER); another Redis type answers
   * WRONGTYPE to the GET.
   */
  skycacheDeleteCounter: {
    numberOfKeys: 1,
    lua: lua(['nowMs', 'parse', 'refreshIndexExpiry', 'indexRemove', 'deleteKey'], `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local json = storedParts(raw)
if not json or not string.match(json, '^%-?%d+$') then return redis.error_reply('SKYCACHE_NOT_INTEGER') end
return deleteKey(KEYS[1], ARGV[1], nowMs())
`),
  },
  /**
   * Ends a lease its holder gives up (a loader that failed), so the next caller need not wait for it to expire.
   * KEYS: the lease key. ARGV: token. Returns 1 when the lease was this token's (and is gone), else 0.
   */
  skycacheReleaseLease: {
    numberOfKeys: 1,
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('UNLINK', KEYS[1])
return 1
`,
  },
  skycacheIncrement: {
    numberOfKeys: 1,
    lua: lua(['nowMs', 'firstVersion', 'parse', 'expiry', 'refreshIndexExpiry', 'indexAdd'], `
local old = redis.call('GET', KEYS[1])
local version, created, value, storedTtl, tags, tagsJson = 0, ARGV[4], 0, nil, {}, ''
if old then
  -- The value JSON (and the tags JSON, kept as is) sit after the header; see header for the stored forms.
  local json
  json, tagsJson = storedParts(old)
  if not json or not string.match(json, '^%-?%d+$') then return redis.error_reply('SKYCACHE_NOT_INTEGER') end
  local pc
  version, pc, storedTtl, tags = parse(old)
  created = pc or created
  value = tonumber(json)
end
local nextValue = value + tonumber(ARGV[1])
if math.abs(nextValue) > 9007199254740991 then return redis.error_reply('SKYCACHE_OVERFLOW') end
if old then version = version + 1 else version = firstVersion() end
local ttlMs = ARGV[2]
if ttlMs == '' then ttlMs = storedTtl and string.format('%d', storedTtl) or ARGV[3] end
local text = string.format('%d', nextValue)
local now = nowMs()
-- The expiry after this write: a new TTL, the one the entry has (kept), or the default for a new counter.
local pttl
if ARGV[2] ~= '' then pttl = tonumber(ARGV[2])
elseif old then pttl = redis.call('PTTL', KEYS[1])
else pttl = tonumber(ARGV[3]) end
local expiresAt = pttl < 0 and 0 or now + pttl
local stored = 'x' .. expiryField(expiresAt) .. ':' .. string.format('%d', version) .. ':' .. created .. ':' .. ARGV[4] .. ':' ..
  ttlMs .. ':' .. string.format('%d', #tagsJson) .. ':' .. tagsJson .. text
if expiresAt == 0 then redis.call('SET', KEYS[1], stored)
else redis.call('SET', KEYS[1], stored, 'PXAT', string.format('%d', expiresAt)) end
if ARGV[2] ~= '' and #tags > 0 then
  indexAdd(ARGV[5] or '_:tag:', tags, KEYS[1], string.format('%.0f', expiresAt), now)
end
return {text, version, created, old and 1 or 0, redis.call('PTTL', KEYS[1]), tagsJson}
`),
  },
} as const;


const DELETE_MANY = lua(['nowMs', 'parse', 'refreshIndexExpiry', 'indexRemove', 'deleteKey'], `
local now = nowMs()
local out = {}
for i, key in ipairs(KEYS) do out[i] = deleteKey(key, ARGV[1], now) end
return out
`);

/**
 * Scripts over a variable number of keys (all in one slot). Sent with EVALSHA/EVAL by `evalMultiKey`, not
 * defineCommand: with a per-call key count, ioredis' auto-pipelining would route by the count, not the first key.
 */
export const multiKeyScripts = {
  /** KEYS: entries of one slot. ARGV: index prefix. Deletes each; returns 1 or 0 per key. */
  skycacheDeleteMany: { lua: DELETE_MANY },
  /** skycacheDeleteMany for invalidation by keys or prefix: the same script, its change events say `invalidate`. */
  skycacheInvalidateMany: { lua: DELETE_MANY },
  /**
   * KEYS: entries of one slot. Returns per key: nil (miss), [raw, pttl (-3: read it from the entry)], or ['!TYPE', actual type] for a key of
   * another Redis type. Writes nothing (flagged no-writes, run with EVALSHA_RO): a replica can serve it.
   */
  skycacheGetMany: {
    readOnly: true,
    lua: `#!lua flags=no-writes
local out = {}
for i = 1, #KEYS do
  local raw = redis.pcall('GET', KEYS[i])
  if type(raw) == 'table' and raw['err'] then
    out[i] = {'!TYPE', redis.call('TYPE', KEYS[i])['ok']}
  elseif raw then
    -- The current form carries its expiry; older forms need the key's PTTL.
    local form = string.sub(raw, 1, 1)
    if form == 'x' or form == 'g' then out[i] = {raw, -3} else out[i] = {raw, redis.call('PTTL', KEYS[i])} end
  else
    out[i] = false
  end
end
return out
`,
  },
  /**
   * KEYS: tag indexes of one slot. ARGV: index prefix, most members to take (over all the indexes) this call.
   * Deletes the entries the indexes list (each also leaves its other tags' indexes); returns
   * [entries deleted, members still listed].
   */
  skycacheInvalidateTags: {
    lua: lua(['nowMs', 'parse', 'refreshIndexExpiry', 'indexRemove', 'deleteKey'], `
local now = nowMs()
local deleted, remaining = 0, 0
local budget = tonumber(ARGV[2])
for _, idx in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', '(' .. now)
  local members = {}
  if budget > 0 then members = redis.call('ZRANGE', idx, 0, budget - 1) end
  budget = budget - #members
  local tag = string.sub(idx, #ARGV[1] + 1)
  for _, key in ipairs(members) do
    -- A member can be stale (its entry evicted, then the key reused): delete only an entry that carries the tag.
    local carries = false
    if redis.call('TYPE', key)['ok'] == 'string' then
      local _, _c, _t, tags = parse(redis.call('GET', key))
      for _, t in ipairs(tags) do if t == tag then carries = true end end
    end
    if carries then deleted = deleted + deleteKey(key, ARGV[1], now) end
    redis.call('ZREM', idx, key)
  end
  remaining = remaining + redis.call('ZCARD', idx)
end
return {deleted, remaining}
`),
  },
} as const;


/** The client with the entry scripts registered as commands. */
export const withScripts = scriptRegistry(scripts);

const shas = new Map<string, string>();
/**
 * Runs a multi-key script with EVALSHA (routed by its first key), loading it with EVAL once per node. A script
 * flagged `readOnly` (its Lua starts `#!lua flags=no-writes`) goes as EVALSHA_RO / EVAL_RO, so a cluster client that
 * reads from replicas sends it to one and any replica accepts it.
 */
export async function evalMultiKey(
  client: RedisClient,
  name: keyof typeof multiKeyScripts,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const script: { lua: string; readOnly?: boolean } = multiKeyScripts[name];
  const lua = scriptText(name, script.lua);
  let sha = shas.get(lua);
  if (!sha) shas.set(lua, (sha = createHash('sha1').update(lua).digest('hex')));
  try {
    return await (script.readOnly ? client.evalsha_ro(sha, keys.length, ...keys, ...args) : client.evalsha(sha, keys.length, ...keys, ...args));
  } catch (e) {
    if (!String((e as Error)?.message).startsWith('NOSCRIPT')) throw e;
    return script.readOnly ? client.eval_ro(lua, keys.length, ...keys, ...args) : client.eval(lua, keys.length, ...keys, ...args);
  }
}
