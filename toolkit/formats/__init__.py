"""Stage 1: the national formats as data (model, figure kinds, rule catalogue, findings,
the template stamp).  Depends on ``common`` only."""
