"""What the staff's text search (`q`) indexes: every two-character piece (bigram) of the searchable fields,
lower-cased, so that a Chinese word of two characters (围墙, 火车) is found through an index as a longer
phrase is. A piece is kept as a hex token ("g" + its UTF-8 bytes), which any full-text tokenizer keeps whole.

The index only narrows the search: the cases it finds are then matched as before (case-insensitive
substring), so the results are the same. Plain functions, no I/O."""

from __future__ import annotations

SEARCHED = (("description",), ("location", "address"), ("enterprise", "name"))


def searched_text(data: dict) -> list[str]:
    found = []
    for path in SEARCHED:
        value = data
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            found.append(value)
    return found


def _token(piece: str) -> str:
    return "g" + piece.encode("utf-8", "surrogatepass").hex()


def pieces(text: str) -> list[str]:
    # Character by character: str.lower() of a whole text writes Σ as ς at a word's end, and a query's end
    # is not the text's.
    lowered = "".join(ch.lower() for ch in text)
    return [lowered[i:i + 2] for i in range(len(lowered) - 1)]


def grams_of(data: dict) -> str:
    """The tokens stored with a case, space-separated and each once."""
    tokens = dict.fromkeys(_token(p) for text in searched_text(data) for p in pieces(text))
    return " ".join(tokens)


def query_grams(q: str) -> list[str]:
    """The tokens every case matching `q` holds; empty for a single character (not indexed)."""
    return list(dict.fromkeys(_token(p) for p in pieces(q)))


def location_of(data: dict) -> tuple[float | None, float | None]:
    """A report's coordinates (lat, lon), kept in columns for the nearby-duplicates bounding box."""
    here = data.get("location") if isinstance(data.get("location"), dict) else {}
    lat, lon = here.get("lat"), here.get("lon")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and not isinstance(lat, bool):
        return float(lat), float(lon)
    return None, None
