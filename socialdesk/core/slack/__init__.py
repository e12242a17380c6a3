"""The Slack side of the desk: triage cards, ``/desk``, buttons and modals (slack-bolt).

Modules, one concept each:

* ``settings``     ``[plugins.slack]``
* ``escaping``     untrusted text made safe for Slack
* ``card``         the triage card; ``thread`` the messages in its thread
* ``routing``      which channel a card goes to, who is paged
* ``pacing``       staying under Slack's rate limits
* ``delivery``     outbox performers that post and update in Slack
* ``channel_notice`` a notice about the desk itself in the desk channel, posted once
* ``permissions``  agents and admins, by user id and user group
* ``commands``     ``/desk`` subcommands; ``durations`` and ``macros`` help them
* ``actions``      card clicks; ``modals`` and ``submissions`` the forms
* ``app``          the Bolt app; ``runner`` Socket Mode or HTTP mode
* ``replays``      signed requests sent again are answered without acting
* ``authorization`` the bot's identity for Bolt, never a reason to drop a request
* ``runtime``      one desk's Slack state; ``plugin`` the pluggy plugin
* ``scopes``       the bot scopes the enabled features need, with the reason for each
* ``manifest``     the Slack app manifest (``socialdesk slack manifest``)
* ``startup_checks`` what stops the Slack plugin from starting (``check`` asks too)
* ``online_check`` ``socialdesk check --online``: workspace, scopes, channels, user groups
"""
