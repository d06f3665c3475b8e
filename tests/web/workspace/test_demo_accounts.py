"""profiler serve --demo's staff accounts: one per role, passwords random for each run and stored only as
argon2 hashes, in an organisation whose queue holds simulated cases."""

from __future__ import annotations

from profiler.integration.staff import ROLES, Staff
from profiler.oversight import AuditLog, Review
from profiler.store import Store
from profiler.web.demo import DEMO_CASES, DEMO_MODELS, seed_cases, seed_staff


def test_every_role_gets_an_account_with_a_password_of_this_run(tmp_path):
    runs = []
    for k in range(2):
        with Store(tmp_path / f"demo-{k}.sqlite") as store:
            accounts = seed_staff(store, "Example Org")
            staff = Staff(store)
            assert {a.role for a in accounts} == set(ROLES)
            assert sum(a.role in ("recruiter", "hiring_manager", "psychologist") for a in accounts) >= 2
            for account in accounts:
                user = staff.authenticate(account.username, account.password)
                assert user is not None and (user.role, user.tenant) == (account.role, "demo")
                assert len(account.password) >= 12
            assert staff.tenant("demo").second_confirmation and staff.job_models("demo") == sorted(DEMO_MODELS)
            entries = "".join(f"{e.actor} {e.payload}" for e in AuditLog(store))
            assert not any(a.password in entries for a in accounts)  # never logged
            runs.append({a.username: a.password for a in accounts})
    assert all(runs[0][name] != runs[1][name] for name in runs[0])  # made for each run: none fixed in the code


def test_simulated_cases_wait_in_the_queue(tmp_path):
    with Store(tmp_path / "demo.sqlite") as store:
        assert seed_cases(store) == DEMO_CASES * len(DEMO_MODELS)
        pending = Review(store).pending()
        assert sorted({r.job_model_id for r in pending}) == sorted(DEMO_MODELS)
        assert len(pending) == DEMO_CASES * len(DEMO_MODELS) and AuditLog(store).verify().ok
