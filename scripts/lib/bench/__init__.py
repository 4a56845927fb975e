"""The jobs of scripts/lib/bench.py, one module each: msgpack (Serf's wire format), targets (one
connection per process), polling (the timed measurements), idle (CPU, memory and wire bytes) and
report (the table and the JSON)."""
