"""Extractors, one module each: tasks, units, deadlines, targets."""
