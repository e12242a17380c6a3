"""The Mastodon platform plugin: mentions of the brand account in, agents' answers out, with Mastodon.py.

Modules, one concept each:

* ``plugin``        the pluggy hook implementations (registered as built-in ``mastodon``)
* ``settings``      the validated ``[plugins.mastodon]`` table
* ``connection``    the token from the environment -> a Mastodon.py client, called off the loop
* ``brand``         the account the desk reads mentions of and answers as
* ``api_errors``    what a Mastodon.py exception says (status, message, whether anything left)
* ``rate_budget``   Mastodon's rate-limit headers -> when the next request may go
* ``html_text``     a status's HTML content -> the text its author wrote
* ``mentions``      a mention notification's status -> a desk ``Mention``
* ``threads``       a status's conversation: the root of its reply chain
* ``stored``        what the desk already holds about statuses (asked before the API)
* ``catch_up``      ``GET /api/v1/notifications`` paged into the desk with its cursor
* ``user_stream``   the user stream, kept connected in a thread of its own
* ``status_length`` Mastodon's counting (the sandbox uses it too)
* ``reply_text``    the pre-send check: the customer's mention and the instance's limit
* ``visibility``    a reply keeps or narrows the customer's visibility
* ``replies``       posting a reply once, with an ``Idempotency-Key``
* ``reconcile``     finding our own reply in the thread after an ambiguous failure
* ``survey``        the CSAT survey as a reply in the thread
* ``online_check``  ``socialdesk check --online``: account, scopes, what is missing
* ``cost``          what catching up costs in requests
* ``runtime``       per-desk state: connection, budget, instance limit, catch-up, stream

This package's ``__init__`` imports nothing: the sandbox imports ``status_length``
without pulling in Mastodon.py.
"""
