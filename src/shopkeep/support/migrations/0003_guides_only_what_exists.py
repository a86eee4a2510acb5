"""The seeded guides described PayPal, Discord's /claim, custom domains, a status page and
platform subscriptions, none of which Shopkeep has: rewrite them to what exists (see
support/features.py, whose test ties each guide to its features). Guides a staff member
edited (updated_by set) are left alone; the Discord guide is unpublished, not deleted, so it
can come back with the feature."""

from django.db import migrations

GUIDES = {
    "payment-gateway-not-working": (
        "Payment Gateway Not Working", "Unable to connect Stripe or take payments",
        ["Connect Stripe in Settings > Payments: paste the secret key and the webhook signing "
         "secret",
         "A live store needs live keys (sk_live_...); test keys work while the store is in "
         "test mode",
         "Check the keys are copied whole, with no extra spaces",
         "Finish your Stripe account's verification so Stripe enables payments",
         "Add the webhook URL shown in Settings > Payments to Stripe (Developers > Webhooks) "
         "with the events listed there",
         "See docs/payments.md"],
        "stripe payment gateway checkout connect credentials pay keys webhook"),
    "products-not-delivering": (
        "Products Not Delivering", "Orders are paid but items don't arrive in game",
        ["Open Servers: the server should show online with a recent heartbeat; if not, start "
         "shopkeep-agent on the game server",
         "Check the store and server secrets in the agent configuration (Servers > your "
         "server shows the configuration to paste)",
         "Open the order: its delivery log shows each command and the game's answer",
         "Commands that wait for the player run when the player joins the server",
         "Fix the command (without the leading slash), then press Retry delivery on the order",
         "See docs/agent.md"],
        "delivery deliver commands agent plugin server items rank not received order"),
    "store-not-loading": (
        "Store Not Loading", "Store shows an error or won't load",
        ["Open the store at its address, /s/<your-store>/, to rule out an old link",
         "Clear the browser's cache and cookies for the site",
         "Try a different browser or a private window",
         "If the dashboard loads but the store does not, open a ticket with the address and "
         "the time"],
        "store loading down error page offline"),
    "cant-log-in": (
        "Can't Log In", "Unable to access the dashboard",
        ["Use \"Forgot your password?\" on the sign-in page to reset it",
         "Check your e-mail for the verification link (and the spam folder)",
         "If two-factor authentication is on, make sure the authenticator app's clock is "
         "right, or use a recovery code",
         "Clear cookies for this site, or try a different browser",
         "If you still can't sign in, e-mail the platform team"],
        "login log sign password 2fa two factor authentication locked verification email"),
    "webhook-not-receiving-events": (
        "Webhook Not Receiving Events", "Webhooks show errors or nothing arrives",
        ["The endpoint URL must be reachable from the internet over https://",
         "Check your receiver verifies the signature with the endpoint's signing secret",
         "Your endpoint must answer with a 2xx status within the timeout",
         "Open Webhooks > the endpoint: each delivery lists its attempts and the answers "
         "received",
         "Use \"Send a test\" on the endpoint page to try it",
         "See docs/webhooks.md"],
        "webhook webhooks events endpoint signature 404 500 delivery receiving"),
    "api-authentication-failing": (
        "API Authentication Failing", "API requests return 401 or 403",
        ["Check the API token is valid and not revoked (Settings > API tokens)",
         "A 403 names the scope the token lacks: create a token with it",
         "Send the header exactly as `Authorization: Bearer sk_...`",
         "Call the API under /api/v1/ of this site; the interactive reference is at "
         "/api/v1/docs",
         "See docs/api.md"],
        "api token 401 403 unauthorized authentication bearer scope key"),
}


def rewrite(apps, schema_editor):
    Guide = apps.get_model("support", "Guide")
    for slug, (title, problem, steps, keywords) in GUIDES.items():
        Guide.objects.filter(slug=slug, updated_by__isnull=True).update(
            title=title, problem=problem, keywords=keywords,
            solutions="\n".join(f"- {step}" for step in steps))
    Guide.objects.filter(slug="discord-roles-not-assigning", updated_by__isnull=True).update(
        is_published=False)


class Migration(migrations.Migration):
    dependencies = [("support", "0002_seed_guides")]
    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop)]
