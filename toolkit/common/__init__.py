"""Stage 0: helpers every stage may use (atomic writes, file names, OS errors in 中文,
agency names, A1 references, the output layout).  Depends on nothing in the toolkit."""
