"""The benchmarks, each run from the repository's root as ``python -m benchmarks.NAME``, grouped by
what they measure (``tests/project/test_benchmarks.py`` checks every module is listed here):

against other systems (speed and quality on the same paragraphs)
    compare, plot
dedup's own speed
    stages, scaling, workers
memory
    memory_bounds, index_modes
persistent indexes
    indexes, index_scale
Spark
    spark_vs_local, spark_scale
the passes beside the unit decisions (speed and memory)
    substrings, boilerplate, contamination
quality against the ground truth, and on noisy copies (noisy_rules: the rules' research prototypes)
    quality, noisy, noisy_rules

shared by them (not run on their own)
    _common, corpus, systems, _label_kernels
"""
