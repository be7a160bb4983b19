"""Submission ids, receipt codes (回执码) and the body hash that idempotent retries are checked by.

A receipt is what a resident keeps: 12 characters in Crockford base32, read over the phone as three groups
(`H7K3-D9F2-AXQ4`). The first letter names the form, the next seven are derived from the submission id and
the last four are a MAC, so a mistyped or invented code is known to be false without a database lookup.
A receipt only reads a public status. Rating the outcome takes the feedback code (评价码), which only the
one who reported is given: 16 characters, 80 bits of a MAC of the submission id.
With an idempotency key the id is derived from the key, the client it is scoped to and the form's content,
so a retry gets the same id and receipt, and another form sent under the same key gets an id of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import uuid
from functools import lru_cache

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KIND_LETTERS = {"hazard": "H", "consultation": "C", "enterprise": "E"}
LETTER_KINDS = {letter: kind for kind, letter in KIND_LETTERS.items()}
_BODY, _CHECK = 7, 4
_FEEDBACK = 16  # 80 bits: not to be guessed, even by a loop over every receipt Open311 lists
# Crockford's decoding is forgiving: letters that look alike read as the digit they resemble.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _mac(secret: str, text: str) -> bytes:
    # From a copy of the keyed HMAC rather than hmac.digest: the one-shot call gives up the GIL, and under
    # load each MAC of a post then waits for its turn to take it back behind the other threads.
    mac = _keyed(secret).copy()
    mac.update(text.encode())
    return mac.digest()


@lru_cache(maxsize=8)
def _keyed(secret: str):
    return hmac.new(secret.encode(), digestmod="sha256")


def _b32(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big") >> (len(data) * 8 - length * 5)
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(length)))


def random_uuid() -> str:
    """A new random (version 4) UUID, from OpenSSL's generator.

    uuid.uuid4 reads os.urandom, which gives up the GIL: under load each call then waits for its turn to
    take it back behind the other threads (0.3 ms a call beside a busy thread, against 2 µs this way).
    """
    return str(uuid.UUID(bytes=ssl.RAND_bytes(16), version=4))


def submission_id(secret: str, kind: str, idempotency_key: str | None = None) -> str:
    """A new random id; with a key, the id the same kind and key had before keys were scoped, which a
    submission stored then still has (intake.keyed finds it for a retry)."""
    if idempotency_key is None:
        return random_uuid()
    digest = _mac(secret, f"id\x00{kind}\x00{idempotency_key}")[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def keyed_submission_id(secret: str, kind: str, scoped_key: str, content_hash: str) -> str:
    """The same id every time for the same kind, client-scoped key and content: a retry finds its first
    post, and another form under the same key can never take (or be dropped as) the first one's id."""
    digest = _mac(secret, f"keyed-id\x00{kind}\x00{scoped_key}\x00{content_hash}")[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def client_scope(secret: str, api_key: str | None = None) -> str:
    """Whose idempotency keys a key is among: "public" for the native forms; for an API client, "api-" and
    a MAC of its API key, since the scope is stored with every keyed submission and the API key must not be."""
    if api_key is None:
        return "public"
    return "api-" + _b32(_mac(secret, f"client\x00{api_key}")[:10], 16)


def body_hash(content: dict) -> str:
    """What tells a retry under the same idempotency key from a different submission: the form's content,
    whatever the order of its keys."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def receipt_for(secret: str, kind: str, sid: str) -> str:
    return _receipt(secret, kind, _mac(secret, f"receipt\x00{sid}"))


def feedback_code(secret: str, sid: str) -> str:
    """The reporter's private code for rating the outcome of submission `sid`, grouped like a receipt
    (`7KQ2-M9XD-4WBN-HT3E`). Give it only to the one who reported: in the 202, on the thank-you page, in a
    message sent to them."""
    return _feedback(_mac(secret, f"receipt\x00{sid}"))


def issue(secret: str, kind: str, sid: str) -> tuple[str, str]:
    """The receipt and the feedback code of submission `sid`, from one MAC: the receipt is made of its
    first 5 bytes and the code of 10 others, and no byte of a MAC tells anything of another."""
    mac = _mac(secret, f"receipt\x00{sid}")
    return _receipt(secret, kind, mac), _feedback(mac)


def is_feedback_code(secret: str, sid: str, text: str | None) -> bool:
    """Whether `text` is the feedback code of `sid`, read as forgivingly as a receipt; in constant time."""
    if not isinstance(text, str):
        return False
    given = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    expected = feedback_code(secret, sid).replace("-", "")
    return hmac.compare_digest(given.encode(), expected.encode())


def _receipt(secret: str, kind: str, mac: bytes) -> str:
    body = KIND_LETTERS[kind] + _b32(mac[:5], _BODY)
    return _group(body + _b32(_mac(secret, f"check\x00{body}")[:3], _CHECK))


def _feedback(mac: bytes) -> str:
    return _group(_b32(mac[16:26], _FEEDBACK))


def parse_receipt(secret: str, text: str) -> tuple[str, str] | None:
    """(kind, canonical receipt) for a code this service issued, else None."""
    code = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    if len(code) != 1 + _BODY + _CHECK or code[0] not in LETTER_KINDS:
        return None
    if any(c not in ALPHABET for c in code[1:]):
        return None
    body, check = code[: 1 + _BODY], code[1 + _BODY :]
    if not hmac.compare_digest(check, _b32(_mac(secret, f"check\x00{body}")[:3], _CHECK)):
        return None
    return LETTER_KINDS[code[0]], _group(code)


def _group(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
