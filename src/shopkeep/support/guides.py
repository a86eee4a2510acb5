"""The "Quick help first" knowledge base: suggestions while a subject is typed, staff
editing, and a record of guides opened that no ticket followed."""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.text import slugify

from shopkeep.accounts.models import User
from shopkeep.core.errors import PermissionDenied, ServiceError
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm
from shopkeep.support.models import Guide, GuideView

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "cant", "do", "does", "dont",
    "for", "from", "how", "i", "in", "is", "it", "my", "no", "not", "of", "on", "or", "our",
    "the", "to", "was", "we", "what", "when", "why", "with", "won", "wont", "you", "your", "get",
    "getting", "got",
))
# How long after opening a guide a ticket still counts as "followed".
FOLLOW_WINDOW = timedelta(hours=24)


def _words(text: str) -> set[str]:
    words = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP or len(word) < 2:
            continue
        # Crude stemming so "delivering" finds "delivery" and "webhooks" finds "webhook".
        words.add(word[:6])
    return words


def suggest(query: str, *, limit: int = 3) -> list[Guide]:
    wanted = _words(query[:200])
    if not wanted:
        return []
    scored = []
    for guide in Guide.objects.filter(is_published=True):
        title = _words(guide.title)
        body = _words(f"{guide.problem} {guide.keywords}")
        score = 3 * len(wanted & title) + len(wanted & body)
        if score:
            scored.append((score, guide.title, guide))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [guide for _, _, guide in scored[:limit]]


@transaction.atomic
def guide_opened(*, guide: Guide, store: Store, actor: Actor) -> GuideView:
    require_permission(store, actor, Perm.PLATFORM_SUPPORT)
    return GuideView.objects.create(guide=guide, store=store, user=actor.user)


def _require_staff(actor: Actor) -> User:
    if actor.user is None or not actor.user.is_staff:
        raise PermissionDenied("Only platform staff edit the knowledge base.")
    return actor.user


@transaction.atomic
def guide_save(*, actor: Actor, guide: Guide | None, title: str, problem: str, solutions: str,
               keywords: str = "", is_published: bool = True) -> Guide:
    user = _require_staff(actor)
    title, problem = " ".join(title.split())[:120], " ".join(problem.split())[:300]
    solutions = solutions.replace("\r\n", "\n").strip()
    if not title or not problem or not solutions:
        raise ServiceError("guide_incomplete", "A guide needs a title, a problem and solutions.")
    if guide is None:
        base = slugify(title)[:70] or "guide"
        slug, n = base, 2
        while Guide.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        guide = Guide(slug=slug)
    guide.title, guide.problem, guide.solutions = title, problem, solutions
    guide.keywords = " ".join(keywords.split())[:300]
    guide.is_published = is_published
    guide.updated_at, guide.updated_by = timezone.now(), user
    guide.save()
    audit_record(store=None, actor=actor, action="guide.saved", obj=guide,
                 details={"title": title, "published": is_published})
    return guide


def guide_stats() -> dict[int, dict]:
    """Per guide: times opened, opened and followed by a ticket, opened with no ticket after
    the follow window (the tickets it avoided)."""
    cutoff = timezone.now() - FOLLOW_WINDOW
    rows = Guide.objects.annotate(
        opened=Count("views"),
        followed=Count("views", filter=Q(views__ticket__isnull=False)),
        deflected=Count("views", filter=Q(views__ticket__isnull=True,
                                          views__opened_at__lt=cutoff)),
    ).values("pk", "opened", "followed", "deflected")
    return {row["pk"]: row for row in rows}
