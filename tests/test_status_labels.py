"""One word for one state: every status reads the same on every surface that shows it (the resident's
status page, a one-tap page, the exports, Open311), in Chinese and in English, from schemas/choices.py."""

import csv
import io

import pytest
from sqlalchemy import update

from minqing import links
from minqing.domain.workflow import STATUSES
from minqing.store.tables import submissions
from schemas.choices import CASE_STATUSES
from tests.casework import HAZARD, seed, token_for


@pytest.fixture()
def case(runtime, stub_worker, settings):
    [stored] = seed(runtime, settings, ("hazard", HAZARD[0]))
    return stored


def set_status(engine, case, status):
    with engine.begin() as connection:
        connection.execute(update(submissions).where(submissions.c.id == case["id"]).values(status=status))


def status_page(client, case, lang):
    return client.get(f"/r/{case['receipt']}?lang={lang}").get_data(as_text=True)


def one_tap_page(client, settings, case, lang):
    token = links.sign(settings.secret_key, case["id"], "qjj-grid", "acknowledge", 3600)
    return client.get(f"/a/{token}?lang={lang}").get_data(as_text=True)


def open311_notes(client, case, lang):
    [listed] = client.get(f"/open311/v2/requests.json?service_request_id={case['receipt']}&lang={lang}").json
    return listed["status_notes"]


def exported_status(client, engine, case):
    text = client.get("/api/v1/exports/cases.csv", headers=token_for(engine, "street-leader")).get_data(as_text=True)
    [row] = [r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))) if r["回执码 receipt"] == case["receipt"]]
    return row["状态 status"]


def test_the_labels_name_every_status_of_the_workflow():
    assert set(CASE_STATUSES) == set(STATUSES)
    assert len({label.zh for label in CASE_STATUSES.values()}) == len(STATUSES)


@pytest.mark.parametrize("status", STATUSES)
def test_a_status_reads_the_same_everywhere(client, engine, settings, case, status):
    set_status(engine, case, status)
    label = CASE_STATUSES[status]
    for lang, word in (("zh", label.zh), ("en", label.en)):
        assert word in status_page(client, case, lang)
        assert word in one_tap_page(client, settings, case, lang)
        assert open311_notes(client, case, lang) == word
    assert exported_status(client, engine, case) == f"{label.zh} {status}"
