"""Monitoring: Prometheus metrics, drift reports between windows of traces, and alert rules that notify."""
