"""Intelligence: scoring, next best action, analytics: models arrive with this app's issue."""
