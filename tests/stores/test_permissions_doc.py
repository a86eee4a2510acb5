"""docs/permissions.md and ROLE_PERMISSIONS must say the same thing."""

from __future__ import annotations

from pathlib import Path

from shopkeep.stores.models import Role
from shopkeep.stores.permissions import ROLE_PERMISSIONS, Perm

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def _doc_matrix() -> dict[str, set[str]]:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    roles = header[1:4]
    matrix: dict[str, set[str]] = {role: set() for role in roles}
    for line in rows[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        for role, cell in zip(roles, cells[1:4], strict=True):
            assert cell in ("✓", ""), f"unexpected cell {cell!r} in {line!r}"
            if cell:
                matrix[role].add(cells[0])
    return matrix


def test_the_documented_matrix_equals_the_enforced_one():
    documented = _doc_matrix()
    enforced = {role: {str(p) for p in perms} for role, perms in ROLE_PERMISSIONS.items()}
    assert documented == enforced


def test_every_permission_and_role_is_documented():
    text = DOC.read_text()
    assert set(_doc_matrix()) == set(Role.values)
    for perm in Perm:
        assert f"| {perm.value} |" in text, perm
