-- What both wrk scripts of the benchmark share: thread numbering, the arguments (path, a number,
-- the template file, API key, output prefix, run tag), and the summary line the Python side reads.
local common = {}

local threads = {}

-- wrk's setup(): numbers the threads, so each writes a file of its own.
function common.setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

-- The body around the eventId, the headers, the thread's output file and its eventId prefix.
function common.read_args(args, thread_id)
  local file = assert(io.open(args[3]))
  local template = file:read("*a")
  file:close()
  local prefix, suffix = template:match("^(.-)__EVENT_ID__(.*)$")
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[4] }
  local output = assert(io.open(args[5] .. "-" .. thread_id, "w"))
  return prefix, suffix, headers, output, args[6] .. "-" .. thread_id .. "-"
end

function common.summary(summary, latency)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, errors.status, errors.connect + errors.read + errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(99)))
end

return common
