"""Analytics: one page that answers "how is the store doing" for a period and a grain."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.analytics import GRAINS, PERIODS, report
from shopkeep.dashboard.charts import Series, bar_chart
from shopkeep.stores.permissions import Perm


@store_view(Perm.ORDERS_VIEW)
def analytics(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "30d")
    period = period if period in PERIODS else "30d"
    grain = request.GET.get("grain", "day")
    grain = grain if grain in GRAINS else "day"
    data = report(store=request.store, period=period, grain=grain)
    labels = [b.label for b in data.buckets]
    charts = [bar_chart(title=f"Net revenue ({currency})", labels=labels, unit=currency,
                        series=[Series("net revenue",
                                       [float(max(b.net(currency), 0)) for b in data.buckets],
                                       "chart-a"),
                                ])
              for currency in data.currencies]
    charts.append(bar_chart(title="Paid orders", labels=labels,
                            series=[Series("orders", [b.orders for b in data.buckets],
                                           "chart-a")]))
    charts.append(bar_chart(title="Buyers: new and returning", labels=labels, series=[
        Series("new", [b.new_customers for b in data.buckets], "chart-a"),
        Series("returning", [b.returning_customers for b in data.buckets], "chart-b")]))
    return render(request, "dashboard/analytics.html", {
        "r": data, "charts": charts, "period": period, "grain": grain,
        "periods": list(PERIODS), "grains": GRAINS})
