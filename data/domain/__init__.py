"""The bureau's rules in plain Python: periods, targets and pace, units, figures, the report."""
