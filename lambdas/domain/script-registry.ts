import { defineScript, type RedisClient } from '../core/redis';
import { changeEventSettings, scriptText } from './change-events';

/**
 * How each family's Lua scripts (scripts.ts, collection-scripts.ts, topics.ts) become client commands; apart from
 * the scripts themselves, so a bundle carries only its own family's.
 */
type ScriptTable = Record<string, { numberOfKeys: number; lua: string; readOnly?: boolean }>;
type ScriptCommands<T extends ScriptTable> = { [K in keyof T]: (...args: (string | number)[]) => Promise<unknown> };

/**
 * Makes a function that hands back a client with the table's scripts registered as commands (EVALSHA, falling
 * back to EVAL once per connection), registering them once per client.
 */
export function scriptRegistry<T extends ScriptTable>(table: T): (client: RedisClient) => RedisClient & ScriptCommands<T> {
  // Per client, the change-event settings its commands were defined with (change-events.ts): redefined on a change.
  const defined = new WeakMap<object, unknown>();
  return (client) => {
    const events = changeEventSettings();
    if (!defined.has(client) || defined.get(client) !== events) {
      for (const [name, def] of Object.entries(table)) {
        defineScript(client, name, { ...def, lua: scriptText(name, def.lua) });
      }
      defined.set(client, events);
    }
    return client as RedisClient & ScriptCommands<T>;
  };
}
