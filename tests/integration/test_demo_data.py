"""`make run` seeds demo data; running it again must not duplicate anything."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.dated


def _counts() -> dict[str, int]:
    from therabee.db.engine import get_engine

    with get_engine().connect() as connection:
        return {table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("users", "availability", "series", "sessions")}


def test_demo_data_loads_once_and_a_second_run_writes_nothing(clean_db):
    from therabee.services.demo import CLIENTS, THERAPISTS, load_demo_data
    from therabee.services.people import sign_in

    logins = load_demo_data()
    first = _counts()
    assert first == {"users": len(THERAPISTS) + len(CLIENTS), "availability": len(THERAPISTS),
                     "series": len(CLIENTS), "sessions": 0}
    assert load_demo_data() == logins
    assert _counts() == first
    role, email, password = logins[-1]
    assert sign_in(email, password)["token_type"] == "bearer"


def test_seeding_prints_plain_progress_lines_when_not_on_a_terminal(clean_db, capsys):
    from therabee.manage import seed
    from therabee.services.demo import PEOPLE

    seed()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"seeding the demo practice: started, {PEOPLE} to do"
    assert out[1].startswith(f"seeding the demo practice: finished {PEOPLE}/{PEOPLE} (100 %)")
    assert out[2] == "Demo logins:"
