"""The Bluesky platform plugin: brand mentions, replies and quotes in, agents' answers out.

Modules, one concept each:

* ``plugin``              the pluggy hook implementations (registered as built-in ``bluesky``)
* ``settings``            the validated ``[plugins.bluesky]`` table
* ``connection``          handle + app password from the environment -> one atproto ``AsyncClient`` session
* ``mentions``            a notification (mention, reply, quote) -> a desk ``Mention``
* ``notification_cursor`` where the poller is: committed floor and the page run in progress
* ``poller``              pages listNotifications into the desk, then ``updateSeen``
* ``rate_budget``         the PDS's ``RateLimit-*`` headers and the write-points budget
* ``replies``             posting a reply record with strong refs and facets; errors sorted
* ``reconcile``           finding our own reply in the thread after an ambiguous failure
* ``post_length``         Bluesky's count: 300 graphemes, 3000 UTF-8 bytes (the sandbox uses it too)
* ``errors``              atproto's exceptions -> what they mean for the desk
* ``runtime``             per-desk state: connection, budgets, poller
* ``online_check``        ``socialdesk check --online``
* ``cost``                what a poll interval costs in requests

This package's ``__init__`` imports nothing: the sandbox imports ``post_length`` without
pulling in atproto.
"""
