"""The data layer: every SQL statement of Station lives in this package."""
