"""data: the one gateway to the shared database — schema, migrations, engine, named queries, demo generator."""
