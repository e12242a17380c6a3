"""The Reddit platform plugin, over asyncpraw: inbox and subreddits in, comments out.

A submission is the conversation; comments under it join its ticket. Four streams are
polled, each with its own cursor (the newest fullname covered, committed with the
mentions): username mentions and replies to our comments (the inbox), and new comments
and new posts in the configured subreddits that match the configured keywords.

Modules, one concept each:

* ``plugin``      the pluggy hook implementations (registered as built-in ``reddit``)
* ``settings``    the validated ``[plugins.reddit]`` table, the User-Agent
* ``connection``  credentials from the environment -> asyncpraw clients (reads, posting)
* ``rate_budget`` Reddit's ``X-Ratelimit-*`` headers -> when the next request may go
* ``things``      a comment or submission -> a desk ``Mention``; keyword matching
* ``streams``     the four listings, their cursors, and polling one into the desk
* ``replies``     posting a comment; finding our own comment after a lost answer
* ``runtime``     per-desk state: connection, budget
"""
