"""Similar past answers (built-in plugin ``suggestions``, on by default, offline).

When an agent opens the reply form, the three earlier conversations most like this one
that an agent answered and closed, on any platform and in the same language, are shown
with the answer that was sent and its CSAT; "Use this answer" fills the reply box with
the variables (``{author}``, ``{agent}``, ``{ticket}``...) applied to this ticket.

* ``settings``   ``[plugins.suggestions]``
* ``vectors``    a text's terms (the learned triage model's word tokens, unigrams and bigrams) and TF-IDF cosine
* ``index``      the in-memory index of one process, read incrementally from the database
* ``store``      the ``past_answer_vectors`` rows: written when a ticket closes, checked when suggested
* ``templating`` an old answer made reusable: the old customer's name becomes ``{author}``, personal data masked
* ``lookup``     ``similar_answers(app, ticket_id)``: the public entry point (the reply form, the drafts plugin)
* ``plugin``     the hooks: index on close, a catch-up sweep, ``socialdesk_past_answers``
"""
