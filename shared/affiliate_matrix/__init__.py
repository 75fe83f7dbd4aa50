"""Affiliate Matrix: the package every function imports."""
