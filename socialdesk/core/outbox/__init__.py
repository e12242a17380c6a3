"""The transactional outbox: side effects written with the change that causes them, performed later.

* ``jobs``    writing, taking, finishing and retrying jobs (one row each)
* ``runner``  the workers draining due jobs, most urgent first, through each kind's plugin
"""
