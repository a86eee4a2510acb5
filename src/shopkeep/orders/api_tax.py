"""Store API: tax settings and rates (``/api/v1/tax``)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from shopkeep.core.tenancy import get_for_store
from shopkeep.orders import tax
from shopkeep.orders.models import TaxRate
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["tax"])


class TaxSettingsIO(Schema):
    enabled: bool
    prices_include_tax: bool
    home_country: str = Field("", max_length=2)
    reverse_charge: bool = True


class TaxRateIn(Schema):
    country: str = Field(..., min_length=2, max_length=2)
    region: str = Field("", max_length=64)
    rate: str = Field(..., max_length=8, pattern=r"^\d{1,3}(\.\d{1,3})?$")
    label: str = Field("VAT", max_length=40)


class TaxRateOut(Schema):
    id: int
    country: str
    region: str
    rate: str
    label: str

    @staticmethod
    def resolve_rate(obj: TaxRate) -> str:
        return format(obj.rate.normalize(), "f")


class LoadEuIn(Schema):
    overwrite: bool = False


class LoadEuOut(Schema):
    loaded: int


@router.get("/tax", response=TaxSettingsIO, auth=scope("store:read"))
def tax_settings_get(request: HttpRequest):
    return tax.tax_settings(request.store)


@router.put("/tax", response=TaxSettingsIO, auth=scope("store:write"))
def tax_settings_put(request: HttpRequest, payload: TaxSettingsIO):
    return tax.tax_settings_set(store=request.store, actor=Actor.for_token(request.api_token),
                                **payload.dict())


@router.get("/tax/rates", response=list[TaxRateOut], auth=scope("store:read"))
def tax_rate_list(request: HttpRequest):
    return list(TaxRate.objects.filter(store=request.store))


@router.post("/tax/rates", response={201: TaxRateOut}, auth=scope("store:write"),
             summary="Create or change the rate of a country, or of one region of it")
def tax_rate_put(request: HttpRequest, payload: TaxRateIn):
    return Status(201, tax.tax_rate_set(store=request.store,
                                        actor=Actor.for_token(request.api_token),
                                        **payload.dict()))


@router.delete("/tax/rates/{rate_id}", response={204: None}, auth=scope("store:write"))
def tax_rate_delete(request: HttpRequest, rate_id: int):
    rate = get_for_store(TaxRate, request.store, pk=rate_id)
    tax.tax_rate_delete(store=request.store, actor=Actor.for_token(request.api_token),
                        rate=rate)
    return Status(204, None)


@router.post("/tax/eu-rates", response=LoadEuOut, auth=scope("store:write"),
             summary="Add the shipped EU standard VAT rates (kept edits stay unless overwrite)")
def tax_rates_load_eu(request: HttpRequest, payload: LoadEuIn):
    return {"loaded": tax.tax_rates_load_eu(store=request.store,
                                            actor=Actor.for_token(request.api_token),
                                            overwrite=payload.overwrite)}
