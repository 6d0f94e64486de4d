"""The ``analytics`` operator command."""
