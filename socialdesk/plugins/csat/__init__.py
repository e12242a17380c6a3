"""Satisfaction surveys (built-in plugin ``csat``, off by default): one question after an agent
closes an answered ticket, posted in the customer's conversation; the 1-5 answer is kept.

* ``plugin``    the pluggy hooks: survey scheduled on close, sent by the outbox, answers read at ingest
* ``settings``  ``[plugins.csat]``
* ``store``     the ``csat_surveys`` rows and their state changes, one transaction each
* ``answer``    reading a customer's answer: a score from 1 to 5, maybe a comment
"""
