//! Prometheus metrics: every metric name, once, with its help text.
