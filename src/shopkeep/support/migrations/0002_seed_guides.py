"""Seed the knowledge base with seed 000's "Common Issues and Solutions" (staff edit it later
in the console; this migration never overwrites an edited guide)."""

from django.db import migrations

GUIDES = [
    ("payment-gateway-not-working", "Payment Gateway Not Working",
     "Unable to connect Stripe or PayPal",
     ["Verify you're using live (not test) credentials",
      "Check API keys are copied correctly (no extra spaces)",
      "Ensure your payment provider account is fully verified",
      "Confirm the webhook URL is configured in the provider dashboard",
      "See the payment setup guide in docs/"],
     "stripe paypal payment gateway checkout connect credentials pay"),
    ("products-not-delivering", "Products Not Delivering",
     "Orders complete but items don't deliver",
     ["Verify the game server agent (shopkeep-agent) is installed and running",
      "Check the store and server secrets in the agent configuration",
      "Review the delivery log in the order details for error messages",
      "Ensure the delivery commands are valid for your server",
      "Try the Retry Delivery button on the order",
      "See the game server integration guide"],
     "delivery deliver commands agent plugin server items rank not received order"),
    ("discord-roles-not-assigning", "Discord Roles Not Assigning",
     "Purchased roles aren't being assigned",
     ["Ensure the bot has the \"Manage Roles\" permission",
      "Verify the bot's role is higher than the roles it assigns",
      "Check role IDs (not names) are configured correctly",
      "Confirm the customer authenticated with Discord at checkout",
      "The customer must use the /claim command in your server",
      "See the Discord integration guide"],
     "discord role roles bot claim assign"),
    ("store-not-loading", "Store Not Loading", "Store shows error or won't load",
     ["Check that you have an active subscription",
      "Verify your domain DNS settings (for custom domains)",
      "Try accessing the store through its default address",
      "Clear browser cache and cookies",
      "Try a different browser or incognito mode",
      "Check the status page for incidents"],
     "store loading down error page domain dns offline"),
    ("cant-log-in", "Can't Log In", "Unable to access the dashboard",
     ["Use Forgot Password to reset your password",
      "Check your e-mail for the verification link (check the spam folder)",
      "If two-factor authentication is on, make sure the authenticator app's time is synced",
      "Try a different browser",
      "Clear cookies for this site",
      "If you still can't log in, e-mail support directly"],
     "login log sign password 2fa two factor authentication locked verification email"),
    ("webhook-not-receiving-events", "Webhook Not Receiving Events",
     "Webhooks showing errors or no delivery",
     ["Verify the webhook URL is publicly accessible",
      "Check the webhook secret matches your configuration",
      "Ensure your endpoint returns a 200 status code",
      "Review the webhook log for specific error messages",
      "Test with webhook testing tools (the Test Webhook button)",
      "See the webhook documentation"],
     "webhook webhooks events endpoint signature 404 500 delivery receiving"),
    ("api-authentication-failing", "API Authentication Failing",
     "API requests return 401 Unauthorized",
     ["Verify the API token is valid and not revoked",
      "Check the token has the scopes the operation needs",
      "Ensure the `Authorization: Bearer {token}` header is correct",
      "Confirm you are using the correct API endpoint URL",
      "Review the API authentication guide"],
     "api token 401 unauthorized authentication bearer scope key"),
]


def seed(apps, schema_editor):
    Guide = apps.get_model("support", "Guide")
    for slug, title, problem, steps, keywords in GUIDES:
        Guide.objects.get_or_create(slug=slug, defaults={
            "title": title, "problem": problem, "keywords": keywords,
            "solutions": "\n".join(f"- {step}" for step in steps)})


def unseed(apps, schema_editor):
    apps.get_model("support", "Guide").objects.filter(slug__in=[g[0] for g in GUIDES]).delete()


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
