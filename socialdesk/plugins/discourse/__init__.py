"""The Discourse platform plugin: the brand's forum, webhooks in, REST API out.

A topic is the conversation. Discourse's ``post_created``/``topic_created`` webhooks arrive
at ``/push/discourse`` (signature ``X-Discourse-Event-Signature`` checked in constant
time); the leader backfills from ``GET /posts.json`` after downtime, so a lost webhook
loses nothing; answers are posted with ``POST /posts.json``.

Modules, one concept each:

* ``plugin``     the pluggy hook implementations (registered as built-in ``discourse``)
* ``settings``   the validated ``[plugins.discourse]`` table
* ``api``        the REST client: ``Api-Key``/``Api-Username``, 429 and errors
* ``posts``      a Discourse post -> a desk ``Mention``; which posts concern the desk
* ``source``     the webhook endpoint on the push server: signature, freshness, ingest
* ``backfill``   latest posts since the last one stored, cursor committed with them
* ``replies``    posting an answer, and finding it again after a lost answer
* ``runtime``    per-desk state: the client, the topic cache
"""
