"""Load benchmarks for fastblog: `make bench` (issue 6) and `make bench-lab` (issue 4)."""
