"""A Standard Webhooks system on loopback: it sends signed mentions and receives signed answers.

``WebhookEmulator`` is both sides of a shop (or any system) that integrates by webhook:
``send_mention`` POSTs a signed ``mention.created`` to the desk's push URL, and
``/callback/<source>`` receives the desk's ``reply.created`` answers, checks their
signature and timestamp, and applies each ``webhook-id`` once (a repeat gets the first
answer back), as the spec asks of consumers.
"""

from socialdesk.sandbox.webhook.emulator import WebhookEmulator, new_secret

__all__ = ["WebhookEmulator", "new_secret"]
