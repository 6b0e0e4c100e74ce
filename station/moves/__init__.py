"""Bin moves and warehouse transfers (SPEC §3.3): units in stock here, each named by its
serial, sent to a bin of this warehouse or to another warehouse (and bin); one transfer
document (TRF-000001) per posting, a `moved` or `transferred` event per unit with where
it was and where it went."""
