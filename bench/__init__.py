"""essaybot benchmarks: every cost next to its floor, measured through the public entry points.

`python -m bench` (what `make bench` runs) prints one table and writes bench/results/*.json.
"""
