"""Discord platform plugin: mentions of the brand in servers become tickets; answers go back as replies.

Modules, one concept each:

- ``plugin``: the pluggy hooks (registered as the built-in ``discord``)
- ``settings``: ``[plugins.discord]``
- ``runtime``: one desk's gateway client, feeds, catch-up and REST sessions
- ``client``: discord.py client setup (intents, base URLs, identify pacing)
- ``listener``: gateway events → feeds and catch-up
- ``watch``: watched guilds/channels/threads; what makes a message a mention
- ``followed``: conversations with an active ticket (their follow-ups need no mention)
- ``conversations``: which conversation a message belongs to (threads, reply chains)
- ``mentions``: ``discord.Message`` → ``Mention`` (attachments and embeds summarised)
- ``refs``: the ids the desk stores for messages and conversations
- ``feeds``: per-channel ordered ingest with a cursor
- ``backfill``: catch-up from channel history on every (re)connect
- ``replies``: sending and reconciling replies; Discord errors → desk errors
- ``limits``: the 2000-character limit
- ``card``: where the conversation is, on the card
- ``online_check``: what the bot can see, for ``socialdesk check --online``
"""
