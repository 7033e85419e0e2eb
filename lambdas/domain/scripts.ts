import type { RedisClient } from '../shared/redis';

/**
 * Lua scripts that make each single-key operation one atomic round trip. An entry is a Redis string
 * `<version>:<createdAtMs>:<updatedAtMs>:<value JSON>` (see docs/storage.md), so the version, timestamps and value
 * change together, and the key's TTL is set in the same command.
 */
export const scripts = {
  /** KEYS: entry, stats hash. ARGV: touch TTL in ms or ''. Returns [raw, pttl] or nil; counts the hit or miss. */
  skycacheGet: {
    numberOfKeys: 2,
    lua: `
local raw = redis.call('GET', KEYS[1])
if not raw then
  redis.call('HINCRBY', KEYS[2], 'misses', 1)
  return false
end
redis.call('HINCRBY', KEYS[2], 'hits', 1)
if ARGV[1] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {raw, redis.call('PTTL', KEYS[1])}
`,
  },
  /**
   * KEYS: entry. ARGV: value JSON, TTL ms, now ms. Bumps the version by one, keeps createdAt across overwrites.
   * Returns [version, createdAtMs, existed (0/1)].
   */
  skycacheSet: {
    numberOfKeys: 1,
    lua: `
local old = redis.call('GET', KEYS[1])
local version, created = 0, ARGV[3]
if old then
  local v, c = string.match(old, '^(%d+):(%d+):')
  if v then version = tonumber(v); created = c end
end
version = version + 1
redis.call('SET', KEYS[1], string.format('%d', version) .. ':' .. created .. ':' .. ARGV[3] .. ':' .. ARGV[1], 'PX', ARGV[2])
return {version, created, old and 1 or 0}
`,
  },
  /**
   * KEYS: entry. ARGV: integer increment, TTL ms ('' keeps the entry's TTL), default TTL ms (for a new entry), now ms.
   * A counter is an entry whose value is a JSON integer; a missing one starts at 0. Refuses, changing nothing, an
   * entry that does not hold an integer (SKYCACHE_NOT_INTEGER) and a result outside ±(2^53-1) (SKYCACHE_OVERFLOW).
   * Returns [value, version, createdAtMs, existed (0/1), pttl].
   */
  skycacheIncrement: {
    numberOfKeys: 1,
    lua: `
local old = redis.call('GET', KEYS[1])
local version, created, value = 0, ARGV[4], 0
if old then
  local v, c, json = string.match(old, '^(%d+):(%d+):%d+:(.*)$')
  if not v or not string.match(json, '^%-?%d+$') then return redis.error_reply('SKYCACHE_NOT_INTEGER') end
  version = tonumber(v); created = c; value = tonumber(json)
end
local nextValue = value + tonumber(ARGV[1])
if math.abs(nextValue) > 9007199254740991 then return redis.error_reply('SKYCACHE_OVERFLOW') end
version = version + 1
local text = string.format('%d', nextValue)
local stored = string.format('%d', version) .. ':' .. created .. ':' .. ARGV[4] .. ':' .. text
if ARGV[2] ~= '' then redis.call('SET', KEYS[1], stored, 'PX', ARGV[2])
elseif old then redis.call('SET', KEYS[1], stored, 'KEEPTTL')
else redis.call('SET', KEYS[1], stored, 'PX', ARGV[3]) end
return {text, version, created, old and 1 or 0, redis.call('PTTL', KEYS[1])}
`,
  },
} as const;

export type ScriptName = keyof typeof scripts;

type ScriptCommands = {
  [K in ScriptName]: (...args: (string | number)[]) => Promise<unknown>;
};

const defined = new WeakSet<object>();
/** The client with the scripts registered as commands (EVALSHA, falling back to EVAL once per node). */
export function withScripts(client: RedisClient): RedisClient & ScriptCommands {
  if (!defined.has(client)) {
    for (const [name, def] of Object.entries(scripts)) client.defineCommand(name, def);
    defined.add(client);
  }
  return client as RedisClient & ScriptCommands;
}
