"""The PostgreSQL database backend: Django's, with a bound on how long the app waits for an answer."""
