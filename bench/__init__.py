"""Load benchmarks for fastblog: `make bench` and `make bench-lab` (bench/README.md)."""
