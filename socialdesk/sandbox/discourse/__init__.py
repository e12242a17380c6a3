"""A Discourse forum on loopback: the REST API the plugin uses, and signed outgoing webhooks.

Modules: ``forum`` (users, categories, topics, posts and their JSON shapes, as Discourse's
serializers write them), ``api`` (the REST routes), ``webhooks`` (signed deliveries, with
lost and repeated ones on demand), ``emulator`` (the server and the test/demo controls).
"""

from socialdesk.sandbox.discourse.emulator import DiscourseEmulator

__all__ = ["DiscourseEmulator"]
