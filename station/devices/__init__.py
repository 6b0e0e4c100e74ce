"""Station's hardware layer (SPEC §5, §6): scanners, printers, labels and the print queue.

Qt-free: the GUI feeds key events to `wedge.WedgeDecoder` and shows the states these
objects report; everything here also runs headless and in tests without hardware.
"""
