"""Database: engine, schema (models), migrations, the data version that keys caches."""
