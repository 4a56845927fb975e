"""The jobs of scripts/lib/bench.py, one module each: msgpack (Serf's wire format), targets (one
connection per process), polling (the timed measurements), idle (CPU, memory and wire bytes),
report (the table, the verdict and the JSON) and wgidle (scripts/bench-wg-idle.sh's window)."""
