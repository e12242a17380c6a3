"""The daily digest (built-in plugin ``digest``, off by default): the desk's report and a
chart, uploaded to a Slack channel once a day.

* ``settings``  ``[plugins.digest]``
* ``schedule``  when the digest is due, and queueing it exactly once per day
* ``chart``     the PNG (matplotlib, Agg backend: no screen needed)
* ``delivery``  the outbox performer that uploads it (and finds an earlier upload first)
* ``plugin``    the pluggy hooks
"""
