"""Traffic for wrk: Zipf popularity over a list of URLs, and the Lua scripts that play
it (or a POST with a visitor's session) and count what came back.

Every script counts, in wrk's `response` hook, the answers that were neither 2xx nor 3xx
and the answers carrying the page cache's X-Page-Cache header (hit or miss), and
prints them in its `done` hook as one line
`counts errors=N hits=N misses=N statuses= 403:N ...`."""

import bisect
import itertools
import random
import re
from urllib.parse import urlencode

COUNTING = r"""
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  errors, hits, misses, failed = 0, 0, 0, {}
end
function response(status, headers, body)
  if status < 200 or status >= 400 then
    errors = errors + 1
    failed[status] = (failed[status] or 0) + 1
  end
  local cached = headers["X-Page-Cache"] or headers["x-page-cache"]
  if cached == "hit" then hits = hits + 1 elseif cached == "miss" then misses = misses + 1 end
end
function done(summary, latency, requests)
  local e, h, m, by_status = 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    e = e + thread:get("errors")
    h = h + thread:get("hits")
    m = m + thread:get("misses")
    for status, n in pairs(thread:get("failed")) do by_status[status] = (by_status[status] or 0) + n end
  end
  local statuses = ""
  for status, n in pairs(by_status) do statuses = statuses .. string.format(" %d:%d", status, n) end
  io.write(string.format("counts errors=%d hits=%d misses=%d statuses=%s\n", e, h, m, statuses))
end
"""


def zipf_weights(count, s=1.0):
    """Popularity of the URL at each rank: the first is visited most, rank r as 1/r**s."""
    return [1 / rank**s for rank in range(1, count + 1)]


def zipf_sample(paths, weights, count, seed=8):
    """`count` visits drawn from the paths with the given popularity (for checking the
    distribution the Lua script plays)."""
    cumulative = list(itertools.accumulate(weights))
    rng = random.Random(seed)
    return [paths[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])] for _ in range(count)]


def _lua_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mix_script(paths, weights, headers=None, seed=8):
    """A wrk script that requests the paths with the given popularity (a cumulative
    table searched by bisection), counting errors and page-cache hits."""
    if not paths or len(paths) != len(weights):
        raise ValueError("one weight per path, and at least one path")
    if any(not path.startswith("/") or "\n" in path for path in paths):
        raise ValueError("paths start with / and fit on one line")
    total, cumulative = 0.0, []
    for weight in weights:
        total += weight
        cumulative.append(total)
    lines = ["paths = {" + ",".join(_lua_string(p) for p in paths) + "}"]
    lines.append("cumulative = {" + ",".join(f"{c / total:.9f}" for c in cumulative) + "}")
    lines.append(_headers_lua(headers))
    lines.append(
        f"""
local seeded = false
function request()
  if not seeded then math.randomseed({int(seed)}); seeded = true end
  local x, lo, hi = math.random(), 1, #cumulative
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cumulative[mid] < x then lo = mid + 1 else hi = mid end
  end
  return wrk.format("GET", paths[lo], extra_headers)
end
"""
    )
    return "\n".join(lines) + COUNTING


def post_script(path, fields, headers=None):
    """A wrk script that POSTs the form fields to path (a browser submitting a form),
    counting errors (a 403 from a refused CSRF token is one)."""
    body = urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    return (
        f"wrk.method = 'POST'\nwrk.path = {_lua_string(path)}\nwrk.body = {_lua_string(body)}\n"
        + "".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}\n" for k, v in headers.items())
        + COUNTING
    )


def get_script(headers=None):
    """A wrk script for a plain GET of the command line's URL, counting errors and hits."""
    return "".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}\n" for k, v in (headers or {}).items()) + (
        COUNTING
    )


def _headers_lua(headers):
    pairs = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in (headers or {}).items())
    return f"extra_headers = {{{pairs}}}"


def parse_wrk(output):
    """Requests per second and the script's counts from wrk's output."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    counts = re.search(r"counts errors=(\d+) hits=(\d+) misses=(\d+) statuses=(.*)", output)
    errors, hits, misses = (int(n) for n in counts.groups()[:3]) if counts else (0, 0, 0)
    statuses = dict(
        (int(status), int(n)) for status, n in (item.split(":") for item in (counts.group(4).split() if counts else []))
    )
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    timeouts = 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
        timeouts = int(socket_errors.group(4))
    total = re.search(r"(\d+) requests in", output)
    return {
        "rate": rate,
        "errors": errors,
        "hits": hits,
        "misses": misses,
        "statuses": statuses,
        "timeouts": timeouts,
        "requests": int(total.group(1)) if total else 0,
    }
