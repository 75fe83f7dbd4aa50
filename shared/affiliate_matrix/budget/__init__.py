"""Budgeting: campaigns and their daily performance, allocation strategies, response curves,
forecasts, the daily run with its pacing check, and reports.

`allocate` and `forecast` take the JSON contract of `amx budget allocate|forecast --json`
(models.py) and need only numpy/statsmodels; the store, the run and the reports use the ports.
"""
