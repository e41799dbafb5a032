"""Stage 5: what a check writes: findings.json, annotated copies, 汇总.xlsx, coverage,
the regional roll-up."""
