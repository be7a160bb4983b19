"""What the tests and the benchmarks drive minqing with: `minqing serve` in a subprocess (live), local peers
for the notification channels (peers: SMTP, robots and webhooks, AWS) and Lambda events. Used by tests/ and
bench/ only, never by the service; it needs the test extras (`pip install 'minqing[test]'`)."""
