"""A function's own HTTP stack in-process, as functions-framework serves it."""

from functions_framework import create_app

from tests.support.processes import ROOT


def function_client(name: str):
    return create_app("handle", str(ROOT / "functions" / name / "main.py")).test_client()
