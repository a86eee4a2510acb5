"""Discord's answers in the words of seed 000's troubleshooting guide ("Discord Roles Not
Assigning"), for the delivery log, the dashboard and delivery.failed's ``error``."""

from __future__ import annotations

from dataclasses import dataclass

from shopkeep.discord.client import DiscordError

# What the worker does next.
RETRY = "retry"  # transient: back off and try again within the attempt budget
FAIL = "fail"  # the owner must fix something, then press Retry delivery
WAIT_CLAIM = "wait_claim"  # the buyer must join the server and use /claim
DONE = "done"  # nothing left to do (a removal of something already gone)

UNKNOWN_MEMBER = 10007
UNKNOWN_ROLE = 10011
UNKNOWN_GUILD = 10004
UNKNOWN_USER = 10013
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013


@dataclass(frozen=True)
class Outcome:
    next: str
    code: str  # our error_code (delivery.failed, the log)
    message: str


def not_configured() -> Outcome:
    return Outcome(FAIL, "DISCORD_NOT_CONFIGURED",
                   "Discord is not set up for this store: add the bot token and the server id "
                   "in Settings > Discord, then press Retry delivery.")


def explain(exc: DiscordError, *, adding: bool, role_id: str, role_name: str,
            guild_id: str, user_id: str) -> Outcome:
    role = f"{role_name} ({role_id})" if role_name and role_name != role_id else role_id
    if exc.code == UNKNOWN_MEMBER:
        if not adding:
            return Outcome(DONE, "DISCORD_UNKNOWN_MEMBER",
                           "The buyer is no longer in your Discord server: no role to remove.")
        return Outcome(WAIT_CLAIM, "DISCORD_UNKNOWN_MEMBER",
                       "The buyer has not joined your Discord server yet; the role is assigned "
                       "when they join and use /claim.")
    if exc.code == UNKNOWN_ROLE:
        if not adding:
            return Outcome(DONE, "DISCORD_UNKNOWN_ROLE",
                           f"Role id {role_id} no longer exists in this server: nothing to "
                           "remove.")
        return Outcome(FAIL, "DISCORD_UNKNOWN_ROLE",
                       f"Role id {role_id} does not exist in this server. Check the role IDs "
                       "(not names) in the product's Discord roles.")
    if exc.code == MISSING_PERMISSIONS:
        return Outcome(FAIL, "DISCORD_MISSING_PERMISSIONS",
                       "The bot needs Manage Roles and its highest role must be above "
                       f"{role} (Discord server settings > Roles: drag the bot's role up).")
    if exc.code in (UNKNOWN_GUILD, MISSING_ACCESS):
        return Outcome(FAIL, "DISCORD_BOT_NOT_IN_GUILD",
                       f"The bot is not in Discord server {guild_id} (or the server id is "
                       "wrong): invite it with the Manage Roles permission.")
    if exc.code == UNKNOWN_USER:
        return Outcome(FAIL, "DISCORD_UNKNOWN_USER",
                       f"Discord has no user {user_id}; the buyer can link the right account "
                       "with /claim and their order number.")
    if exc.status == 401:
        return Outcome(FAIL, "DISCORD_INVALID_TOKEN",
                       "Discord refused the bot token: paste a new one in Settings > Discord.")
    if exc.status >= 500:
        return Outcome(RETRY, "DISCORD_UNAVAILABLE",
                       f"Discord answered {exc.status}; trying again later.")
    if exc.status == 403:
        return Outcome(FAIL, "DISCORD_FORBIDDEN",
                       f"Discord refused ({exc.code}: {exc.message}). The bot needs Manage "
                       f"Roles and a role above {role}.")
    return Outcome(FAIL, "DISCORD_ERROR", f"Discord refused ({exc.status} {exc.code}: "
                   f"{exc.message}).")
