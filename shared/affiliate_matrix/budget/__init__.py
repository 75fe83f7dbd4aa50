"""Budgeting: campaigns and their daily performance, allocation strategies, response curves,
forecasts, the daily run with its pacing check, and reports.

`allocate` and `forecast` take the JSON contract of `amx budget allocate|forecast --json`
(models.py) and need only numpy/statsmodels; the store, the run and the reports use the ports.
"""

# A campaign id, as the API routes match it and the models validate it (kept here, where importing
# it costs nothing: the budget function matches routes before it loads any model).
CAMPAIGN_ID = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
