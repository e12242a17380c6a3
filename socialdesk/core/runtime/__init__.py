"""``socialdesk run``: one replica on one event loop, and what it runs besides the services.

* ``replica``        start-up checks, services, outbox workers, leader duties, shutdown
* ``startup``        what stops ``run`` from starting (``check`` asks the same questions)
* ``leadership``     which replica leads (PostgreSQL advisory lock)
* ``scheduler``      APScheduler on the leader: core sweeps and plugin jobs
* ``status_server``  ``/healthz`` and ``/metrics`` on ``desk.status_port``
* ``metrics``        the desk's Prometheus registry and counters
"""
