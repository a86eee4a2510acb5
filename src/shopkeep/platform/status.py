"""Component states for the status page, computed from internal signals (signals.py, the
heartbeats, the web process's own error rates) and the incidents staff declared.

Thresholds are written down in docs/operations.md#status-page; a signal turns a component
worse, never better than what staff declared.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from shopkeep.core import metrics
from shopkeep.delivery.models import DeliveryCommand
from shopkeep.platform import signals
from shopkeep.platform.models import (
    COMPONENTS,
    Incident,
    State,
    StatusDay,
    worst,
)

HISTORY_DAYS = 90
DELIVERY_LAG = (timedelta(minutes=5), timedelta(minutes=15))  # degraded, partial outage
WEBHOOK_LAG = (timedelta(minutes=5), timedelta(minutes=30))
TASK_LAG = (timedelta(minutes=5), timedelta(minutes=15))
ERROR_RATE = (0.05, 0.25)
ERROR_MIN_REQUESTS = 20
AGENT_RECENT = timedelta(minutes=3)
# Route prefixes (URL patterns) of each component, for its 5xx rate.
ROUTES = {
    "storefront": ("s/",),
    "checkout": ("pay/", "api/v1/checkout"),
    "delivery_api": ("api/v1/agent/",),
    "dashboard": ("dashboard/",),
}


@dataclass
class ComponentState:
    key: str
    name: str
    state: str = State.OPERATIONAL
    reasons: list[str] = field(default_factory=list)

    def worsen(self, state: str, reason: str) -> None:
        self.state = worst(self.state, state)
        self.reasons.append(reason)

    @property
    def label(self) -> str:
        return State(self.state).label


def _lag_state(age: float, limits: tuple[timedelta, timedelta]) -> str | None:
    if age > limits[1].total_seconds():
        return State.PARTIAL_OUTAGE
    if age > limits[0].total_seconds():
        return State.DEGRADED
    return None


class ErrorWindow:
    """5xx share per component over the last few minutes, from this process's counters.

    Counters only grow, so two snapshots a few minutes apart give the window's requests; a
    snapshot is taken whenever states are computed (page views, the sampling task)."""

    KEEP = 15 * 60
    MIN_SPAN = 60

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: deque[tuple[float, dict[str, tuple[float, float]]]] = deque()

    @staticmethod
    def totals() -> dict[str, tuple[float, float]]:
        out = {key: [0.0, 0.0] for key in ROUTES}
        for family in metrics.HTTP_REQUESTS.collect():
            for sample in family.samples:
                if not sample.name.endswith("_total"):
                    continue
                route = sample.labels.get("route", "")
                for key, prefixes in ROUTES.items():
                    if route.startswith(prefixes):
                        out[key][0] += sample.value
                        if sample.labels.get("status", "").startswith("5"):
                            out[key][1] += sample.value
        return {k: (v[0], v[1]) for k, v in out.items()}

    def rates(self, now: float | None = None) -> dict[str, float | None]:
        now = time.monotonic() if now is None else now
        current = self.totals()
        with self._lock:
            while self._snapshots and now - self._snapshots[0][0] > self.KEEP:
                self._snapshots.popleft()
            base = next((snap for at, snap in self._snapshots if now - at >= self.MIN_SPAN),
                        None)
            if not self._snapshots or now - self._snapshots[-1][0] >= 30:
                self._snapshots.append((now, current))
        result: dict[str, float | None] = {}
        for key, (total, errors) in current.items():
            if base is None:
                result[key] = None
                continue
            requests = total - base[key][0]
            result[key] = ((errors - base[key][1]) / requests
                           if requests >= ERROR_MIN_REQUESTS else None)
        return result


ERRORS = ErrorWindow()


def _delivery_lag(now: datetime) -> float:
    """Age of the oldest due command on a server whose agent polled recently: commands for
    a server that is switched off wait for their agent, which is not the platform's lag."""
    recent = now - AGENT_RECENT
    oldest = (DeliveryCommand.objects.filter(
        status=DeliveryCommand.Status.PENDING, execute_after__isnull=True,
        server__removed_at__isnull=True)
        .filter(Q(server__agent_seen_at__gte=recent) | Q(server__anonymous_seen_at__gte=recent))
        .order_by("created_at").values_list("created_at", flat=True).first())
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def open_incidents(now: datetime) -> list[Incident]:
    return list(Incident.objects.filter(resolved_at__isnull=True).exclude(
        status__in=Incident.CLOSED).prefetch_related("updates"))


def compute(*, now: datetime | None = None, with_errors: bool = True
            ) -> tuple[list[ComponentState], list[Incident]]:
    """Every component's state now, and the open incidents and maintenance."""
    now = now or timezone.now()
    states = {key: ComponentState(key, name) for key, name in COMPONENTS}
    try:
        readings = signals.read(now=now)
        incidents = open_incidents(now)
        delivery_lag = _delivery_lag(now)
    except DatabaseError:
        for c in states.values():
            c.worsen(State.MAJOR_OUTAGE, "The database does not answer.")
        return list(states.values()), []
    if not readings.live_processes.get("worker"):
        states["checkout"].worsen(State.DEGRADED, "No background worker is running: "
                                  "refunds, gateway notices and receipts wait.")
    if (lag := _lag_state(readings.oldest_ready_task_age, TASK_LAG)):
        states["checkout"].worsen(lag, "Background tasks are waiting longer than usual.")
    if (lag := _lag_state(delivery_lag, DELIVERY_LAG)):
        states["delivery_api"].worsen(lag, "Commands for connected game servers are "
                                      "waiting longer than usual.")
    if not readings.live_processes.get("dispatcher"):
        if readings.webhook_backlog:
            states["webhooks"].worsen(State.PARTIAL_OUTAGE,
                                      "No webhook dispatcher is running.")
        else:
            states["webhooks"].worsen(State.DEGRADED, "No webhook dispatcher is running.")
    if (lag := _lag_state(readings.webhook_backlog_age, WEBHOOK_LAG)):
        states["webhooks"].worsen(lag, "Webhook deliveries are waiting longer than usual.")
    if with_errors:
        for key, rate in ERRORS.rates().items():
            if rate is None:
                continue
            if rate > ERROR_RATE[1]:
                states[key].worsen(State.PARTIAL_OUTAGE, "Many requests are failing.")
            elif rate > ERROR_RATE[0]:
                states[key].worsen(State.DEGRADED, "Some requests are failing.")
    for incident in incidents:
        if incident.active_at(now):
            for key in incident.components:
                if key in states:
                    states[key].worsen(incident.impact, incident.title)
    return list(states.values()), incidents


def overall(components: list[ComponentState]) -> tuple[str, str]:
    """(indicator, description) for the page's headline."""
    state = worst(*(c.state for c in components))
    text = {
        State.OPERATIONAL: "All systems operational",
        State.MAINTENANCE: "Maintenance in progress",
        State.DEGRADED: "Some systems are degraded",
        State.PARTIAL_OUTAGE: "Partial outage",
        State.MAJOR_OUTAGE: "Major outage",
    }[state]
    return state, text


# -- history -------------------------------------------------------------------------------

@dataclass
class Day:
    day: date
    state: str
    uptime: float | None  # share of automatic checks that found it up; None: none ran
    incidents: list[str]


def history(*, today: date | None = None) -> dict[str, list[Day]]:
    """90 days per component, oldest first: the worst of what the checks saw and what
    incidents declared that day."""
    today = today or timezone.now().date()
    first = today - timedelta(days=HISTORY_DAYS - 1)
    rows = {(r.component, r.day): r for r in StatusDay.objects.filter(day__gte=first)}
    declared: dict[tuple[str, date], list[tuple[str, str]]] = {}
    for incident in Incident.objects.filter(
            Q(resolved_at__isnull=True) | Q(resolved_at__date__gte=first),
            starts_at__date__lte=today):
        start = max(incident.starts_at.date(), first)
        end = (incident.resolved_at or incident.ends_at or timezone.now()).date()
        if incident.kind == Incident.Kind.MAINTENANCE and incident.status == \
                Incident.Status.SCHEDULED:
            continue
        day = start
        while day <= min(end, today):
            for key in incident.components:
                declared.setdefault((key, day), []).append((incident.impact, incident.title))
            day += timedelta(days=1)
    out: dict[str, list[Day]] = {}
    for key, _name in COMPONENTS:
        days = []
        for n in range(HISTORY_DAYS):
            day = first + timedelta(days=n)
            row = rows.get((key, day))
            state = State.OPERATIONAL
            uptime = None
            if row and row.samples:
                uptime = 1 - row.outage / row.samples
                if row.outage:
                    state = State.PARTIAL_OUTAGE
                elif row.degraded:
                    state = State.DEGRADED
            notes = declared.get((key, day), [])
            state = worst(state, *(impact for impact, _ in notes))
            days.append(Day(day, state, uptime, [title for _, title in notes]))
        out[key] = days
    return out


def uptime_percent(days: list[Day]) -> float | None:
    measured = [d.uptime for d in days if d.uptime is not None]
    return round(100 * sum(measured) / len(measured), 2) if measured else None
