"""An adaptive questionnaire in the browser, from a deployment's own folder (PROFILER_PATH): the consent page and
every item page say "at most" (the items are chosen as it goes), the session stops when the engine does, and the
finished session is assessed with the deployment's job model and norm group."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

import profiler
from profiler.administration import Session
from profiler.integration.invitations import get_invitation
from profiler.norms import build_norms
from profiler.oversight import Review
from profiler.pipeline.invitations import create_invitation
from profiler.questionnaire.loader import load_questionnaire
from profiler.resources import PATH_VARIABLE, bundled_dir
from profiler.web.app import create_app
from tests.cat.conftest import ipip_cat_yaml

from .test_security import form_of

MAX_ITEMS = 4  # per adaptive scale: five scales


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    """A PROFILER_PATH folder with the IPIP-50 given adaptively, norms built for it, and a job model on it."""
    root = tmp_path / "deployment"
    (root / "questionnaires").mkdir(parents=True)
    path = root / "questionnaires" / "ipip-bfm-50-cat.yaml"
    path.write_text(ipip_cat_yaml(f"    bank: ipip-bfm-50\n    stop: {{se: 0.3, max_items: {MAX_ITEMS}}}"),
                    encoding="utf-8")
    q = load_questionnaire(path)
    (root / "models" / "ipip-bfm-50-cat" / "norms").mkdir(parents=True)
    build_norms(q, profiler.simulate_responses(q, 600, seed=3), name="general", version="1.0.0", title="simulated",
                population="simulated respondents", collected="2026", sampling="simulated",
                source="profiler.simulate_responses").write(root / "models" / "ipip-bfm-50-cat" / "norms" /
                                                            "general.json")
    (root / "models" / "jobs").mkdir(parents=True)
    job = (bundled_dir("models") / "jobs" / "customer-support.yaml").read_text(encoding="utf-8")
    job = job.replace("id: customer-support\n", "id: support-adaptive\n", 1)
    job = job.replace("questionnaire: ipip-bfm-50\n", "questionnaire: ipip-bfm-50-cat\n", 1)
    (root / "models" / "jobs" / "support-adaptive.yaml").write_text(job, encoding="utf-8")
    monkeypatch.setenv(PATH_VARIABLE, str(root))
    return root


def test_an_adaptive_questionnaire_in_the_browser(deployment, store, key):
    new = create_invitation(store, key, "support-adaptive")
    client = TestClient(create_app(store, key), follow_redirects=False)
    assert client.get(f"/i/{new.invitation.token(key)}").status_code == 303
    consent = client.get("/c/consent").text
    assert f"has at most {5 * MAX_ITEMS} short statements" in consent and "may end sooner" in consent
    token = form_of(consent)["csrf"]
    assert client.post("/c/consent", data={"csrf": token, "decision": "give"}).headers["location"] == "/c/item"
    given = 0
    while True:
        page = client.get("/c/item")
        if page.status_code == 303:
            break
        assert f"(at most {5 * MAX_ITEMS})" in page.text and "at most 50" not in page.text
        assert re.search(rf"{given} answered\. The questions are chosen from your answers so far", page.text)
        fields = form_of(page.text)
        answered = client.post("/c/item", data={**fields, "action": "answer", "answer": str(given % 5 + 1)})
        assert answered.status_code == 303
        given += 1
        assert given <= 5 * MAX_ITEMS
    assert page.headers["location"] == "/c/done"
    invitation = get_invitation(store, new.invitation.id)
    assert invitation.status == "assessed"
    session = Session.load(store, invitation.session_id)
    assert session.adaptive_complete and len(session.order) == given
    scores = session.adaptive_scores()
    assert (scores["items"] <= MAX_ITEMS).all() and scores["items"].sum() == given
    pending = Review(store).pending()
    assert [p.candidate for p in pending] == [invitation.candidate_id]
    assert pending[0].job_model_id == "support-adaptive"
