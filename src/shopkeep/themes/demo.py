"""The demo store's storefront: images for every product, branding, widgets, a rules page,
published; so `make run` shows the theme as a store owner would set it up."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from shopkeep.catalog.gallery import gallery_image_add
from shopkeep.catalog.models import Product
from shopkeep.catalog.services import (
    ActionInput,
    ProductInput,
    delivery_actions_set,
    product_create,
    product_update,
)
from shopkeep.demo_art import banner_art, logo_art, product_art
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store
from shopkeep.themes.models import StorePage
from shopkeep.themes.services import (
    page_create,
    storefront_draft_update,
    storefront_publish,
    storefront_settings_get,
)

# slug -> (emblem, top colour, bottom colour, glow colour)
ART = {
    "vip-rank": ("crown", (120, 53, 15), (30, 27, 75), (253, 224, 71)),
    "vip-monthly": ("star", (88, 28, 135), (15, 23, 42), (216, 180, 254)),
    "diamond-kit": ("gem", (30, 64, 175), (15, 23, 42), (125, 211, 252)),
    "gem-pack": ("shield", (20, 83, 45), (15, 23, 42), (134, 239, 172)),
    "flight-boost": ("bolt", (154, 52, 18), (30, 27, 75), (253, 186, 116)),
    "mvp-rank": ("crown", (127, 29, 29), (23, 23, 23), (252, 165, 165)),
    "gift-card-25": ("star", (19, 78, 74), (15, 23, 42), (153, 246, 228)),
}
EXTRA = [
    ("Gem Pack", "gem-pack", "2.99", "**500 gems** to spend in the gem shop, added to your "
     "balance at once.", "eco give {player} 500"),
    ("Flight Boost", "flight-boost", "1.49", "Fly anywhere for **one hour** of play time.",
     "lp user {player} permission settemp essentials.fly true 1h"),
]
# The VIP rank's gallery: what the rank brings, after its cover.
GALLERY = [("diamond-kit", "The VIP kit: diamond tools and armour"),
           ("flight-boost", "Flight in every survival world"),
           ("vip-monthly", "The gold VIP tag in chat")]
RULES = """## Server rules

1. Be kind. No harassment, hate speech or spam.
2. No cheats, hacked clients or x-ray packs.
3. Do not grief or steal from other players' builds.

## Purchases

Ranks and items are delivered in game within seconds of payment. Items that need you online
wait until you join. Questions? Open a ticket from **Support**.
"""


def _image(slug: str) -> SimpleUploadedFile:
    shape, top, bottom, glow = ART[slug]
    return SimpleUploadedFile(f"{slug}.png", product_art(shape, top, bottom, glow),
                              content_type="image/png")


def _input(p: Product) -> ProductInput:
    return ProductInput(name=p.name, price=p.price, slug=p.slug, description=p.description,
                        type=p.type, category_id=p.category_id,
                        billing_interval=p.billing_interval, trial_days=p.trial_days,
                        is_active=p.is_active, is_featured=p.is_featured,
                        stock_enabled=p.stock_enabled, stock_quantity=p.stock_quantity,
                        sort_order=p.sort_order)


def seed_demo_storefront(*, store: Store, actor: Actor) -> None:
    items = store.categories.filter(slug="items").first()
    for name, slug, price, description, command in EXTRA:
        if not Product.objects.alive().filter(store=store, slug=slug).exists():
            product = product_create(store=store, actor=actor, data=ProductInput(
                name=name, slug=slug, price=price, description=description,
                category_id=items.pk if items else None), image=_image(slug))
            delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                                 actions=[ActionInput(commands=[command])])
    for product in Product.objects.alive().filter(store=store, slug__in=ART, image=""):
        product_update(store=store, actor=actor, product=product, data=_input(product),
                       image=_image(product.slug))
    vip = Product.objects.alive().filter(store=store, slug="vip-rank").first()
    if vip is not None and not vip.gallery.exists():
        for slug, alt in GALLERY:
            gallery_image_add(store=store, actor=actor, product=vip, image=_image(slug),
                              alt_text=alt)
    row = storefront_settings_get(store=store)
    if row.published:
        return  # the owner has published their own design: leave it alone
    storefront_draft_update(store=store, actor=actor, changes={
        "theme": "default", "tagline": "Survival, skyblock and minigames since 2019",
        "meta_description": "Ranks, kits and gems for the Demo Craft Minecraft server, "
                            "delivered in game within seconds.",
        "server_address": "play.democraft.example", "max_players": 100,
        "announcement": "Summer event: double XP all weekend!",
        "goal_title": "Server costs this month", "goal_amount": "150",
        "discord_url": "https://discord.gg/example", "website_url": "https://democraft.example",
        "widgets": {"server_status": True, "recent_purchases": True, "top_customer": True,
                    "goal": True, "announcement": True},
    }, images={
        "banner": SimpleUploadedFile("banner.png", banner_art((15, 23, 42), (49, 46, 129)),
                                     content_type="image/png"),
        "logo": SimpleUploadedFile("logo.png", logo_art((29, 78, 216)),
                                   content_type="image/png"),
    })
    if not StorePage.objects.filter(store=store, slug="rules").exists():
        page_create(store=store, actor=actor, title="Rules", slug="rules", body=RULES,
                    is_published=True)
    storefront_publish(store=store, actor=actor)
