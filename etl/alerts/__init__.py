"""Alerts: rules read from ALERTS_FILE, evaluated after each load and by a periodic sweep, an alert lifecycle with
owners and escalation in the warehouse, and notifications through channels declared in the same file."""
