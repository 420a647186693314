"""Activities: emails, calls, meetings, demos, tasks: models arrive with this app's issue."""
