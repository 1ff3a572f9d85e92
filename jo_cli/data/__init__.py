"""Typed readers for the data jo runs on: profile and entity CSVs, uploaded audiences (SPEC §5)."""
