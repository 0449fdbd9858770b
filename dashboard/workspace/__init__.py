"""The leaders' workspace (/explore): periods, the measure catalog and its labels, scoped queries over the
rollups, the records behind a number, and exports."""
