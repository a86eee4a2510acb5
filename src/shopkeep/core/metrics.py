"""The process's own Prometheus instruments (prometheus-client).

Only what a process counts itself lives here: HTTP requests, agent polls, held long-polls
and login failures. What the database already knows (commands by state, webhook backlog,
task queue depth, heartbeats) is read when ``/metrics`` is scraped
(``shopkeep.platform.collector``), so it is right however many processes run.

Several web processes (``shopkeep serve --workers N``) share their counts through
prometheus-client's multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` must be set before this
module is imported (``shopkeep serve`` does it, see docs/operations.md#metrics). The
instruments are defined the same way in both modes; ``multiprocess_mode`` only matters when
the directory is set.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# The *_created series double every counter's output and no dashboard here reads them.
disable_created_metrics()

# Buckets around what the pages and the API answer in (ms to a few s); long-polls are
# observed too and land in the last buckets, so they are labelled by route and can be
# excluded in queries.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "shopkeep_http_requests", "HTTP requests answered by Django, by URL pattern and status.",
    ["route", "method", "status"])
HTTP_LATENCY = Histogram(
    "shopkeep_http_request_duration_seconds",
    "Time from the request reaching Django's middleware stack to the response, by URL pattern.",
    ["route", "method"], buckets=LATENCY_BUCKETS)
AGENT_POLLS = Counter(
    "shopkeep_agent_polls",
    "Agent polls of /api/v1/agent/commands/pending, by who answered (memory: the lean ASGI "
    "path from memory, lean_list: the lean path with a changed list read and leased through "
    "its pool, django: the full stack) and status.",
    ["answered_by", "status"])
AGENT_LONG_POLLS_HELD = Gauge(
    "shopkeep_agent_long_polls_held", "Agent long-polls (?wait=) being held right now.",
    multiprocess_mode="livesum")
LOGIN_FAILURES = Counter(
    "shopkeep_login_failures", "Sign-ins refused for a wrong e-mail or password.")

# Bound once: the lean agent path counts every poll and must not look labels up each time.
POLLS_MEMORY_304 = AGENT_POLLS.labels(answered_by="memory", status="304")
POLLS_MEMORY_200 = AGENT_POLLS.labels(answered_by="memory", status="200")
POLLS_LEAN_LIST = AGENT_POLLS.labels(answered_by="lean_list", status="200")
