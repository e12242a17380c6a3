"""Storms (built-in plugin ``storms``, on by default): near-identical mentions from many people
inside a window become one incident card with a "Reply to all", instead of a card each.

* ``plugin``  the pluggy hooks: membership decided in triage, linked in the ingest transaction
* ``index``   MinHash over word shingles in a sliding window (datasketch)
"""
