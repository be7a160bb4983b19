"""Lambda entry point: Receipt status — GET /api/v1/receipts/{code} (handler `functions.aws.receipts.handler`)."""

from functions.aws import handler_for

handler = handler_for("receipts")
