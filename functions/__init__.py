"""The HTTP functions (Flask only): the app factory, `services()`, one blueprint per area, the pages and
the Lambda entry points. May import minqing/, schemas/ and, to send messages, workers.brokers; nothing else of
workers/."""
