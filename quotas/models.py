"""Quotas: planning, allocation, attainment: models arrive with this app's issue."""
