"""Lua scripts of the Redis store: each is one atomic step (redis.py describes the key layout).

Redis runs a script to completion before serving any other command, so the version check and
every write after it form one transaction: a stale commit returns before writing anything.
"""

from __future__ import annotations

# Removes inbox entry `seq` with its dedupe id and its per-key membership.
_CONSUME = """
local function consume(stream, ids, prefix, seq)
  local id = seq .. '-0'
  local rows = redis.call('XRANGE', stream, id, id)
  if #rows == 0 then return end
  local fields, k, e = rows[1][2], '', ''
  for i = 1, #fields, 2 do
    if fields[i] == 'k' then k = fields[i + 1] elseif fields[i] == 'e' then e = fields[i + 1] end
  end
  redis.call('XDEL', stream, id)
  redis.call('HDEL', ids, k .. '\\0' .. e)
  redis.call('SREM', prefix .. 'ik:' .. k, seq)
end
"""

# KEYS: s, o, u, active, grace, wf, outq, inbox, inbox:ids, lease
# ARGV: name, expected, body, status, score, has_workflow, inbox_seq|'', ttl_ms, prefix,
#       fence ("<token> <owner>" or ''), lease ttl_ms, replies...
# With a fence, the lease must still be the committer's ({2, 0} otherwise: nothing written), and
# the commit extends it.
COMMIT = (
    _CONSUME
    + """
local skey, okey, ukey = KEYS[1], KEYS[2], KEYS[3]
local name, expected = ARGV[1], tonumber(ARGV[2])
if ARGV[10] ~= '' then
  if redis.call('GET', KEYS[10]) ~= ARGV[10] then return {2, 0} end
  redis.call('PEXPIRE', KEYS[10], ARGV[11])
end
local current, out = 0, 0
local stored = redis.call('GET', skey)
if stored then
  local v, o = string.match(stored, '^(%d+) (%d+) ')
  current, out = tonumber(v), tonumber(o)
end
if current ~= expected then return {0, current} end
local n = #ARGV - 11
redis.call('SET', skey, (current + 1) .. ' ' .. (out + n) .. ' ' .. ARGV[3])
for i = 1, n do redis.call('HSET', okey, out + i, ARGV[11 + i]) end
if n > 0 then redis.call('SADD', KEYS[7], name) end
if ARGV[4] == 'grace' then
  redis.call('ZADD', KEYS[5], ARGV[5], name)
  redis.call('ZREM', KEYS[4], name)
else
  redis.call('ZADD', KEYS[4], ARGV[5], name)
  redis.call('ZREM', KEYS[5], name)
end
if ARGV[6] == '1' then redis.call('SADD', KEYS[6], name) else redis.call('SREM', KEYS[6], name) end
redis.call('ZADD', ukey, 0, name)
if ARGV[7] ~= '' then consume(KEYS[8], KEYS[9], ARGV[9], ARGV[7]) end
local ttl = tonumber(ARGV[8])
if ttl > 0 then
  redis.call('PEXPIRE', skey, ttl)
  redis.call('PEXPIRE', okey, ttl)
  redis.call('PEXPIRE', ukey, ttl)
end
return {1, out}
"""
)

# KEYS: s, o, u, active, grace, wf, outq, inbox, inbox:ids   ARGV: name, prefix
DELETE = (
    _CONSUME
    + """
local name, prefix = ARGV[1], ARGV[2]
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], name)
redis.call('ZREM', KEYS[4], name)
redis.call('ZREM', KEYS[5], name)
redis.call('SREM', KEYS[6], name)
redis.call('SREM', KEYS[7], name)
local ik = prefix .. 'ik:' .. name
for _, seq in ipairs(redis.call('SMEMBERS', ik)) do consume(KEYS[8], KEYS[9], prefix, seq) end
redis.call('DEL', ik)
return 1
"""
)

# KEYS: inbox, inbox:ids, inbox:seq   ARGV: name, event_id, event JSON, prefix
INBOX_APPEND = """
local ident = ARGV[1] .. '\\0' .. ARGV[2]
if redis.call('HEXISTS', KEYS[2], ident) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[1], seq .. '-0', 'k', ARGV[1], 'e', ARGV[2], 'd', ARGV[3])
redis.call('HSET', KEYS[2], ident, seq)
redis.call('SADD', ARGV[4] .. 'ik:' .. ARGV[1], seq)
return seq
"""

# KEYS: inbox, inbox:ids   ARGV: seq, prefix
INBOX_DISCARD = (
    _CONSUME
    + """
consume(KEYS[1], KEYS[2], ARGV[2], ARGV[1])
return 1
"""
)

# KEYS: o, outq   ARGV: name, seqs...
OUTBOX_DELIVERED = """
for i = 2, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
"""

# KEYS: o, outq   ARGV: name — forget a key in outq whose outbox is empty (expired by TTL).
OUTQ_PRUNE = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
"""

# KEYS: index, active, grace, wf, outq   ARGV: prefix, upper bound, limit
# Index entries whose session hash expired (session TTL) are removed instead of returned.
SCAN_LIVE = """
local prefix, upper, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local found, offset = {}, 0
while #found < limit do
  local batch = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', upper, 'LIMIT', offset, limit - #found)
  if #batch == 0 then break end
  for _, name in ipairs(batch) do
    if redis.call('EXISTS', prefix .. 's:' .. name) == 1 then
      found[#found + 1] = name
      offset = offset + 1
    else
      redis.call('ZREM', KEYS[2], name)
      redis.call('ZREM', KEYS[3], name)
      redis.call('SREM', KEYS[4], name)
      redis.call('SREM', KEYS[5], name)
    end
  end
end
return found
"""

# KEYS: u   ARGV: prefix — live keys of a user; members whose session expired are dropped.
USER_KEYS = """
local found = {}
for _, name in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. 's:' .. name) == 1 then
    found[#found + 1] = name
  else
    redis.call('ZREM', KEYS[1], name)
  end
end
return found
"""

# KEYS: active, grace, wf, outq, inbox   ARGV: prefix — one consistent snapshot of the counts.
COUNTS = """
local outbox = 0
for _, name in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  outbox = outbox + redis.call('HLEN', ARGV[1] .. 'o:' .. name)
end
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('SCARD', KEYS[3]),
        redis.call('XLEN', KEYS[5]), outbox}
"""

SCRIPTS = {
    "commit": COMMIT,
    "delete": DELETE,
    "inbox_append": INBOX_APPEND,
    "inbox_discard": INBOX_DISCARD,
    "outbox_delivered": OUTBOX_DELIVERED,
    "outq_prune": OUTQ_PRUNE,
    "scan_live": SCAN_LIVE,
    "user_keys": USER_KEYS,
    "counts": COUNTS,
}
