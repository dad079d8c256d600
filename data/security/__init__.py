"""Who may do what and how persons' data is protected: sign-in, masking, ID cards, audit."""
