"""Deployment files (SAM template, gunicorn, systemd, nginx, compose) and the demo street's directory."""
