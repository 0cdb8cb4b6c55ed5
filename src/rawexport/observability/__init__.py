"""What the service tells its operators: Prometheus metrics and one log line per event."""
