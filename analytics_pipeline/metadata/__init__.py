"""The metadata store: projects, API key hashes and versioned event schemas."""
