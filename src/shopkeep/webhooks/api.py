"""Store API: webhook endpoints, their secrets, test sends, the delivery log and redelivery."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.events.catalogue import EVENT_TYPES, LEGACY_ALIASES
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor
from shopkeep.webhooks import selectors, services
from shopkeep.webhooks.models import WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])


class EndpointIn(Schema):
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, max_length=50)
    all_events: bool = False
    description: str = Field("", max_length=200)
    format: str = WebhookEndpoint.Format.JSON


class EndpointPatch(Schema):
    url: str | None = Field(None, max_length=2000)
    events: list[str] | None = Field(None, max_length=50)
    all_events: bool | None = None
    description: str | None = Field(None, max_length=200)
    format: str | None = None
    is_active: bool | None = None


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    all_events: bool
    format: str
    is_active: bool
    disabled_reason: str
    disabled_at: datetime | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class EndpointCreatedOut(EndpointOut):
    secret: str


class SecretOut(Schema):
    secret: str
    previous_secret_expires_at: datetime | None


class EventTypeOut(Schema):
    name: str
    description: str
    legacy_for: str | None


class TestIn(Schema):
    event_type: str = Field(max_length=64)


class DeliveryOut(Schema):
    id: str = Field(alias="public_id")
    endpoint_id: int
    event_type: str
    test: bool = Field(alias="is_test")
    status: str
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    completed_at: datetime | None


class AttemptOut(Schema):
    number: int
    started_at: datetime
    duration_ms: int
    url: str
    request_headers: dict
    response_status: int | None
    response_headers: dict
    response_body: str
    error: str
    succeeded: bool


class DeliveryDetailOut(DeliveryOut):
    body: str
    attempts: list[AttemptOut]

    @staticmethod
    def resolve_attempts(obj: WebhookDelivery) -> list:
        return list(obj.attempts.all())


class DeliveryFilters(Schema):
    status: str | None = Field(None, max_length=16)
    event_type: str | None = Field(None, max_length=64)
    since: datetime | None = None
    until: datetime | None = None


class RedeliverIn(Schema):
    since: datetime


class RedeliveredOut(Schema):
    redelivered: int


def _endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    return get_for_store(WebhookEndpoint, request.store, pk=endpoint_id)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_token(request.api_token)


@router.get("/webhooks/event-types", response=list[EventTypeOut], auth=scope("webhooks:read"))
def event_types(request: HttpRequest) -> list[dict]:
    return ([{"name": n, "description": d, "legacy_for": None} for n, d in EVENT_TYPES.items()]
            + [{"name": n, "description": f"Legacy: use {r}", "legacy_for": r}
               for n, r in LEGACY_ALIASES.items()])


@router.get("/webhooks", response=list[EndpointOut], auth=scope("webhooks:read"))
@paginate(PagePagination)
def endpoint_list(request: HttpRequest):
    return selectors.endpoints(store=request.store)


@router.post("/webhooks", response={201: EndpointCreatedOut}, auth=scope("webhooks:write"))
def endpoint_create(request: HttpRequest, payload: EndpointIn):
    endpoint = services.endpoint_create(
        store=request.store, actor=_actor(request), url=payload.url, events=payload.events,
        all_events=payload.all_events, description=payload.description, format=payload.format)
    return Status(201, endpoint)


@router.get("/webhooks/{endpoint_id}", response=EndpointOut, auth=scope("webhooks:read"))
def endpoint_detail(request: HttpRequest, endpoint_id: int):
    return _endpoint(request, endpoint_id)


@router.patch("/webhooks/{endpoint_id}", response=EndpointOut, auth=scope("webhooks:write"))
def endpoint_update(request: HttpRequest, endpoint_id: int, payload: EndpointPatch):
    endpoint = _endpoint(request, endpoint_id)
    given = payload.dict(exclude_unset=True)
    merged = {key: endpoint.__dict__[key] if given.get(key) is None else given[key]
              for key in ("url", "events", "all_events", "description", "format",
                          "is_active")}
    return services.endpoint_update(store=request.store, actor=_actor(request),
                                    endpoint=endpoint, **merged)


@router.delete("/webhooks/{endpoint_id}", response={204: None}, auth=scope("webhooks:write"))
def endpoint_delete(request: HttpRequest, endpoint_id: int):
    services.endpoint_delete(store=request.store, actor=_actor(request),
                             endpoint=_endpoint(request, endpoint_id))
    return Status(204, None)


@router.get("/webhooks/{endpoint_id}/secret", response=SecretOut,
            auth=scope("webhooks:write"))
def endpoint_secret(request: HttpRequest, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    secret = services.endpoint_reveal_secret(store=request.store, actor=_actor(request),
                                             endpoint=endpoint)
    return {"secret": secret,
            "previous_secret_expires_at": endpoint.previous_secret_expires_at}


@router.post("/webhooks/{endpoint_id}/rotate-secret", response=SecretOut,
             auth=scope("webhooks:write"))
def endpoint_rotate(request: HttpRequest, endpoint_id: int):
    endpoint = services.endpoint_rotate_secret(store=request.store, actor=_actor(request),
                                               endpoint=_endpoint(request, endpoint_id))
    return {"secret": endpoint.secret,
            "previous_secret_expires_at": endpoint.previous_secret_expires_at}


@router.post("/webhooks/{endpoint_id}/test", response={202: DeliveryOut},
             auth=scope("webhooks:write"))
def endpoint_test(request: HttpRequest, endpoint_id: int, payload: TestIn):
    delivery = services.webhook_test_send(store=request.store, actor=_actor(request),
                                          endpoint=_endpoint(request, endpoint_id),
                                          event_type=payload.event_type)
    return Status(202, delivery)


@router.get("/webhooks/{endpoint_id}/deliveries", response=list[DeliveryOut],
            auth=scope("webhooks:read"))
@paginate(PagePagination)
def delivery_list(request: HttpRequest, endpoint_id: int,
                  filters: Query[DeliveryFilters]):
    return selectors.deliveries(store=request.store, endpoint=_endpoint(request, endpoint_id),
                                status=filters.status or "",
                                event_type=filters.event_type or "",
                                since=filters.since, until=filters.until)


@router.get("/webhooks/{endpoint_id}/deliveries/{delivery_id}", response=DeliveryDetailOut,
            auth=scope("webhooks:read"))
def delivery_detail(request: HttpRequest, endpoint_id: int, delivery_id: str):
    endpoint = _endpoint(request, endpoint_id)
    return get_for_store(WebhookDelivery.objects.filter(endpoint=endpoint), request.store,
                         public_id=delivery_id)


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
             response={202: DeliveryOut}, auth=scope("webhooks:write"))
def delivery_redeliver(request: HttpRequest, endpoint_id: int, delivery_id: str):
    endpoint = _endpoint(request, endpoint_id)
    delivery = get_for_store(WebhookDelivery.objects.filter(endpoint=endpoint), request.store,
                             public_id=delivery_id)
    return Status(202, services.delivery_redeliver(store=request.store, actor=_actor(request),
                                                   delivery=delivery))


@router.post("/webhooks/{endpoint_id}/redeliver-failed", response={202: RedeliveredOut},
             auth=scope("webhooks:write"))
def redeliver_failed(request: HttpRequest, endpoint_id: int, payload: RedeliverIn):
    count = services.deliveries_redeliver_failed(
        store=request.store, actor=_actor(request), endpoint=_endpoint(request, endpoint_id),
        since=payload.since)
    return Status(202, {"redelivered": count})
