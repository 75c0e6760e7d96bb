"""Optional compiled kernels (numba); the only package that knows numba. Bit-identical numpy paths stand beside them."""
