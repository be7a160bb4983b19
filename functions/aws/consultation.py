"""Lambda entry point: 咨询服务 — POST /api/v1/consultations (handler `functions.aws.consultation.handler`)."""

from functions.aws import handler_for

handler = handler_for("consultation")
