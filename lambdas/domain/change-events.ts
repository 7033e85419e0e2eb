import { CHANGE_STREAM_PREFIX, ENTRY_PREFIX } from '../core/keyspace';

/**
 * Change events (docs/pubsub.md): when enabled, every entry write, delete, TTL change and invalidation appends
 * `{key, op, version, tags}` to the change stream of the key's slot INSIDE the script that makes the change, so
 * there is no event without its change and no change without its event; a refused conditional write appends none.
 *
 * The entry scripts themselves are not edited for this: `scriptText` wraps a script's text, when events are on,
 * as `prelude; local function run() <script> end; local result = run(); <describe result>; return result`. The
 * one hook inside a script is `noteChange`, called by the shared `deleteKey` helper (every deletion and
 * invalidation goes through it); the base text gets a no-op `noteChange`.
 */

/**
 * Stream helpers shared by topics and change streams (Lua). Redis does not record what trimming removes
 * (XINFO's max-deleted-entry-id moves only on XDEL), so `trimStream` records it with XSETID MAXDELETEDID: the
 * read script compares a subscriber's id with it to tell the subscriber it missed messages.
 *
 * `appendToStream` adds one message (field `m`), trims to `maxLen` messages and `maxAgeMs` of age, and keeps the
 * stream `idleMs` past its last append. A stream created anew may replace one that expired or was evicted, so it
 * records every id before its first as possibly deleted: a subscriber resuming from an older id is then told it
 * may have missed messages instead of silently continuing. Returns the message id.
 */
export const STREAM_LUA = `
local function idBefore(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local function trimStream(stream, maxLen, maxAgeMs, lastId)
  local t = redis.call('TIME')
  local minId = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(maxAgeMs))
  local cut
  local excess = redis.call('XLEN', stream) - tonumber(maxLen)
  if excess > 0 then
    local gone = redis.call('XRANGE', stream, '-', '+', 'COUNT', excess)
    cut = gone[#gone][1]
  end
  local aged = redis.call('XREVRANGE', stream, '(' .. minId, '-', 'COUNT', 1)
  if #aged > 0 and (not cut or idBefore(cut, aged[1][1])) then cut = aged[1][1] end
  if not cut then return end
  if excess > 0 then redis.call('XTRIM', stream, 'MAXLEN', maxLen) end
  redis.call('XTRIM', stream, 'MINID', minId)
  redis.call('XSETID', stream, lastId, 'MAXDELETEDID', cut)
end
local function appendToStream(stream, data, maxLen, maxAgeMs, idleMs)
  local fresh = redis.call('EXISTS', stream) == 0
  local id = redis.call('XADD', stream, '*', 'm', data)
  if fresh then
    local ms, seq = string.match(id, '^(%d+)-(%d+)$')
    local before
    if seq == '0' then before = string.format('%.0f', tonumber(ms) - 1) .. '-18446744073709551615'
    else before = ms .. '-' .. string.format('%.0f', tonumber(seq) - 1) end
    redis.call('XSETID', stream, id, 'ENTRIESADDED', 1, 'MAXDELETEDID', before)
  end
  trimStream(stream, maxLen, maxAgeMs, id)
  redis.call('PEXPIRE', stream, idleMs)
  return id
end
`;

export interface ChangeEventSettings {
  retentionMessages: number;
  retentionMs: number;
  idleMs: number;
}

/**
 * How each changing script reports its change. `prefix`: the Lua expression of its tag-index prefix argument
 * (it carries the slot's hash tag, so the change stream is named from it, in the entry's slot). `deletes`: the
 * operation recorded for keys its deleteKey calls remove. `after`: Lua run on the script's result.
 */
const CHANGING_SCRIPTS: Record<string, { prefix: string; deletes?: string; after?: string }> = {
  skycacheSet: {
    prefix: "ARGV[6] or '_:tag:'",
    after: "if type(result) == 'table' and result[1] == 'OK' then noteChange(KEYS[1], 'set', result[2], ARGV[5] or '') end",
  },
  skycacheIncrement: {
    prefix: "ARGV[5] or '_:tag:'",
    after: "if type(result) == 'table' and not result.err then noteChange(KEYS[1], 'set', result[2], storedTags(KEYS[1])) end",
  },
  skycacheTtl: {
    prefix: 'ARGV[3]',
    after: "if result and (ARGV[1] == 'touch' or ARGV[1] == 'persist') then noteChange(KEYS[1], ARGV[1], storedVersion(KEYS[1]), result[2]) end",
  },
  skycacheDelete: { prefix: 'ARGV[2]', deletes: 'delete' },
  skycacheDeleteCounter: { prefix: 'ARGV[1]', deletes: 'delete' },
  skycacheDeleteMany: { prefix: 'ARGV[1]', deletes: 'delete' },
  skycacheInvalidateMany: { prefix: 'ARGV[1]', deletes: 'invalidate' },
  skycacheInvalidateTags: { prefix: 'ARGV[1]', deletes: 'invalidate' },
};

const NO_CHANGE_EVENTS = 'local function noteChange() end\n';

let settings: ChangeEventSettings | undefined;
/** Turns change events on (with the streams' retention) or off for this process's scripts. */
export function configureChangeEvents(next: ChangeEventSettings | undefined): void {
  settings = next ? { ...next } : undefined;
}
export function changeEventSettings(): ChangeEventSettings | undefined {
  return settings;
}

/** The text of script `name` as this process runs it: with the change-event hook when events are on. */
export function scriptText(name: string, lua: string): string {
  const spec = CHANGING_SCRIPTS[name];
  if (!settings || !spec) return lua.includes('noteChange(') ? NO_CHANGE_EVENTS + lua : lua;
  const s = settings;
  return `${STREAM_LUA}
local changeStream = '${CHANGE_STREAM_PREFIX}'
do
  local slotTag = string.match(${spec.prefix} or '', '{[^}]*}')
  if slotTag then changeStream = changeStream .. ':' .. slotTag end
end
local function tagsJson(tags)
  if type(tags) == 'string' then return tags ~= '' and tags or '[]' end
  if #tags == 0 then return '[]' end
  return cjson.encode(tags)
end
-- One event: key (the client's name), operation, version after the change (before, for a delete), tags.
local function noteChange(key, op, version, tags)
  if string.sub(key, 1, ${ENTRY_PREFIX.length}) == '${ENTRY_PREFIX}' then key = string.sub(key, ${ENTRY_PREFIX.length + 1}) end
  local event = '{"key":' .. cjson.encode(key) .. ',"op":"' .. (op or '${spec.deletes ?? 'delete'}') .. '","version":' ..
    string.format('%d', tonumber(version) or 0) .. ',"tags":' .. tagsJson(tags or {}) .. '}'
  appendToStream(changeStream, event, ${s.retentionMessages}, ${s.retentionMs}, ${s.idleMs})
end
-- The stored entry without its leading absolute-expiry field (the x<expiry>: and g<expiry>:<grace>: forms), so all forms read alike.
local function storedHeader(key)
  if redis.call('TYPE', key)['ok'] ~= 'string' then return nil end
  local raw = redis.call('GET', key)
  local e = string.match(raw, '^x(%d+):')
  if e then return string.sub(raw, #e + 3) end
  -- The grace form (issue 13): its expiry and grace fields.
  local g
  e, g = string.match(raw, '^g(%d+):(%d+):')
  if e then return string.sub(raw, #e + #g + 4) end
  return raw
end
local function storedVersion(key)
  local raw = storedHeader(key)
  return raw and tonumber(string.match(raw, '^(%d+):')) or 0
end
local function storedTags(key)
  local raw = storedHeader(key)
  if not raw then return '' end
  local v, c, u, t, n = string.match(raw, '^(%d+):(%d+):(%d+):(%d+):(%d+):')
  if not v then return '' end
  local at = #v + #c + #u + #t + #n + 5
  return string.sub(raw, at + 1, at + tonumber(n))
end
local function run()
${lua}
end
local result = run()
${spec.after ?? ''}
return result
`;
}
