"""Landscapes around trained parameters, fragmentation metrics and single-sample spike-change
analysis (docs/landscapes.md)."""
