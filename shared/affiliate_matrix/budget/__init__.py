"""Budgeting: campaigns and their daily performance, allocation strategies, response curves,
forecasts, the daily run with its pacing check, and reports.

`allocate` and `forecast` take the JSON contract of `amx budget allocate|forecast --json`
(models.py) and need only numpy/scipy; the store, the run and the reports use the ports.
"""

import os

# One BLAS thread unless told otherwise, set before numpy loads: the fits solve matrices of a few dozen rows, where
# OpenBLAS's threads only wait for each other, and a function's container has one CPU while OpenBLAS counts the
# node's (statsmodels' forecast fits, since replaced, ran ~20% faster on an idle 2-core machine, 2.5-3x under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# A campaign id, as the API routes match it and the models validate it (kept here, where importing
# it costs nothing: the budget function matches routes before it loads any model).
CAMPAIGN_ID = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
CAMPAIGN_ID_WORDS = "letters, digits, '.', '_' and '-', up to 100, the first a letter or a digit"  # the same, said
