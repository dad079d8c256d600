"""components: each module draws one kind of thing from DataFrames (never a database handle)."""
