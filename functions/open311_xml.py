"""Open311's XML encoding of the answers the JSON encoding also gives: one serializer (open311.py builds the
data), two encodings. Lists become repeated elements named for one of their items (GeoReport v2's
`<services><service>…`, `<service_requests><request>…`, `<attributes><attribute>…`)."""

from __future__ import annotations

import re
from xml.etree import ElementTree

# The element of one item of each list, by the list's element name.
ITEMS = {
    "services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
    "errors": "error", "endpoints": "endpoint", "formats": "format", "service_request_updates": "request_update",
}
# Characters XML 1.0 cannot carry at all (a resident may paste anything): dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def encode(root: str, data) -> bytes:
    """`data` (a list or a dict, as the JSON answer has it) as an XML document whose root is `root`."""
    element = ElementTree.Element(root)
    _fill(element, data)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(element, encoding="utf-8",
                                                                               xml_declaration=False)


def _fill(element, value) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(ElementTree.SubElement(element, key), inner)
    elif isinstance(value, (list, tuple)):
        name = ITEMS.get(element.tag, "item")
        for inner in value:
            _fill(ElementTree.SubElement(element, name), inner)
    elif value is None:
        pass  # an empty element
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = _NOT_XML.sub("", str(value))
