"""Protection against slow or dead dependencies."""
