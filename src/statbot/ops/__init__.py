"""Operations: single-instance lock, health/metrics server, signals, process manager."""
