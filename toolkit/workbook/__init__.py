"""Stage 2: opening an untrusted file safely (sniffing, limits, the OOXML and BIFF
readers).  Knows nothing of the formats."""
