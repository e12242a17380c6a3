"""Incidents (storms): many tickets about one problem, answered together.

* ``links``    filing a ticket under a storm's incident, inside the ingest transaction
* ``service``  what an incident card shows, one reply to all of them, closing them together
"""
