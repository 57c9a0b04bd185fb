"""The WORKLOAD.md benchmark: Therabee and the eager design it replaces, side by side.

`python -m bench` (make bench) runs the full half year; `--quick` (make bench-quick) a
small scale. See README.md, section "Benchmark".
"""
