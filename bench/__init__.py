"""Benchmarks: run by `make bench`, never by CI. Each bench_*.py module has a main() that prints its figures."""
