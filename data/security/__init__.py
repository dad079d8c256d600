"""Who may do what and how persons' data is protected: access (the gate of every named query), sign-in, masking, ID cards, audit."""
