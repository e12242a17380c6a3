"""Reddit on loopback: OAuth (script and web apps), the listings and comment endpoint asyncpraw uses.

Modules: ``site`` (accounts, submissions, comments, inboxes and their JSON, as Reddit's
listings write them), ``api`` (the routes: ``/api/v1/access_token``, ``/api/v1/me``,
``/r/{sub}/comments``, ``/r/{sub}/new``, ``/message/mentions``, ``/message/comments``,
``/user/{name}/comments``, ``/api/comment``; ``X-Ratelimit-*`` on every OAuth answer),
``emulator`` (the server and the test/demo controls).
"""

from socialdesk.sandbox.reddit.emulator import RedditEmulator

__all__ = ["RedditEmulator"]
