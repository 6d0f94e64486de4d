#!lua
--[[
Apply a batch of events to the real-time aggregates, exactly once per (project, eventId).

ARGV[1] is JSON:
  ttl     seconds a processed:{project}:{eventId} mark lives at least; it lives on while any
          window it counted into is held, so replaying an old record never counts it twice
  keys    [[count key or "", users key, expire-at epoch seconds, types key?, eventType?], ...]
          one per metric window; an eventType's hour window also names the hour's set of types
  groups  [[key index (1-based), ...], ...]                             the windows one event updates
  events  [[processed key, userId, group index (1-based), source position], ...]

Everything the batch changes happens in this one script: Redis runs it atomically, so the marks
and the counts can never disagree, whatever crashes when. Types are checked before the first
write, because Redis does not roll a script back when a command in it fails.

A mark holds the source position (partition@offset) of the record that counted the event, so a
redelivery of that same record (a replay after a crash) is told apart from a true duplicate
(the same eventId at another offset): both are not counted again, but a replay is reported so the
caller can publish its outputs again.

Returns {duplicates, replays, counts, uniques, closed}:
  duplicates  0-based indices of events marked by another record (already counted)
  replays     0-based indices of events marked by this very record (already counted)
  counts      per key: the count after the batch (0 for keys without one, -1 for closed windows)
  uniques     per key: PFCOUNT after the batch (-1 for closed windows)
  closed      per key: how many events were not counted because the window had already expired
]]
local batch = cjson.decode(ARGV[1])
local now = tonumber(redis.call('TIME')[1])

local function check_type(key, expected)
  local found = redis.call('TYPE', key).ok
  if found ~= 'none' and found ~= expected then
    return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. found .. ', not a ' .. expected)
  end
end

for _, spec in ipairs(batch.keys) do
  if spec[1] ~= '' then
    local err = check_type(spec[1], 'hash')
    if err then return err end
  end
  local err = check_type(spec[2], 'string')
  if err then return err end
  if spec[4] then
    err = check_type(spec[4], 'set')
    if err then return err end
  end
  local probe = redis.pcall('PFCOUNT', spec[2])
  if type(probe) == 'table' and probe.err then
    return redis.error_reply('WRONGTYPE ' .. spec[2] .. ' is not a HyperLogLog')
  end
end

-- SET ... GET fails on a mark that is not a string, which would leave earlier marks set.
for _, event in ipairs(batch.events) do
  local err = check_type(event[1], 'string')
  if err then return err end
end

local tallies, users, duplicates, replays = {}, {}, {}, {}
for index, event in ipairs(batch.events) do
  local keep_until = now + batch.ttl
  for _, k in ipairs(batch.groups[event[3]]) do
    if batch.keys[k][3] > keep_until then keep_until = batch.keys[k][3] end
  end
  local previous = redis.call('SET', event[1], event[4], 'NX', 'GET', 'EXAT', keep_until)
  if not previous then
    for _, k in ipairs(batch.groups[event[3]]) do
      tallies[k] = (tallies[k] or 0) + 1
      local list = users[k]
      if list == nil then
        list = {}
        users[k] = list
      end
      list[#list + 1] = event[2]
    end
  elseif previous == event[4] then
    replays[#replays + 1] = index - 1
  else
    duplicates[#duplicates + 1] = index - 1
  end
end

local counts, uniques, closed = {}, {}, {}
for k, spec in ipairs(batch.keys) do
  local count_key, users_key, expire_at = spec[1], spec[2], spec[3]
  closed[k] = 0
  if expire_at <= now then
    closed[k] = tallies[k] or 0
    counts[k], uniques[k] = -1, -1
  else
    local added = tallies[k]
    if added then
      local list = users[k]
      for first = 1, #list, 1000 do
        redis.call('PFADD', users_key, unpack(list, first, math.min(first + 999, #list)))
      end
      redis.call('EXPIREAT', users_key, expire_at)
    end
    if count_key == '' then
      counts[k] = 0
    elseif added then
      counts[k] = redis.call('HINCRBY', count_key, 'count', added)
      redis.call('EXPIREAT', count_key, expire_at)
      if spec[4] then
        redis.call('SADD', spec[4], spec[5])
        redis.call('EXPIREAT', spec[4], expire_at)
      end
    else
      counts[k] = tonumber(redis.call('HGET', count_key, 'count') or '0')
    end
    uniques[k] = redis.call('PFCOUNT', users_key)
  end
end
return {duplicates, replays, counts, uniques, closed}
