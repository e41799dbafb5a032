"""Stage 4: the batch (read in a worker pool), the pandera schemas, validation, last
year's figures."""
