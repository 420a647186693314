"""Territories: rules, hierarchy, assignment, access: models arrive with this app's issue."""
