from __future__ import annotations

from django.db.models import Q, QuerySet

from shopkeep.customers.models import Customer
from shopkeep.stores.models import Store


def customers(*, store: Store, search: str = "") -> QuerySet[Customer]:
    qs = Customer.objects.filter(store=store)
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(email__icontains=search) | Q(player_name__icontains=search)
                       | Q(name__icontains=search))
    return qs
