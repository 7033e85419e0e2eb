import type { RedisClient } from '../shared/redis';

/**
 * Lua scripts that make each single-key operation one atomic round trip. An entry is a Redis string
 * `<version>:<createdAtMs>:<updatedAtMs>:<value JSON>` (see docs/storage.md), so the version, timestamps and value
 * change together, and the key's TTL is set in the same command.
 */
export const scripts = {
  /**
   * KEYS: entry, stats hash. ARGV: touch TTL in ms or ''. Returns [raw, pttl] or nil; counts the hit or miss.
   * The counters use pcall: under noeviction with memory full, a read still succeeds (only the count is lost).
   */
  skycacheGet: {
    numberOfKeys: 2,
    lua: `
local raw = redis.call('GET', KEYS[1])
if not raw then
  redis.pcall('HINCRBY', KEYS[2], 'misses', 1)
  return false
end
redis.pcall('HINCRBY', KEYS[2], 'hits', 1)
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
