"""Discord roles and /claim exist now (shopkeep.discord): the guide that 0003 unpublished
comes back, rewritten to Shopkeep's pages and words. A guide a staff member edited
(updated_by set) is left as they wrote it."""

from django.db import migrations

STEPS = [
    "Open Settings > Discord and press Check: it names each problem in plain words",
    "The bot needs the \"Manage Roles\" permission in your Discord server",
    "The bot's highest role must be above every role it assigns (Server Settings > Roles: drag "
    "it up)",
    "Pick roles by id, not by name, on the product's Discord roles page",
    "Buyers sign in with Discord at checkout; the role goes to that account",
    "A buyer who had not joined your server uses the /claim command there (with the order "
    "number and checkout e-mail if they bought with another account)",
    "The order's delivery log says why a role was not given; after fixing it, press Retry "
    "delivery",
    "See docs/discord.md",
]


def publish(apps, schema_editor):
    Guide = apps.get_model("support", "Guide")
    Guide.objects.filter(slug="discord-roles-not-assigning", updated_by__isnull=True).update(
        title="Discord Roles Not Assigning", problem="Purchased roles aren't being assigned",
        solutions="\n".join(f"- {step}" for step in STEPS),
        keywords="discord role roles bot claim assign manage permission",
        is_published=True)


def unpublish(apps, schema_editor):
    Guide = apps.get_model("support", "Guide")
    Guide.objects.filter(slug="discord-roles-not-assigning", updated_by__isnull=True).update(
        is_published=False)


class Migration(migrations.Migration):
    dependencies = [("support", "0003_guides_only_what_exists")]
    operations = [migrations.RunPython(publish, unpublish)]
