"""Lambda entry point: Public tallies — GET /api/v1/tallies (handler `functions.aws.tallies.handler`)."""

from functions.aws import handler_for

handler = handler_for("tallies")
