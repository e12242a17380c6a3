"""The desk's report: one set of numbers for ``socialdesk report``, ``/desk stats`` and the digest.

* ``report``   the queries over a period and the frozen ``Report``
* ``period``   periods as people type them (``7d``, ``2026-11-01``)
* ``formats``  the report as text, CSV, JSON and Slack mrkdwn
"""
