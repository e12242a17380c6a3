"""The push receiver: one HTTP server on every replica for platforms that push (webhooks).

Discourse and the signed webhook platform (and later others) POST to
``/push/<source>``; the server bounds the body before reading it, hands the raw bytes to
the source, which checks the signature in constant time and refuses stale requests, and
refuses a delivery id it has accepted before. ``GET /healthz`` says which sources are
configured.

Modules, one concept each:

* ``source``      what a push source gives the server: its path, its checks, its handler
* ``signatures``  HMAC signing and constant-time verification (Standard Webhooks, Discourse)
* ``body``        reading a request body without ever holding more than the limit
* ``deliveries``  the delivery ids accepted per source: a second one is a replay
* ``server``      the aiohttp server: routing, limits, refusals as JSON
* ``plugin``      the default plugin ``push``: ``[plugins.push]`` and the service on every replica
"""
