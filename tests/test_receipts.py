import os
import uuid

from hypothesis import given, strategies as st

from minqing.receipts import body_hash, parse_receipt, random_uuid, receipt_for, submission_id

SECRET = "s3cret"


def test_a_receipt_reads_back_as_its_kind():
    sid = submission_id(SECRET, "hazard")
    receipt = receipt_for(SECRET, "hazard", sid)
    assert parse_receipt(SECRET, receipt) == ("hazard", receipt)


def test_a_receipt_is_three_groups_of_four():
    receipt = receipt_for(SECRET, "enterprise", submission_id(SECRET, "enterprise"))
    assert [len(group) for group in receipt.split("-")] == [4, 4, 4]
    assert receipt.startswith("E")


def test_a_receipt_read_over_the_phone_is_forgiving():
    receipt = receipt_for(SECRET, "consultation", submission_id(SECRET, "consultation"))
    spoken = receipt.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert parse_receipt(SECRET, spoken) == ("consultation", receipt)


def test_the_same_idempotency_key_gives_the_same_id_and_receipt():
    first = submission_id(SECRET, "hazard", "key-1")
    assert submission_id(SECRET, "hazard", "key-1") == first
    assert submission_id(SECRET, "hazard", "key-2") != first
    assert submission_id(SECRET, "consultation", "key-1") != first


def test_a_new_id_is_a_random_version_4_uuid():
    ids = {submission_id(SECRET, "hazard") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(sid).version == 4 and str(uuid.UUID(sid)) == sid for sid in ids)


def test_forked_web_processes_draw_different_ids():
    # gunicorn forks its web processes: they must not share a random stream.
    random_uuid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        try:  # never back into pytest in the child, whatever happens
            os.write(write, " ".join(random_uuid() for _ in range(10)).encode())
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    os.close(write)
    with os.fdopen(read) as pipe:
        theirs = set(pipe.read().split())
    ours = {random_uuid() for _ in range(10)}
    assert len(theirs) == len(ours) == 10 and not theirs & ours


def test_ids_and_receipts_already_issued_stay_the_same():
    # Residents keep their receipts and phones retry with their keys: the derivation must never change.
    assert submission_id(SECRET, "hazard", "key-1") == "ba34ff7d-b3d6-414e-a85f-8a57a0e21251"
    assert receipt_for(SECRET, "hazard", "00000000-0000-4000-8000-000000000000") == "HS3C-BPAJ-PPK3"


def test_the_body_hash_ignores_key_order_and_is_the_one_already_stored():
    content = {"community": "jiangling", "location": {"address": "江零社区", "lat": 30.5}}
    reordered = {"location": {"lat": 30.5, "address": "江零社区"}, "community": "jiangling"}
    assert body_hash(content) == body_hash(reordered)
    assert body_hash(content) == "83d304e5b6efcef1019a186ec9a62e370651b30a0e1d666eb658ede02d370f8d"


def test_another_secret_does_not_accept_our_receipts():
    receipt = receipt_for(SECRET, "hazard", submission_id(SECRET, "hazard"))
    assert parse_receipt("other", receipt) is None


@given(st.text(max_size=20))
def test_any_text_is_parsed_without_error(text):
    assert parse_receipt(SECRET, text) in (None, parse_receipt(SECRET, text))


def test_a_single_changed_character_is_caught():
    receipt = receipt_for(SECRET, "hazard", submission_id(SECRET, "hazard"))
    code = receipt.replace("-", "")
    for position in range(1, len(code)):
        replacement = "2" if code[position] != "2" else "3"
        assert parse_receipt(SECRET, code[:position] + replacement + code[position + 1:]) is None
