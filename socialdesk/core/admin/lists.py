"""One desk's admin lists (blocklist, macros, members), made on first use."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from socialdesk.core.admin.blocklist import Blocklist
from socialdesk.core.admin.macros import DeskMacros
from socialdesk.core.admin.members import DeskMembers

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp


@dataclass(frozen=True)
class AdminLists:
    blocklist: Blocklist
    macros: DeskMacros
    members: DeskMembers


_lists: weakref.WeakKeyDictionary[DeskApp, AdminLists] = weakref.WeakKeyDictionary()


def admin_lists(app: DeskApp) -> AdminLists:
    lists = _lists.get(app)
    if lists is None:
        desk = app.config.desk
        seconds = desk.admin_cache_seconds
        lists = _lists[app] = AdminLists(Blocklist(app.database, app.clock, seconds),
                                         DeskMacros(app.database, app.clock, seconds),
                                         DeskMembers(app.database, app.clock, seconds, desk))
    return lists
