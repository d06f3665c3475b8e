"""Attack: cut the log short, or rewrite all of it with fresh hashes; the signed checkpoints must show it.

Also: the keys (Ed25519 through the cryptography package, HMAC from the standard library) from files and the
environment, the commands that make keys, checkpoints and exported heads, and that no key is ever printed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from profiler.cli import main
from profiler.store import Store
from profiler.store.anchoring import (
    AnchorError,
    generate_key,
    parse_signing_key,
    parse_trusted_key,
    read_head,
    signing_key,
    trusted_keys,
)
from profiler.store.audit_log import AuditLog, canonical_json, entry_hash, sha256_of


@pytest.fixture(params=["ed25519", "hmac-sha256"])
def key(request):
    return parse_signing_key(generate_key(request.param))


def _store(path: Path | str, entries: int = 12) -> Store:
    store = Store(path)
    log = AuditLog(store)
    for i in range(entries):
        log.append("test.event", {"i": i}, actor="system")
    return store


def _rewrite_from(path: Path, first: int, change) -> None:
    """What an attacker with write access does: change entries from ``first`` on and recompute every hash."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT seq, recorded_at, event, actor, candidate_id, payload, prev_hash "
                                  "FROM audit_log ORDER BY seq").fetchall()
        prev = rows[first - 2][6] if first > 1 else None
        prev = connection.execute("SELECT entry_hash FROM audit_log WHERE seq = ?", (first - 1,)).fetchone()[0] \
            if first > 1 else "sha256:" + "0" * 64
        for seq, at, event, actor, candidate, payload, _ in rows[first - 1:]:
            payload = change(seq, payload)
            digest = sha256_of(payload)
            own = entry_hash(seq, at, event, actor, candidate, digest, prev)
            connection.execute("UPDATE audit_log SET payload = ?, payload_hash = ?, prev_hash = ?, entry_hash = ? "
                               "WHERE seq = ?", (payload, digest, prev, own, seq))
            prev = own


def test_a_checkpoint_signs_the_head_and_verify_checks_it(store_location, key):
    with _store(store_location) as store:  # on SQLite and PostgreSQL
        log = AuditLog(store)
        made = log.checkpoint(key, actor="ops:cron")
        assert (made.seq, made.log_seq, made.key_id) == (12, 13, key.key_id)
        [entry] = log.entries(event="audit.checkpoint")
        assert entry.payload["entry_hash"] == made.entry_hash and entry.payload["checkpoint"] == made.id
        assert log.checkpoint(key, if_new=True) is None  # nothing logged since: nothing written
        result = log.verify(keys=trusted_keys(signing=key))
        assert result.ok and result.authenticated and "checkpoint 1 of " in str(result) and "holds" in str(result)
        unauthenticated = log.verify(keys={})
        assert unauthenticated.ok and not unauthenticated.authenticated
        assert "signature not checked" in str(unauthenticated)


def test_truncation_is_named(tmp_path, key):
    with _store(tmp_path / "s.db") as store:
        AuditLog(store).checkpoint(key)
        AuditLog(store).append("test.event", {"i": 99}, actor="system")
    with sqlite3.connect(tmp_path / "s.db") as connection:
        connection.execute("DELETE FROM audit_log WHERE seq > 9")  # the signed head and what followed it
    with Store(tmp_path / "s.db", create=False) as store:
        result = AuditLog(store).verify(keys=trusted_keys(signing=key))
    assert not result.ok
    assert any("the log ends at entry 9, but checkpoint 1 of" in p and "signed entry 12" in p
               and "truncated" in p for p in result.problems)


def test_a_rewrite_of_the_whole_chain_is_named(tmp_path, key):
    with _store(tmp_path / "s.db") as store:
        AuditLog(store).checkpoint(key)
    _rewrite_from(tmp_path / "s.db", 1, lambda seq, payload: payload.replace('"i":3}', '"i":33}'))
    with Store(tmp_path / "s.db", create=False) as store:
        log = AuditLog(store)
        result = log.verify(keys=trusted_keys(signing=key))
        assert not result.ok
        assert result.problem == ("entry 12 is not the one checkpoint 1 of "
                                  f"{log.latest_checkpoint().created_at} (entry 12, key {key.key_id}) signed: the log "
                                  "was rewritten up to there")


def test_a_rewritten_checkpoint_fails_its_signature_but_only_with_a_trusted_key(tmp_path, key):
    with _store(tmp_path / "s.db") as store:
        AuditLog(store).checkpoint(key)
    _rewrite_from(tmp_path / "s.db", 5, lambda seq, payload: payload.replace('"i":6}', '"i":66}'))
    with sqlite3.connect(tmp_path / "s.db") as connection:  # the attacker makes the checkpoint agree
        new = connection.execute("SELECT entry_hash FROM audit_log WHERE seq = 12").fetchone()[0]
        connection.execute("UPDATE audit_checkpoints SET entry_hash = ?", (new,))
    with Store(tmp_path / "s.db", create=False) as store:
        log = AuditLog(store)
        signed = log.verify(keys=trusted_keys(signing=key))
        assert not signed.ok and "its signature does not hold (forged or edited)" in signed.problem
        # The limit, said plainly: without a trusted key, whoever rewrites the log can rewrite its checkpoints.
        bare = log.verify(keys={})
        assert bare.ok and not bare.authenticated


def test_a_key_nobody_trusts_and_a_deleted_checkpoint_are_named(tmp_path, key):
    other = parse_signing_key(generate_key("hmac-sha256"))
    with _store(tmp_path / "s.db") as store:
        AuditLog(store).checkpoint(key)
        AuditLog(store).checkpoint(other)
    with sqlite3.connect(tmp_path / "s.db") as connection:
        connection.execute("DELETE FROM audit_checkpoints WHERE id = 1")
    with Store(tmp_path / "s.db", create=False) as store:
        result = AuditLog(store).verify(keys=trusted_keys(signing=key))
    assert any(f"signed by key {other.key_id}, which is not among the trusted keys" in p for p in result.problems)
    assert "checkpoint 1, recorded by log entry 13, is missing (deleted)" in result.problems


def test_max_age_reports_a_schedule_that_stopped(tmp_path, key):
    with _store(tmp_path / "s.db") as store:
        log = AuditLog(store)
        assert "there is none" in log.verify(keys={}, max_age=timedelta(hours=1)).problem
        log.checkpoint(key)
        assert log.verify(keys={}, max_age=timedelta(hours=1)).ok
        assert not log.verify(keys={}, max_age=timedelta(0)).ok


def test_keys_from_files_and_the_environment(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "key.pem").write_bytes(pem)
    from_pem = signing_key(tmp_path / "key.pem", environ={})
    assert from_pem.algorithm == "ed25519"
    text = generate_key("hmac-sha256")
    assert signing_key(environ={"PROFILER_AUDIT_KEY": text}).key_id == parse_signing_key(text).key_id
    (tmp_path / "k.txt").write_text(text + "\n")
    assert signing_key(environ={"PROFILER_AUDIT_KEY_FILE": str(tmp_path / "k.txt")}).algorithm == "hmac-sha256"
    assert signing_key(environ={}) is None
    public = from_pem.trusted().text()
    (tmp_path / "trusted.txt").write_text(f"# the 2026 key\n{public}\n")
    keys = trusted_keys(tmp_path / "trusted.txt", environ={"PROFILER_AUDIT_TRUSTED_KEYS": text})
    assert set(keys) == {from_pem.key_id, parse_signing_key(text).key_id}
    with pytest.raises(AnchorError, match="line 2"):
        (tmp_path / "bad.txt").write_text("# x\ned25519:AAAA\n")
        trusted_keys(tmp_path / "bad.txt", environ={})
    for bad in ("ed25519:not base64!", "rsa:AAAA", "hmac-sha256:" + "QUFB"):
        with pytest.raises(AnchorError) as caught:
            parse_signing_key(bad)
        assert bad.split(":", 1)[1] not in str(caught.value) or len(bad.split(":", 1)[1]) < 5
    with pytest.raises(AnchorError, match="public form"):
        parse_trusted_key(text).text()


def test_the_commands_sign_export_and_anchor_without_printing_a_key(tmp_path, capsys, monkeypatch):
    db = tmp_path / "s.db"
    _store(db).close()
    assert main(["audit", "keygen", str(tmp_path / "audit.key")]) == 0
    out = capsys.readouterr().out
    secret = (tmp_path / "audit.key").read_text().strip()
    assert stat.S_IMODE(os.stat(tmp_path / "audit.key").st_mode) == 0o600
    public = parse_signing_key(secret).trusted().text()
    assert public in out and secret.split(":", 1)[1] not in out
    assert main(["audit", "keygen", str(tmp_path / "audit.key")]) == 2  # never overwritten
    capsys.readouterr()

    assert main(["audit", "checkpoint", "--db", str(db)]) == 2  # no key configured
    assert "no signing key" in capsys.readouterr().err
    monkeypatch.setenv("PROFILER_AUDIT_KEY_FILE", str(tmp_path / "audit.key"))
    heads = tmp_path / "published"
    assert main(["audit", "checkpoint", "--db", str(db), "--export-dir", str(heads)]) == 0
    out = capsys.readouterr().out
    assert "checkpoint 1 of" in out and "signed head 12" in out
    [exported] = heads.iterdir()
    assert stat.S_IMODE(os.stat(exported).st_mode) == 0o444
    document = json.loads(exported.read_text())
    assert (document["seq"], document["public_key"]) == (12, public)
    assert read_head(exported).entry_hash == document["entry_hash"]
    assert main(["audit", "export-head", "--db", str(db), "--dir", str(heads)]) == 0
    assert "exists already" in capsys.readouterr().out  # write-once
    assert main(["audit", "export-head", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["signature"] == document["signature"]

    # A schedule: --every keeps signing until interrupted (here after the second round).
    rounds = []

    def sleep(seconds):
        rounds.append(seconds)
        if len(rounds) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("time.sleep", sleep)
    AuditLog(Store(db)).append("test.event", {"i": 100}, actor="system")
    assert main(["audit", "checkpoint", "--db", str(db), "--every", "3600"]) == 0
    out = capsys.readouterr().out
    assert "checkpoint 2 of" in out and "nothing logged since the last checkpoint" in out and rounds == [3600, 3600]

    # The attacker removes the end of the log and every checkpoint; the exported head still shows it.
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM audit_log WHERE seq > 10")
        connection.execute("DELETE FROM audit_checkpoints")
    monkeypatch.delenv("PROFILER_AUDIT_KEY_FILE")
    assert main(["audit", "verify", "--db", str(db)]) == 0  # alone, the store cannot show it
    capsys.readouterr()
    (tmp_path / "trusted").write_text(public + "\n")
    assert main(["audit", "verify", "--db", str(db), "--anchor", str(exported), "--trusted-keys",
                 str(tmp_path / "trusted")]) == 1
    out = capsys.readouterr().out
    assert "before the anchor entry 12: entries were removed from its end" in out
    assert main(["audit", "verify", "--db", str(db), "--max-age", "24"]) == 1
    every = out + capsys.readouterr().out
    assert secret.split(":", 1)[1] not in every
