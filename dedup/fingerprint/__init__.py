"""Fingerprints: hashing, shingle sets, MinHash signatures and LSH band keys."""
