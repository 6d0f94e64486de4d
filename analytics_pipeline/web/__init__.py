"""What the HTTP services share: the error shape and API-key authentication."""
