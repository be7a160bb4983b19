"""Lambda entry point: 企业诉求 — POST /api/v1/enterprise-requests (handler `functions.aws.enterprise.handler`)."""

from functions.aws import handler_for

handler = handler_for("enterprise")
