"""AWS Lambda entry points: each HTTP function deploys on its own, behind API Gateway (REST v1 or HTTP
API v2 payloads), wrapped by apig-wsgi around an app that registers only that function's blueprint.

A handler module builds its app at import, in Lambda's init phase, and imports only what its path needs:
the intake functions reach no SQLAlchemy, boto3 or worker code unless the configured queue (SQS) or an
idempotent retry needs it.
"""

from __future__ import annotations


def handler_for(area: str):
    """A Lambda handler for one area's blueprint (`hazard`, `receipts` …) plus `/healthz`."""
    from apig_wsgi import make_lambda_handler

    from functions.app import create_app

    import gc

    app = create_app(areas=(area, "health"))
    gc.freeze()  # as functions/wsgi.py: the collector's full passes skip what the init phase made
    # Binary support: form posts may arrive base64-encoded; answers are JSON, so never encoded back.
    return make_lambda_handler(app, binary_support=True)
