"""Writes of the opportunities app, one module per aggregate: accounts, contacts, deals (and stages), forecasts.

Callers import the module they need: `from opportunities.services import deals`.
"""
