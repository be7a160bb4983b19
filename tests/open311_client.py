"""A small Open311 GeoReport v2 client written from the specification (wiki.open311.org/GeoReport_v2) and
mySociety's servicerequestupdates extension, as FixMyStreet's client speaks it: form-encoded posts, XML
answers read with xml.etree. It knows nothing of minqing."""

from __future__ import annotations

from xml.etree import ElementTree

import requests

# The spec's lists and the element of each of their items.
LISTS = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
         "errors": "error", "endpoints": "endpoint", "formats": "format",
         "service_request_updates": "request_update"}


class Open311Error(Exception):
    def __init__(self, status: int, errors: list[dict]):
        super().__init__(f"HTTP {status}: {errors}")
        self.status, self.errors = status, errors


def read(element):
    """An element as plain data: a list for the spec's lists, a dict for a record, text for a leaf."""
    if element.tag in LISTS:
        return [read(child) for child in element if child.tag == LISTS[element.tag]]
    if len(element):
        return {child.tag: read(child) for child in element}
    return element.text or ""


class Client:
    def __init__(self, endpoint: str, *, jurisdiction_id: str | None = None, api_key: str | None = None):
        self.endpoint = endpoint.rstrip("/")
        self.jurisdiction_id, self.api_key = jurisdiction_id, api_key

    def _call(self, method: str, path: str, **params):
        params = {k: v for k, v in params.items() if v is not None}
        if self.jurisdiction_id:
            params["jurisdiction_id"] = self.jurisdiction_id
        if method == "POST":
            params["api_key"] = self.api_key
            response = requests.post(f"{self.endpoint}/{path}", data=params, timeout=15)
        else:
            response = requests.get(f"{self.endpoint}/{path}", params=params, timeout=15)
        root = ElementTree.fromstring(response.content)
        if response.status_code >= 400:
            assert root.tag == "errors", response.text
            raise Open311Error(response.status_code, read(root))
        return root

    def discovery(self) -> dict:
        root = self._call("GET", "discovery.xml")
        assert root.tag == "discovery"
        return read(root)

    def services(self) -> list[dict]:
        root = self._call("GET", "services.xml")
        assert root.tag == "services"
        return read(root)

    def service_definition(self, code: str) -> dict:
        root = self._call("GET", f"services/{code}.xml")
        assert root.tag == "service_definition"
        return read(root)

    def post_request(self, **fields) -> dict:
        root = self._call("POST", "requests.xml", **fields)
        assert root.tag == "service_requests"
        [created] = read(root)
        return created

    def token(self, token: str) -> dict:
        [found] = read(self._call("GET", f"tokens/{token}.xml"))
        return found

    def requests(self, **filters) -> list[dict]:
        return read(self._call("GET", "requests.xml", **filters))

    def request(self, service_request_id: str) -> dict:
        [found] = read(self._call("GET", f"requests/{service_request_id}.xml"))
        return found

    def updates(self, start_date: str | None = None, end_date: str | None = None) -> list[dict]:
        root = self._call("GET", "servicerequestupdates.xml", start_date=start_date, end_date=end_date)
        assert root.tag == "service_request_updates"
        return read(root)

    def post_update(self, **fields) -> dict:
        [created] = read(self._call("POST", "servicerequestupdates.xml", **fields))
        return created
