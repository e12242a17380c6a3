"""Local, protocol-faithful emulators of Slack, X, Discord, Bluesky, Mastodon, Reddit, Discourse and a webhook shop on 127.0.0.1.

Used by the test suite (through the real client libraries) and by `socialdesk demo`.
Nothing here talks to the internet.
"""
