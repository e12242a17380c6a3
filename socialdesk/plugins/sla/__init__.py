"""SLA clocks (built-in plugin ``sla``, on by default): first-response and resolution targets per
priority in business time, a reminder in the card's thread, a breach flag and on-call mention.

* ``plugin``    the pluggy hooks: clocks started at ingest, settled on every change, the sweep job
* ``settings``  ``[plugins.sla]``: targets, business hours, holidays, reminder share
* ``clock``     timer rules as pure functions of a ticket's state (no database)
* ``store``     timers in the store; each reminder and breach announced exactly once
* ``text``      the card's SLA line and the notices posted in the card's thread
"""
