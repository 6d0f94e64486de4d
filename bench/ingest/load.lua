-- wrk script: every request carries events with fresh eventIds (one, or a batch of them).
-- The ids an answer 202 accepted are written to one file per thread, so the benchmark can check
-- that each landed in Kafka exactly once.
-- Arguments (after --): path, events per request, template file (an event whose eventId is
-- __EVENT_ID__), API key, output prefix, run tag (unique per round).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  path = args[1]
  per_request = tonumber(args[2])
  local file = assert(io.open(args[3]))
  local template = file:read("*a")
  file:close()
  prefix, suffix = template:match("^(.-)__EVENT_ID__(.*)$")
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[4] }
  accepted_file = assert(io.open(args[5] .. "-" .. thread_id, "w"))
  tag = args[6] .. "-" .. thread_id .. "-"
  sent = 0
end

function request()
  local body
  if per_request == 1 then
    sent = sent + 1
    body = prefix .. tag .. sent .. suffix
  else
    local events = {}
    for i = 1, per_request do
      sent = sent + 1
      events[i] = prefix .. tag .. sent .. suffix
    end
    body = '{"events":[' .. table.concat(events, ",") .. "]}"
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status ~= 202 then
    return
  end
  if per_request == 1 then
    accepted_file:write(body:match('"eventId":"([^"]+)"'), "\n")
  else
    for id in body:match('"accepted":%[([^%]]*)%]'):gmatch('"([^"]+)"') do
      accepted_file:write(id, "\n")
    end
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, errors.status, errors.connect + errors.read + errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(99)))
end
