"""Running the service: backup and restore, runtime housekeeping, settings."""
