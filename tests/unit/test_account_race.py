"""Two sign-ups of one name in two cases at the same moment: the database's unique index on
lower(name) decides, and the loser is told the name is taken (on PostgreSQL the loser's insert
waits for the winner's commit and then fails; SQLite lets one writer in at a time)."""

from __future__ import annotations

import threading
import time

from modelplaza.auth import accounts
from modelplaza.errors import AlreadyExists
from tests.unit.test_migrations import database

__all__ = ["database"]  # the SQLite and PostgreSQL databases of the migration tests


def test_a_name_taken_in_another_case_while_checking_is_already_taken(database):
    database.migrate()
    outcome: list[BaseException | None] = []

    def second_sign_up() -> None:
        try:
            with database.write() as session:
                accounts.create_user(session, "RACER")
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    with database.write() as session:
        accounts.create_user(session, "racer")
        # The other sign-up checks now, before this one commits: it sees no "racer" yet.
        racing = threading.Thread(target=second_sign_up)
        racing.start()
        time.sleep(0.5)
    racing.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], AlreadyExists), outcome
    with database.read() as session:
        assert accounts.get_account(session, "Racer").name == "racer"
