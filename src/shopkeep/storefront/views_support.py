"""Customer tickets on the storefront: the form, the follow page (its address is the
capability, e-mailed to the customer) and the signed-in customer's ticket list."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from shopkeep.core.errors import ServiceError
from shopkeep.core.refusals import refusal_response, too_large_response
from shopkeep.storefront.views import _customer, _render, _store
from shopkeep.stores.audit import Actor
from shopkeep.support import selectors, services
from shopkeep.support.attachments import attachment_response
from shopkeep.support.forms import CloseForm, CustomerTicketForm, ReopenForm, ReplyForm, too_large
from shopkeep.support.models import Kind, Ticket
from shopkeep.support.redaction import notice_for
from shopkeep.support.services import Side

NEW_TICKET_INTERVAL = 30


def _too_large(request: HttpRequest) -> HttpResponse:
    return too_large_response(request, "The upload is too large: at most 5 files of 10 MB each.")


def _private(response: HttpResponse) -> HttpResponse:
    # The follow page's address opens the ticket: no other site may see it as a referrer.
    # (Not "no-referrer": browsers then send "Origin: null" and CSRF refuses the forms.)
    response["Referrer-Policy"] = "same-origin"
    return response


def support_new(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = _store(store_slug)
    customer = _customer(request, store)
    if request.method == "POST" and too_large(request):
        return _too_large(request)
    form = CustomerTicketForm(request.POST or None, request.FILES or None,
                              signed_in=customer is not None,
                              initial={"order_number": request.GET.get("order", "")[:20]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        email = customer.email if customer else data["email"].strip().lower()
        # One new ticket per address every half minute: the form is public.
        if not cache.add(f"support-new:{store.pk}:{email}", 1, timeout=NEW_TICKET_INTERVAL):
            form.add_error(None, "You just sent a ticket. Please wait a moment before the next.")
        else:
            try:
                ticket = services.customer_ticket_create(
                    store=store, actor=Actor.system(f"customer {email}"), email=email,
                    name="" if customer else data["name"], subject=data["subject"],
                    message=data["message"], category=data["category"],
                    priority=data["priority"], order_number=data["order_number"],
                    customer=customer, files=data["attachments"])
            except ServiceError as exc:
                cache.delete(f"support-new:{store.pk}:{email}")
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                notice = notice_for(ticket.messages.first().redactions)
                if notice:
                    messages.warning(request, notice)
                if customer is not None:
                    messages.success(request, f"Ticket {ticket.number} was sent.")
                    return redirect("storefront:support_ticket", store.slug, ticket.access_key)
                # A guest is shown no link: it is mailed, so only the address's owner can
                # follow the ticket (and read the store's answers about their orders).
                return _render(request, store, "support/sent.html", {"email": email})
    return _render(request, store, "support/new.html", {"form": form},
                   status=400 if form.errors else 200)


def _ticket(store, access_key: str) -> Ticket:
    return get_object_or_404(Ticket.objects.select_related("store", "order"), store=store,
                             kind=Kind.CUSTOMER, access_key=access_key)


def support_ticket(request: HttpRequest, store_slug: str, access_key: str) -> HttpResponse:
    store = _store(store_slug)
    ticket = _ticket(store, access_key)
    if request.method == "POST":
        if too_large(request):
            return _too_large(request)
        if answer := _act(request, ticket, request.POST.get("action", "reply")):
            return answer
        return redirect("storefront:support_ticket", store.slug, ticket.access_key)
    return _private(_render(request, store, "support/ticket.html", {
        "ticket": ticket, "history": selectors.visible_messages(ticket, include_internal=False),
        "reply_form": ReplyForm(), "close_form": CloseForm(), "reopen_form": ReopenForm()}))


def _act(request: HttpRequest, ticket: Ticket, action: str) -> HttpResponse | None:
    """Do ``action``; a refusal is a message on the page, or the 4xx for JSON/htmx."""
    actor = Actor.system(f"customer {ticket.customer_email}")
    try:
        if action == "close":
            form = CloseForm(request.POST)
            services.ticket_close(ticket=ticket, actor=actor, side=Side.REQUESTER,
                                  message=form.cleaned_data["message"] if form.is_valid()
                                  else "")
            messages.success(request, "Ticket closed.")
            return None
        form = (ReopenForm if action == "reopen" else ReplyForm)(request.POST, request.FILES)
        if not form.is_valid():
            raise ServiceError("invalid", " ".join(m for e in form.errors.values() for m in e))
        data = form.cleaned_data
        if action == "reopen":
            services.ticket_reopen(ticket=ticket, actor=actor, side=Side.REQUESTER,
                                   message=data["message"], files=data["attachments"])
            messages.success(request, "Ticket reopened.")
            return None
        message = services.ticket_reply(ticket=ticket, actor=actor, side=Side.REQUESTER,
                                        body=data["message"], files=data["attachments"])
        if notice := notice_for(message.redactions):
            messages.warning(request, notice)
        messages.success(request, "Reply sent.")
    except ServiceError as exc:
        if answer := refusal_response(request, exc):
            return answer
        messages.error(request, exc.message)
    return None


def support_attachment(request: HttpRequest, store_slug: str, access_key: str,
                       attachment_id: int) -> FileResponse:
    ticket = _ticket(_store(store_slug), access_key)
    found = selectors.visible_attachment(ticket, attachment_id, include_internal=False)
    if found is None:
        raise Http404("No such attachment")
    return attachment_response(found)


def support_list(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = _store(store_slug)
    customer = _customer(request, store)
    if customer is None:
        return redirect("storefront:account_login", store_slug=store.slug)
    return _render(request, store, "support/list.html", {
        "tickets": selectors.customer_tickets(customer=customer)[:100]})
