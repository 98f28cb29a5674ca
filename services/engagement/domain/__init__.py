"""Engagement's pure deciders, planners and KPI folds: no I/O, no clock, no new ids."""
