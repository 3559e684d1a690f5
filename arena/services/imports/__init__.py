"""`arena import-votes`: battles from a public arena dump, validated in full, imported at once.

A dump is CSV, JSON or JSON Lines with the columns of public arena battle logs: ``model_a``,
``model_b`` and ``winner`` (``model_a``, ``model_b``, ``tie`` or ``tie (bothbad)``), and
optionally ``tstamp`` / ``timestamp`` / ``created_at`` (unix seconds or ISO 8601), ``prompt``
(a prompt key or text of the competition) and ``competition`` (a slug, per row).

Three steps, a module each: ``read.read_votes`` parses the file into a DataFrame,
``validate.validate_votes`` checks every row at once with pandas and resolves names to ids
(any problem is one ``ValidationError`` listing them all, and nothing is written), and
``apply.apply_votes`` writes them in one transaction; ``apply.import_votes`` runs the last
two. ``messages`` words the problems found.
"""
