from django.db import migrations


def start_at_latest_event(apps, schema_editor):
    # An existing store must not mail every past buyer when this ships: the scan starts after
    # the newest event there is now.
    Event = apps.get_model("events", "Event")
    ScanCursor = apps.get_model("notifications", "ScanCursor")
    latest = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ScanCursor.objects.update_or_create(name="events", defaults={"last_event_id": latest})


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("events", "0001_initial"),
    ]

    operations = [migrations.RunPython(start_at_latest_event, migrations.RunPython.noop)]
