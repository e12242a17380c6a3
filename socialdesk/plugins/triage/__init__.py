"""Default triage: the signals each mention is judged by, one plugin each, merged by the core
(:mod:`socialdesk.core.triage`). The plugin modules are built-in plugins of their own, on by
default and switched off or replaced in ``plugins.toml`` under their own names.

* ``keyword_rules``  the admin's keyword, phrase and regex rules (plugin ``keyword_triage``)
* ``sentiment``      VADER sentiment; anger on a complaint raises priority (plugin ``sentiment``)
* ``language``       the mention's language with py3langid (plugin ``language``)
* ``noise``          spam, scams, link farms, repeats, pleasantries, blocked authors (plugin ``noise``)
* ``author_weight``  VIPs, verified accounts and follower tiers (plugin ``author_weight``)
* ``learned``        the learned model's urgency, category, sentiment, needs-a-reply (plugin ``learned_triage``)

The learned model's parts (not plugins):

* ``text_features``      text to n-gram features (the same function trains and predicts)
* ``model_file``         the model as plain arrays in an ``.npz``; prediction with numpy
* ``training_data``      the permissive public sets and the documented label derivation
* ``training``           fitting with scikit-learn (the ``train`` extra), exported to arrays
* ``evaluation``         per-class precision/recall, macro-F1, recall at precision, calibration
* ``data_card``          the shipped model's data card
* ``desk_models``        a desk's own models in the database: live, retired, rollback
* ``desk_training``      ``train --from-desk``: corrections as labels, install only if better
* ``correction_command`` ``/desk triage N p1..p4|<category>``
* ``admin_cli``          ``socialdesk triage train | status | rollback``
"""
