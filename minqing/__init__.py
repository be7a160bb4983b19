"""The core: settings, receipts, links, privacy, the directory, attachments, the pure rules (domain/) and
the storage (store/); no Flask, no Dramatiq. Only its shell (cli, serve, report, posters) imports
functions/ or workers/."""
