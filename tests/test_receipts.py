from hypothesis import given, strategies as st

from minqing.receipts import parse_receipt, receipt_for, submission_id

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
