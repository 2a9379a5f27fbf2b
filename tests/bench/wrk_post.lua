-- wrk script for POST /users: every request creates a new user with its own email, so the
-- figure is for distinct creates (phase 2's email uniqueness would refuse repeats).
local thread_no = 0
local run = tostring(os.time())

function setup(thread)
  thread:set("tid", thread_no)
  thread_no = thread_no + 1
end

local n = 0
function request()
  n = n + 1
  local body = string.format(
    '{"name":"Bench User","email":"bench-%s-%d-%d@example.com","age":30}', run, tid or 0, n)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
