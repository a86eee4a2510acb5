"""Re-seal every stored gateway secret with the first key of SHOPKEEP_PAYMENT_ENCRYPTION_KEYS.

Rotation: put the new key first (keep the old ones after it), restart, run this command
(`shopkeep manage reencrypt_payment_secrets`), then drop the old keys. Rows already sealed
with the current key are left alone, so running it twice is harmless.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from shopkeep.payments.models import StripeConnection
from shopkeep.payments.sealed import SealError, seal, sealed_with_current_key, unseal

FIELDS = ("secret_key", "webhook_secret")


class Command(BaseCommand):
    help = "Re-encrypt stored payment secrets with the current (first) encryption key."

    def handle(self, *args: object, **options: object) -> None:
        changed = failed = 0
        for pk in StripeConnection.objects.values_list("pk", flat=True):
            with transaction.atomic():
                row = StripeConnection.objects.select_for_update().get(pk=pk)
                updates = []
                for field in FIELDS:
                    column = f"{field}_sealed"
                    value = getattr(row, column)
                    if sealed_with_current_key(value):
                        continue
                    context = row.seal_context(field)
                    try:
                        setattr(row, column, seal(unseal(value, context=context),
                                                  context=context))
                    except SealError as exc:
                        failed += 1
                        self.stderr.write(f"store {row.store_id} {field}: {exc}")
                        continue
                    updates.append(column)
                if updates:
                    row.save(update_fields=updates)
                    changed += 1
        self.stdout.write(f"re-encrypted {changed} connection(s), {failed} unreadable")
        if failed:
            raise CommandError("some secrets could not be opened with the configured keys")
