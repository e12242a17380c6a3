"""Default triage: the signals each mention is judged by, one plugin each, merged by the core
(:mod:`socialdesk.core.triage`). Every module here is a built-in plugin of its own, on by
default and switched off or replaced in ``plugins.toml`` under its own name.

* ``keyword_rules``  the admin's keyword, phrase and regex rules (plugin ``keyword_triage``)
* ``sentiment``      VADER sentiment; anger on a complaint raises priority (plugin ``sentiment``)
* ``language``       the mention's language with py3langid (plugin ``language``)
* ``noise``          spam, scams, link farms, repeats, pleasantries, blocked authors (plugin ``noise``)
* ``author_weight``  VIPs, verified accounts and follower tiers (plugin ``author_weight``)
"""
