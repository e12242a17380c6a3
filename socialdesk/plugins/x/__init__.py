"""The X (Twitter) platform plugin: brand mentions in, agents' answers out, over API v2.

Modules, one concept each:

* ``plugin``          the pluggy hook implementations (registered as built-in ``x``)
* ``settings``        the validated ``[plugins.x]`` table
* ``http``            the configurable API base URL under tweepy's AsyncClient
* ``connection``      credentials from the environment -> tweepy clients, the brand account
* ``token_refresh``   the OAuth 2.0 user token, renewed before it expires (kept in the database)
* ``brand``           the account the desk reads mentions of and answers as
* ``api_response``    what an X answer carried: JSON body and rate-limit headers
* ``mentions``        an X post (+ its author) -> a desk ``Mention``
* ``snowflake``       what X's ids say about time
* ``timeline_cursor`` where a poller is: committed floor and the page run in progress
* ``timelines``       the mentions timeline and the recent search: endpoint, cursor key
* ``poller``          pages a timeline into the desk
* ``gap_fill``        mentions beyond X's 800-mention window, from recent search (or reported)
* ``rate_budget``     X's rate-limit headers -> when the next request may go
* ``replies``         posting a reply; X's errors -> transient / permanent / ambiguous
* ``reconcile``       finding our own reply on X after an ambiguous failure
* ``reply_text``      the pre-send check of a reply with X's weighted counting
* ``runtime``         per-desk state: connection, budgets, pollers
* ``cost``            what a poll interval costs in requests
* ``weighted_length`` + ``tlds``  twitter-text's counting (the sandbox uses it too)

This package's ``__init__`` imports nothing: the sandbox imports ``weighted_length``
without pulling in tweepy.
"""
