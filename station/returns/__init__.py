"""Customer returns (RMA) against the order the goods shipped on (SPEC §3.3)."""
