"""The web console served by the query service at ``/console``."""
