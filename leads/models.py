"""Leads: capture, dedup, qualification, routing, conversion: models arrive with this app's issue."""
