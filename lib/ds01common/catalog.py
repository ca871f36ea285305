"""The command catalogue for `alias-list`, read from the command registry."""

from __future__ import annotations

from typing import TypedDict

from .commands.registry import COMMANDS, TIER_TITLES, TIERS

__all__ = ["TIERS", "TIER_TITLES", "CatalogEntry", "commands"]


class CatalogEntry(TypedDict):
    name: str
    tier: str
    description: str
    alias_of: str | None


def commands() -> list[CatalogEntry]:
    """Every command and alias with its tier and one-line summary, sorted by name."""
    entries: list[CatalogEntry] = []
    for command in COMMANDS:
        summary = command.summary()
        entries.append({"name": command.name, "tier": command.tier, "description": summary, "alias_of": None})
        for alias in command.aliases:
            entries.append({"name": alias, "tier": command.tier, "description": summary, "alias_of": command.name})
    return sorted(entries, key=lambda entry: entry["name"])
