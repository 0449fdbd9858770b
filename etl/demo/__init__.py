"""The demo: a fictional county and the data simulator."""
