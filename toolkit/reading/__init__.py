"""Stage 3: a return (or a roster) -> figures: identity, places by names and labels, the
agency block, cell classes."""
