"""Personal data held for an email address besides its comments: a registry that apps above
comments add to (the newsletter's subscriptions, for one), so the discussion's privacy page
(comments/views.py, `privacy_manage`) lists and deletes everything without importing them.

An app registers one `PersonalDataProvider` from its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PersonalDataProvider:
    key: str  # unique, e.g. "newsletter"
    title: str  # a section heading (lazily translated)
    describe: Callable[[str], list[str]]  # what is held for the address, one line per item
    delete: Callable[[str], int]  # delete it all; returns how many items went


_providers: dict[str, PersonalDataProvider] = {}


def personal_data_register(provider: PersonalDataProvider) -> None:
    _providers[provider.key] = provider


def personal_data_providers() -> list[PersonalDataProvider]:
    return list(_providers.values())
