"""Lua scripts of the Redis store's per-conversation leases (``redis_leases.py`` says why).

Keys under the store's prefix::

    lease:<key>  string "<token> <owner>", PX = the lease's time to live
    lease:seq    string INCR counter: every lease taken gets the next token, so a key's tokens only
                 grow (a fencing token, one counter for all keys: nothing is kept per key forever)
"""

from __future__ import annotations

# KEYS: lease, lease:seq   ARGV: owner, ttl_ms
# Returns the token: the one we hold already (re-entrant, renewed), a new one, or 0 if another
# owner holds the lease.
ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held then
  local token, owner = string.match(held, '^(%d+) (.*)$')
  if owner ~= ARGV[1] then return {0, 0} end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {tonumber(token), 0}
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ' ' .. ARGV[1], 'PX', ARGV[2])
return {token, 1}
"""

# KEYS: lease, ik:<key>, inbox   ARGV: "<token> <owner>", ttl_ms
# The key's oldest pending inbox entry for the lease holder: {1, seq, event_id, event JSON}.
# None pending: the lease is released in the same step, so an entry appended after this answer
# finds the lease free and its replica takes it ({0}). Lease lost (expired, taken): {-1}.
NEXT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
while true do
  local first = nil
  for _, seq in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    local n = tonumber(seq)
    if first == nil or n < first then first = n end
  end
  if first == nil then
    redis.call('DEL', KEYS[1])
    return {0}
  end
  local id = first .. '-0'
  local rows = redis.call('XRANGE', KEYS[3], id, id)
  if #rows > 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    local fields, e, d = rows[1][2], '', ''
    for i = 1, #fields, 2 do
      if fields[i] == 'e' then e = fields[i + 1] elseif fields[i] == 'd' then d = fields[i + 1] end
    end
    return {1, first, e, d}
  end
  redis.call('SREM', KEYS[2], first)  -- a member whose entry is gone: forget it
end
"""

# KEYS: lease   ARGV: "<token> <owner>" — give the lease up if it is still ours.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
"""

# KEYS: lease:<key>...   ARGV: ttl_ms, "<token> <owner>"... (one per key)
# Extends every lease still ours; returns the positions (1-based) of those that are not.
RENEW = """
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
  else
    lost[#lost + 1] = i
  end
end
return lost
"""

# KEYS: inbox, outq   ARGV: prefix, limit — keys whose lease nobody holds (their replica died,
# or gave up after retries) with pending inbox entries (oldest first) or undelivered replies (a
# replica killed between its commit and the delivery), each key once.
ORPHANS = """
local found, seen = {}, {}
local function offer(k)
  if k and not seen[k] then
    seen[k] = true
    if redis.call('EXISTS', ARGV[1] .. 'lease:' .. k) == 0 then found[#found + 1] = k end
  end
end
for _, row in ipairs(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', tonumber(ARGV[2]))) do
  local fields, k = row[2], nil
  for i = 1, #fields, 2 do if fields[i] == 'k' then k = fields[i + 1] end end
  offer(k)
end
for _, k in ipairs(redis.call('SRANDMEMBER', KEYS[2], tonumber(ARGV[2]))) do offer(k) end
return found
"""

SCRIPTS = {
    "lease_acquire": ACQUIRE,
    "lease_next": NEXT,
    "lease_release": RELEASE,
    "lease_renew": RENEW,
    "lease_orphans": ORPHANS,
}
