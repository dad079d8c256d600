"""Edits to stored records under one optimistic-concurrency rule."""
