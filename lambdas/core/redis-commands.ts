/**
 * Every Redis command the service sends, and the ACL rules (ElastiCache RBAC access string) of the application user
 * built from them: the user may run these and nothing else, so a leaked password cannot FLUSHALL, CONFIG, MIGRATE,
 * RESTORE, KEYS, DEBUG or SHUTDOWN anything. lib/ puts APP_ACCESS_STRING in the template; test/redis-acl.test.ts
 * runs every route family as a redis-server user with exactly these rules and checks the ACL log stays empty.
 *
 * A feature that sends a new command adds it to its group here (the test names what is missing). Subcommands are
 * written `command|subcommand` (Redis OSS 7.0+ and Valkey 7.2+, the engines lib/config.ts allows).
 */
export const REDIS_COMMANDS = {
  /** What ioredis sends on its own: HELLO 3 with AUTH, INFO as the ready check, PING, QUIT on shutdown. */
  connection: ['hello', 'auth', 'info', 'ping', 'quit'],
  /**
   * The cluster client: slot map and ready check, replica reads (READONLY/READWRITE), ASK redirects (resharding),
   * and the names it gives its slot-refresh and subscriber connections (CLIENT SETNAME).
   */
  cluster: ['cluster|slots', 'cluster|info', 'readonly', 'readwrite', 'asking', 'client|setname'],
  /** Scripts (lambdas/domain/scripts.ts, collection-scripts.ts): EVALSHA, falling back to EVAL on NOSCRIPT. */
  scripting: ['evalsha', 'eval', 'evalsha_ro', 'eval_ro'],
  /** What the Lua scripts call (redis.call / redis.pcall); ACLs are checked inside scripts too. */
  insideScripts: [
    'get', 'set', 'setrange', 'exists', 'type', 'unlink', 'time',
    'pttl', 'pexpire', 'pexpireat', 'persist',
    'llen', 'lindex', 'lrange', 'ltrim', 'lpush', 'rpush', 'lpop', 'rpop',
    'sadd', 'srem', 'spop', 'scard', 'smembers', 'sismember',
    'hget', 'hset', 'hdel', 'hexists', 'hgetall', 'hlen', 'hincrby',
    'zadd', 'zrem', 'zincrby', 'zscore', 'zrank', 'zrevrank', 'zrange', 'zcard', 'zremrangebyscore',
  ],
  /**
   * Pub/sub topics and change streams (lambdas/domain/topics.ts, change-events.ts): appends and trims inside the
   * scripts, reads and the blocking XREAD of a long-poll (on its own connection, core/blocking-redis.ts).
   */
  streams: ['xadd', 'xtrim', 'xsetid', 'xlen', 'xrange', 'xrevrange', 'xinfo|stream', 'xread'],
  /** Sent by the domain directly: reads, replica reads, hit/miss counters, SCAN for prefixes, stats, WAIT. */
  direct: [
    'multi', 'exec',
    'get', 'pttl', 'exists', 'type', 'hincrby', 'hmget', 'hlen', 'llen', 'scard', 'smismember',
    'zmscore', 'zcount', 'zcard', 'scan', 'dbsize', 'wait',
    // A TTL read fetches the head of an entry, where one with grace keeps when it turns stale (issue 13).
    'getrange',
    // Invalidating tags on a cluster reads each tag's directory of slots (lambdas/domain/tags.ts).
    'zrangebyscore',
  ],
} as const satisfies Record<string, readonly string[]>;

/** The commands of every group, each once, sorted. */
export function allowedRedisCommands(): string[] {
  return [...new Set(Object.values(REDIS_COMMANDS).flat())].sort();
}

/**
 * The application user's rules: on, every key (`~*`), no command but the allowed ones (`-@all`, then `+name` each).
 * No pub/sub channel rule: the service uses none. It names no forbidden command, which ElastiCache would refuse.
 */
export const APP_ACCESS_STRING = ['on', '~*', '-@all', ...allowedRedisCommands().map((c) => `+${c}`)].join(' ');
