"""Bad input, fuzzed: thousands of requests at every public endpoint with random bodies, content types,
headers and query strings, plus the nasty cases by name. No answer is a 500, and nothing a rejected
request carried is stored. Through the Flask app, queued on the stub broker and stored by a stub worker."""

import json
import os
from collections import Counter
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SAMPLES
from tests.effects import effects, receipts_stored

pytestmark = [pytest.mark.faults]

SAMPLE = {kind: json.loads((SAMPLES / f"{kind}.json").read_text())["valid"]
          for kind in ("hazard", "consultation", "enterprise")}
FORMS = {"/api/v1/hazard-reports": "hazard", "/api/v1/consultations": "consultation",
         "/api/v1/enterprise-requests": "enterprise"}
GETS = ["/api/v1/tallies", "/healthz", "/readyz", "/api/v1/receipts/"]
# FUZZ_EXAMPLES=50000 for a longer run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5200"))

NASTY_TEXT = [
    "'; DROP TABLE submissions; --", "1 OR 1=1", "\" OR \"\"=\"", "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>", "{{7*7}}", "${jndi:ldap://x}", "\x00", "\x1b[31mred", "\u202e\u0644\u0627",
    "\ud7ff\ue000\uffff", "A" * 70_000, "🏚️" * 500, "\r\nSet-Cookie: a=b", "../../etc/passwd", "%00%0a",
]
NASTY_VALUES = NASTY_TEXT + [1e308, -1e308, 10**40, -(10**40), 0, -1, True, None, [], {}, [[[[[]]]]],
                             {"$ne": None}, float("1e-320")]


def json_values():
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                       st.text(max_size=60), st.sampled_from(NASTY_VALUES[:-3]))
    return st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                        max_leaves=12)


@st.composite
def mutated_sample(draw, path):
    """A valid sample of the form with one field (perhaps nested) replaced, added or removed."""
    body = json.loads(json.dumps(draw(st.sampled_from(SAMPLE[FORMS[path]]))))
    target = body
    nested = [k for k, v in body.items() if isinstance(v, dict)]
    if nested and draw(st.booleans()):
        target = body[draw(st.sampled_from(nested))]
    key = draw(st.one_of(st.sampled_from(sorted(target)), st.text(max_size=10)))
    if draw(st.integers(0, 5)) == 0:
        target.pop(key, None)
    else:
        target[key] = draw(json_values())
    return body


@st.composite
def requests_(draw):
    """(method, url, headers, body bytes)."""
    path = draw(st.sampled_from(list(FORMS) + GETS + ["/api/v1/unknown", "/"]))
    usual = "POST" if path in FORMS else "GET"
    method = draw(st.sampled_from([usual] * 12 + ["GET", "POST", "PUT", "DELETE", "PATCH"]))
    if path == "/api/v1/receipts/":
        path += quote(draw(st.one_of(st.text(max_size=20), st.from_regex(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}",
                                                                          fullmatch=True))), safe="")
        method = draw(st.sampled_from(["GET", "GET", "POST"]))
    query = draw(st.dictionaries(st.sampled_from(["lang", "from", "to", "x"]), st.text(max_size=12), max_size=2))
    url = path + ("?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items()) if query else "")
    content_type = draw(st.sampled_from([
        "application/json", "application/json", "application/x-www-form-urlencoded", "text/plain",
        "multipart/form-data; boundary=x", "application/json; charset=latin-1", "application/xml", "",
    ]) | st.text(max_size=30).filter(lambda s: "\n" not in s and "\r" not in s))
    if path in FORMS and content_type.startswith("application/json"):
        kind = draw(st.integers(0, 3))
        if kind < 2:
            body = json.dumps(draw(mutated_sample(path)), ensure_ascii=draw(st.booleans())).encode()
        elif kind == 2:
            body = json.dumps(draw(json_values())).encode()
        else:
            body = draw(st.binary(max_size=300))
    elif path in FORMS and content_type == "application/x-www-form-urlencoded":
        fields = draw(st.lists(st.tuples(st.sampled_from(["community", "category", "description", "location",
                                                         "location.address", "location.address.x", "photos", ".",
                                                         "contact.phone", "client_ref"]) | st.text(max_size=10),
                                         st.text(max_size=40) | st.sampled_from(NASTY_TEXT[:-6])), max_size=6))
        body = "&".join(f"{quote(k)}={quote(v)}" for k, v in fields).encode()
    else:
        body = draw(st.binary(max_size=200))
    headers = {"Content-Type": content_type}
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(st.text(st.characters(max_codepoint=0x7f, blacklist_characters="\r\n"),
                                                  max_size=140))
    if draw(st.booleans()):
        headers["Accept-Language"] = draw(st.text(st.characters(max_codepoint=0x7f, blacklist_characters="\r\n"),
                                                  max_size=30))
    return method, url, headers, body


def named_cases():
    """The nasty cases the issue lists, at each form."""
    for path, kind in FORMS.items():
        good = SAMPLE[kind][0]
        yield path, "application/json", b'{"description": "' + b"x" * 70_000 + b'"}'  # oversized
        yield path, "text/xml", json.dumps(good).encode()  # wrong content type
        yield path, "application/json", b"[" * 100_000 + b"]" * 100_000  # deeply nested
        yield path, "application/json", b'{"description": ' + b"[" * 5000 + b"]" * 5000 + b"}"
        yield path, "application/json", json.dumps(good).encode().replace(b"\xe7", b"\xff")  # invalid UTF-8
        yield path, "application/json", json.dumps({**good, "lang": "x"}).encode()[:-1] + b', "n": 1e99999}'
        yield path, "application/json", json.dumps(good).encode()[:-1] + b', "n": ' + b"9" * 10_000 + b"}"
        for field in good:
            for nasty in NASTY_VALUES:
                yield path, "application/json", json.dumps({**good, field: nasty}).encode()


@pytest.fixture()
def fuzzing(client, stub_broker, stub_worker, settings, engine):
    seen = {"answers": Counter(), "receipts": set(), "sent": 0, "bad": []}

    def send(method, url, headers, body):
        response = client.open(url, method=method, headers=headers, data=body)
        seen["sent"] += 1
        seen["answers"][response.status_code] += 1
        if response.status_code == 202:
            seen["receipts"].add(response.json["receipt"])
        elif response.status_code >= 500 or (response.status_code >= 400
                                             and response.mimetype != "application/problem+json"):
            seen["bad"].append((method, url, headers, body[:200], response.status_code, response.data[:300]))
        return response

    yield send, seen
    stub_broker.join(settings.queue_name, fail_fast=True)


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(request=requests_())
def fuzz_one(send, request):
    send(*request)


def test_fuzzed_requests_never_get_a_500_and_rejected_ones_store_nothing(fuzzing, stub_broker, stub_worker,
                                                                        settings, engine):
    send, seen = fuzzing
    for path, content_type, body in named_cases():
        send("POST", path, {"Content-Type": content_type}, body)
    fuzz_one(send)
    stub_broker.join(settings.queue_name, fail_fast=True)
    stored = receipts_stored(engine)
    now = effects(engine)
    rejected = seen["sent"] - sum(n for status, n in seen["answers"].items() if status < 300)
    print(f"\nFIGURE fuzz: sent {seen['sent']} / accepted {len(seen['receipts'])} / stored {now['stored']} / "
          f"rejected {rejected} / 500s {seen['answers'][500]} / stored from rejected "
          f"{len(stored - seen['receipts'])} / answers {dict(sorted(seen['answers'].items()))}")
    assert seen["sent"] >= 5_000
    assert seen["bad"] == []
    assert stored == seen["receipts"]
