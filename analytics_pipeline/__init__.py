"""Product-analytics event pipeline: everything that runs outside Dagster.

Settings, clients, the event model, the HTTP services, the SDK and the operator CLI live here.
Nothing in this package imports dagster; the Dagster code location imports this package.
"""
