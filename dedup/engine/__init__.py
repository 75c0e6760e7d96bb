"""How records become decisions: the compiled engine (C), or the batch path (numba / numpy) where it is not built."""
