"""Which command templates are known to be idempotent: running them twice has the effect of
running them once, so an agent that crashed mid-execution may simply run them again.

Only a suggestion for the command editor (the owner decides; the flag is off by default).
Setting a rank, a group, a permission or a list membership is idempotent; giving items,
money or experience, broadcasting and kicking are not. A template counts as safe only when
every one of its commands matches a known form.
"""

from __future__ import annotations

import re

_ARG = r"\S+"
_FORMS = [
    # LuckPerms: parent/group membership and permissions are set, not added up.
    rf"lp user {_ARG} parent (add|remove|set|addtemp|removetemp) {_ARG}( .*)?",
    rf"lp user {_ARG} permission (set|unset|settemp|unsettemp) {_ARG}( .*)?",
    rf"lp user {_ARG} meta (set|unset|setprefix|setsuffix|removeprefix|removesuffix) .*",
    # PermissionsEx / GroupManager / vanilla lists.
    rf"pex user {_ARG} group (set|add|remove) {_ARG}( .*)?",
    rf"manuadd {_ARG} {_ARG}( .*)?",
    rf"(op|deop|pardon|pardon-ip|ban|ban-ip) {_ARG}( .*)?",
    rf"whitelist (add|remove) {_ARG}",
    rf"eco set {_ARG} {_ARG}",
    # Rust Oxide groups and permissions; Source admin flags.
    rf"oxide\.usergroup (add|remove) {_ARG} {_ARG}",
    rf"oxide\.(grant|revoke) (user|group) {_ARG} {_ARG}",
    rf"(ownerid|moderatorid|removeowner|removemoderator) {_ARG}( .*)?",
    r"sm_(addban|unban|setadmin) .*",
]
_SAFE = [re.compile(form, re.IGNORECASE) for form in _FORMS]


def looks_safe_to_repeat(commands: list[str]) -> bool:
    """True when every non-empty command is a known idempotent form."""
    lines = [c.strip().lstrip("/") for c in commands if c and c.strip()]
    return bool(lines) and all(any(p.fullmatch(line) for p in _SAFE) for line in lines)
