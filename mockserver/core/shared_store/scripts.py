"""The Lua scripts that make shared-state changes atomic in Redis (one script runs alone on the server).

Every script takes the key prefix as ``ARGV[1]`` and builds its key names from it (a single Redis, not a cluster).
Numbers cross the Lua boundary as strings in ``%.17g`` (Lua's own number-to-string keeps only 14 digits).
Key layout under the prefix ``P``:

* ``P r:<kind>:<key>`` hash: ``j`` the record's JSON, ``o`` the owner tag (``@<owner>``, or ``-``), ``t`` when
  stored (virtual seconds), ``s`` its weight in bytes, ``p`` ``1`` for a permanent kind, ``n:<field>`` numbers
  changed by ``adjust`` since the JSON was written (they override the JSON's field);
* ``P k:<kind>`` / ``P o:<kind>:<tag>`` sorted sets of keys by insertion sequence: all, and one owner's;
* ``P e:<tag>`` an owner's evictable records (``<kind>\\n<key>``) oldest first, ``P b`` bytes per owner tag,
  ``P bt`` all bytes; ``P seq`` the insertion sequence; ``P kinds`` every kind stored;
* ``P w:<name>:<who>`` a sliding window's hit times; ``P c:<name>:<who>`` slots by release time (``+inf``: held
  until released), ``P ci:<name>:<who>`` each slot's JSON; ``P l:<who>`` the limit keys of one owner;
* ``P rng`` shared id sequences; ``P clock`` the clock's anchor (and the channel announcing its changes).
"""

from __future__ import annotations

_COMMON = r"""
local P = ARGV[1]
local function num(x) return string.format('%.17g', x) end
local function rkey(kind, key) return P .. 'r:' .. kind .. ':' .. key end

local function forget(kind, key)
  local r = rkey(kind, key)
  local meta = redis.call('HMGET', r, 'o', 's', 'p')
  if not meta[2] then return false end
  local tag = meta[1]
  redis.call('DEL', r)
  redis.call('ZREM', P .. 'k:' .. kind, key)
  redis.call('ZREM', P .. 'o:' .. kind .. ':' .. tag, key)
  if meta[3] ~= '1' then
    local size = tonumber(meta[2])
    redis.call('ZREM', P .. 'e:' .. tag, kind .. '\n' .. key)
    redis.call('INCRBY', P .. 'bt', -size)
    local left = tonumber(redis.call('ZINCRBY', P .. 'b', -size, tag))
    if left <= 0 or redis.call('ZCARD', P .. 'e:' .. tag) == 0 then redis.call('ZREM', P .. 'b', tag) end
  end
  return true
end

local function evict_oldest(tag, keep)
  for _, item in ipairs(redis.call('ZRANGE', P .. 'e:' .. tag, 0, 1)) do
    if item ~= keep then
      local cut = string.find(item, '\n', 1, true)
      forget(string.sub(item, 1, cut - 1), string.sub(item, cut + 1))
      return true
    end
  end
  return false
end

-- the count and byte budgets after <kind, key> was written (that record itself stays)
local function enforce(kind, key, tag, max_records, max_key_bytes, max_store_bytes)
  if max_records then
    local index = P .. 'o:' .. kind .. ':' .. tag
    while redis.call('ZCARD', index) > max_records do
      forget(kind, redis.call('ZRANGE', index, 0, 0)[1])
    end
  end
  local keep = kind .. '\n' .. key
  if max_key_bytes then
    while (tonumber(redis.call('ZSCORE', P .. 'b', tag)) or 0) > max_key_bytes do
      if not evict_oldest(tag, keep) then break end
    end
  end
  if max_store_bytes then
    while (tonumber(redis.call('GET', P .. 'bt')) or 0) > max_store_bytes do
      local heaviest = redis.call('ZREVRANGE', P .. 'b', 0, 0)[1]
      if not heaviest or not evict_oldest(heaviest, keep) then break end
    end
  end
end
"""

#: ARGV: P, kind, key, json, owner tag, stored_at, size, permanent (0/1), max_records, max_key_bytes,
#: max_store_bytes ('' = unbounded).
PUT = _COMMON + r"""
local kind, key, tag, size, permanent = ARGV[2], ARGV[3], ARGV[5], tonumber(ARGV[7]), ARGV[8]
forget(kind, key)
local seq = redis.call('INCR', P .. 'seq')
redis.call('HSET', rkey(kind, key), 'j', ARGV[4], 'o', tag, 't', ARGV[6], 's', size, 'p', permanent)
redis.call('ZADD', P .. 'k:' .. kind, seq, key)
redis.call('ZADD', P .. 'o:' .. kind .. ':' .. tag, seq, key)
redis.call('SADD', P .. 'kinds', kind)
if permanent ~= '1' then
  redis.call('ZADD', P .. 'e:' .. tag, seq, kind .. '\n' .. key)
  redis.call('ZINCRBY', P .. 'b', size, tag)
  redis.call('INCRBY', P .. 'bt', size)
  enforce(kind, key, tag, tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]))
end
return 1
"""

#: ARGV: P, kind, key, json, size, max_records, max_key_bytes, max_store_bytes. Replaces a record's JSON in
#: place (same position in every order); 0 if there is no such record.
REWRITE = _COMMON + r"""
local kind, key = ARGV[2], ARGV[3]
local r = rkey(kind, key)
local meta = redis.call('HMGET', r, 'o', 's', 'p')
if not meta[2] then return 0 end
for _, field in ipairs(redis.call('HKEYS', r)) do
  if string.sub(field, 1, 2) == 'n:' then redis.call('HDEL', r, field) end
end
redis.call('HSET', r, 'j', ARGV[4], 's', ARGV[5])
if meta[3] ~= '1' then
  local delta = tonumber(ARGV[5]) - tonumber(meta[2])
  redis.call('ZINCRBY', P .. 'b', delta, meta[1])
  redis.call('INCRBY', P .. 'bt', delta)
  enforce(kind, key, meta[1], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]))
end
return 1
"""

#: ARGV: P, kind, key. 1 if the record existed.
DELETE = _COMMON + r"""
if forget(ARGV[2], ARGV[3]) then return 1 end
return 0
"""

#: ARGV: P, kind, horizon. Drops the kind's records stored before ``horizon`` (oldest first, at most 1000 a call).
EXPIRE = _COMMON + r"""
local kind, horizon = ARGV[2], tonumber(ARGV[3])
local dropped = 0
while dropped < 1000 do
  local oldest = redis.call('ZRANGE', P .. 'k:' .. kind, 0, 0)[1]
  if not oldest then break end
  local at = tonumber(redis.call('HGET', rkey(kind, oldest), 't'))
  if at and at >= horizon then break end
  forget(kind, oldest)
  dropped = dropped + 1
end
return dropped
"""

#: ARGV: P, kind, owner tag ('' = every owner). Forgets those records.
CLEAR = _COMMON + r"""
local kind, tag = ARGV[2], ARGV[3]
local index = P .. 'k:' .. kind
if tag ~= '' then index = P .. 'o:' .. kind .. ':' .. tag end
local keys = redis.call('ZRANGE', index, 0, -1)
for _, key in ipairs(keys) do forget(kind, key) end
return #keys
"""

#: ARGV: P, kind, key, field, delta, minimum ('' = none). Adds ``delta`` to a numeric field, rounded to 1e-9, never
#: below ``minimum`` (a change that would overshoot it by more than 1e-12 is refused). Returns {status, value}:
#: 0 no record, 1 done (the new value), 2 refused (the current value).
ADJUST = _COMMON + r"""
local r, field = rkey(ARGV[2], ARGV[3]), 'n:' .. ARGV[4]
local current = redis.call('HGET', r, field)
if not current then
  local json = redis.call('HGET', r, 'j')
  if not json then return {0, ''} end
  current = cjson.decode(json)[ARGV[4]]
end
current = tonumber(current)
local new, minimum = current + tonumber(ARGV[5]), tonumber(ARGV[6])
if minimum and new < minimum - 1e-12 then return {2, num(current)} end
if minimum and new < minimum then new = minimum end
new = tonumber(string.format('%.9f', new))
redis.call('HSET', r, field, num(new))
return {1, num(new)}
"""

#: ARGV: P, "<name>:<who>", who, limit, window, now. A sliding-window hit, recorded only when allowed.
#: Returns {allowed 0/1, retry_after, used}.
WINDOW_HIT = _COMMON + r"""
local k = P .. 'w:' .. ARGV[2]
local limit, window, now = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', k, '-inf', num(now - window))
local used = redis.call('ZCARD', k)
if used >= limit then
  local oldest = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
  local retry = 0
  if oldest[2] then retry = tonumber(oldest[2]) + window - now end
  return {0, num(retry), used}
end
redis.call('ZADD', k, ARGV[6], redis.call('INCR', P .. 'seq'))
redis.call('SADD', P .. 'l:' .. ARGV[3], k)
return {1, '0', used + 1}
"""

#: ARGV: P, "<name>:<who>", who, limit, now, release_at ('' = until released), slot id, slot JSON.
#: Returns {allowed 0/1, retry_after, used}.
SLOT_ACQUIRE = _COMMON + r"""
local z, h = P .. 'c:' .. ARGV[2], P .. 'ci:' .. ARGV[2]
local limit, now = tonumber(ARGV[4]), tonumber(ARGV[5])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', z, '-inf', ARGV[5])) do redis.call('HDEL', h, id) end
redis.call('ZREMRANGEBYSCORE', z, '-inf', ARGV[5])
local used = redis.call('ZCARD', z)
if used >= limit then
  local first = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
  local retry = '1'
  if first[2] and tonumber(first[2]) ~= math.huge then retry = num(tonumber(first[2]) - now) end
  return {0, retry, used}
end
local score = ARGV[6]
if score == '' then score = '+inf' end
redis.call('ZADD', z, score, ARGV[7])
redis.call('HSET', h, ARGV[7], ARGV[8])
redis.call('SADD', P .. 'l:' .. ARGV[3], z, h)
return {1, '0', used + 1}
"""
