"""Lambda entry point: 隐患上报 — POST /api/v1/hazard-reports (handler `functions.aws.hazard.handler`)."""

from functions.aws import handler_for

handler = handler_for("hazard")
