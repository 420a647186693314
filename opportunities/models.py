"""Accounts, contacts, deals, pipeline and forecasts: models arrive with this app's issue."""
