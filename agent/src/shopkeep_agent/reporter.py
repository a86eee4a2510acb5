"""Reports journaled results to the platform until it acknowledges each one."""

from __future__ import annotations

import logging

from .client import ApiError, PlatformClient
from .journal import Journal

log = logging.getLogger("shopkeep_agent")

# Answers that settle a report for good: the platform has a final state for the command, or
# the command no longer exists for this server. Repeating the report would change nothing.
_FINAL_CODES = {"command_cancelled", "command_failed", "command_completed", "not_found"}


class Reporter:
    def __init__(self, *, journal: Journal, client: PlatformClient) -> None:
        self.journal = journal
        self.client = client

    async def flush(self) -> int:
        """Report every unreported result; returns how many were settled. Raises ApiError
        (transient, auth, duplicate agent) leaving the rest for the next flush."""
        settled = 0
        while True:
            entries = self.journal.unreported()
            if not entries:
                return settled
            confirms = {e.command_id: e for e in entries if e.outcome == "confirm"}
            if confirms:
                results = await self.client.confirm_many(
                    {cid: e.output for cid, e in confirms.items()})
                for result in results:
                    entry = confirms.get(_int(result.get("id")))
                    if entry is None:
                        continue
                    if "status" in result:
                        answer = str(result["status"])
                    else:
                        answer = str((result.get("error") or {}).get("code") or "error")
                        log.warning("confirm of #%s answered %s; nothing more to report",
                                    entry.command_id, answer)
                    self.journal.mark_reported(command_id=entry.command_id,
                                               attempt=entry.attempt, answer=answer)
                    settled += 1
            for entry in entries:
                if entry.outcome != "fail":
                    continue
                try:
                    answer = await self.client.fail(
                        entry.command_id, error=entry.error, error_code=entry.error_code,
                        retryable=entry.retryable, attempt=entry.attempt)
                    text = str(answer.get("status") or "ok")
                except ApiError as exc:
                    if exc.transient or exc.auth or exc.duplicate_agent:
                        raise
                    if exc.code not in _FINAL_CODES:
                        # A 4xx we cannot fix by repeating (e.g. a validation error): log it
                        # loudly once and stop re-sending it.
                        log.error("the platform rejected the failure report of #%s: %s",
                                  entry.command_id, exc)
                    text = exc.code
                self.journal.mark_reported(command_id=entry.command_id, attempt=entry.attempt,
                                           answer=text)
                settled += 1
            handled = {(e.command_id, e.attempt) for e in entries}
            if any((e.command_id, e.attempt) in handled for e in self.journal.unreported()):
                # The batch answer left some ids out: do not spin; try again next flush.
                return settled

def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -1
