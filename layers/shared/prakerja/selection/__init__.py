"""The selection draw of a wave (``prakerja-draw-v1``)."""
