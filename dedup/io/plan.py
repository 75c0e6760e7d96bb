"""Which files a run reads and writes: one pure function from the command line's paths to a plan.

:func:`plan_run` checks everything that can be checked before a record is read (inputs exist,
formats mix, outputs never over an input nor two onto one file) and says where each input's
records, and the report lines about them, go: one file for all inputs, or one file per input
shard in a directory (``-o DIR/``), as pipeline tools write shards. It creates nothing and
changes nothing it is given; a problem with the command line raises
:class:`~dedup.errors.ConfigError`, a missing input :class:`~dedup.errors.InputDataError`.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from dedup.errors import ConfigError, InputDataError
from dedup.io.files import COMPRESSION_SUFFIXES, STDIO, is_directory_target, strip_compression, target_problem
from dedup.io.records import format_for_name
from dedup.io.remote import exists as url_exists, expand as expand_url, is_url
from dedup.io.sources import Source, open_source

#: ``--compression`` values: the suffix each one gives a shard's name ("none": no suffix).
COMPRESSIONS = {"gzip": ".gz", "zstd": ".zst", "bz2": ".bz2", "xz": ".xz", "none": ""}


@dataclass(frozen=True)
class RunPlan:
    """Where a run's records and report lines go.

    ``outputs[k]`` / ``formats[k]`` receive the records of ``sources[k]`` when ``per_shard``,
    else ``outputs[0]`` receives every record. ``reports`` is empty (no report), one path, or
    one per source (``per_shard_reports``). ``directories`` are output directories the run
    creates (and removes again, if they stay empty, when it fails). ``warnings`` are for the
    user: an input whose content contradicts its suffix.
    """

    sources: Tuple[Source, ...]
    outputs: Tuple[str, ...]
    formats: Tuple[str, ...]
    per_shard: bool
    reports: Tuple[str, ...] = ()
    per_shard_reports: bool = False
    rejects: Optional[str] = None
    clusters: Optional[str] = None
    directories: Tuple[str, ...] = ()
    warnings: Tuple[str, ...] = ()

    def output_of(self, shard: int) -> int:
        """The index in :attr:`outputs` of the records of input ``shard``."""
        return shard if self.per_shard else 0

    def report_of(self, shard: int) -> int:
        """The index in :attr:`reports` of the report lines about input ``shard``."""
        return shard if self.per_shard_reports else 0


def plan_run(inputs: Sequence[str], output: Optional[str] = None, *, fmt: str = "auto",
             report: Optional[str] = None, rejects: Optional[str] = None, clusters: Optional[str] = None,
             compression: Optional[str] = None) -> RunPlan:
    """The plan of a run reading ``inputs`` (paths, URLs or ``-``) and writing ``output``.

    ``output`` (default stdout) names one file, or a directory (an existing one, or a name
    ending in ``/``) that gets one output per input under the input's file name. ``report``
    likewise: one file, or a directory with one report per input (``<name>.jsonl``, the
    input's compression kept). ``compression`` (``gzip``, ``zstd``, ``bz2``, ``xz``, ``none``)
    replaces the compression of the files written into directories.
    """
    _check_paths(output=output, report=report, rejects=rejects, clusters=clusters)
    if compression is not None and compression not in COMPRESSIONS:
        raise ConfigError(f"--compression must be one of {', '.join(COMPRESSIONS)}, got {compression!r}")
    sources = tuple(open_source(path, fmt) for path in _expand(inputs))
    formats = {s.format for s in sources}
    if "text" in formats and len(formats) > 1:
        raise ConfigError("cannot mix text files with JSONL/Parquet inputs in one run")
    per_shard = is_directory_target(output)
    if compression is not None and not per_shard and not is_directory_target(report):
        raise ConfigError("--compression applies to files written into a directory (-o DIR/, --report DIR/); "
                          "a file's own suffix names its compression")
    target = output or STDIO
    outputs, out_formats = _record_outputs(sources, target, per_shard, compression)
    per_shard_reports = is_directory_target(report)
    reports = _report_outputs(sources, report, per_shard_reports, compression)
    directories = [d for d, made in ((target, per_shard), (report, per_shard_reports)) if made and d]
    plan = RunPlan(sources, outputs, out_formats, per_shard, reports, per_shard_reports, rejects, clusters,
                   tuple(d for d in directories if not is_url(d) and not os.path.isdir(d)),
                   tuple(w for s in sources for w in s.warnings))
    _check_targets(plan)
    return plan


def _check_paths(**paths: Optional[str]) -> None:
    """An option given an empty path is a mistake, not "no file"."""
    for name, path in paths.items():
        if path == "":
            raise ConfigError(f"--{name}: the path is empty")


def _record_outputs(sources: Sequence[Source], target: str, per_shard: bool,
                    compression: Optional[str]) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """Where the records go and in which format: one file per source in the directory
    ``target`` (``per_shard``), else ``target`` for all of them."""
    if per_shard:
        if any(s.path == STDIO for s in sources):
            raise ConfigError("records from stdin cannot go to an output directory; give -o FILE")
        outputs = _shard_names(sources, target, "output", compression, lambda s: _base(s.path))
        return outputs, tuple(s.format for s in sources)
    named = format_for_name(strip_compression(target)[0]) if target != STDIO else None
    out_format = named or sources[0].format
    if out_format == "text" and len(sources) > 1:
        raise ConfigError("several text inputs need -o DIRECTORY/ (one output file each) "
                          "or -o FILE.jsonl (one record each)")
    return (target,), (out_format,)


def _report_outputs(sources: Sequence[Source], report: Optional[str], per_shard: bool,
                    compression: Optional[str]) -> Tuple[str, ...]:
    """Where the report lines go: nowhere, one file, or one file per source in a directory."""
    if not report:
        return ()
    if not per_shard:
        return (report,)
    if any(s.path == STDIO for s in sources):
        raise ConfigError("a report of stdin cannot go to a report directory; give --report FILE")
    return _shard_names(sources, report, "report", compression, _report_name)


def _expand(inputs: Sequence[str]) -> List[str]:
    """The input paths, URL globs expanded; each checked to exist."""
    if "" in inputs:
        raise ConfigError("an input path is empty")
    paths = [url for path in inputs for url in (expand_url(path) if is_url(path) else [path])]
    if not paths:
        raise ConfigError("the input URLs match no object")
    if paths.count(STDIO) > 1:
        raise ConfigError("- (stdin) can be given only once")
    for path in paths:
        if is_url(path):
            if not url_exists(path):
                raise InputDataError(path, None, "no such file")
        elif path != STDIO:
            if os.path.isdir(path):
                raise ConfigError(f"{path}: is a directory; give the files in it")
            if not os.path.exists(path):
                raise InputDataError(path, None, "no such file")
    return paths


def _base(path: str) -> str:
    """A file's name, of a local path or a URL."""
    return posixpath.basename(path.rstrip("/")) if is_url(path) else os.path.basename(path)


def _report_name(source: Source) -> str:
    """``part-0.jsonl.gz`` -> ``part-0.jsonl.gz``, ``part-0.parquet`` -> ``part-0.jsonl``,
    ``a.txt`` -> ``a.jsonl``: a report is JSONL, compressed as its input was."""
    name, kind = strip_compression(_base(source.path))
    stem = os.path.splitext(name)[0] if os.path.splitext(name)[1] else name
    suffix = next((s for s, k in COMPRESSION_SUFFIXES.items() if k == kind), "") if kind else ""
    return f"{stem}.jsonl{suffix}"


def _shard_names(sources: Sequence[Source], directory: str, what: str, compression: Optional[str],
                 name_of) -> Tuple[str, ...]:
    """One file per source in ``directory``, named by ``name_of``; two sources may not share one."""
    targets: List[str] = []
    taken: Dict[str, Source] = {}
    for source in sources:
        name = name_of(source)
        if compression is not None and not (what == "output" and source.format == "parquet"):
            name = strip_compression(name)[0] + COMPRESSIONS[compression]  # Parquet compresses inside
        if name in taken:
            raise ConfigError(f"{taken[name].name} and {source.name} would both write the {what} "
                              f"{_join(directory, name)}: inputs into one directory need distinct file names")
        taken[name] = source
        targets.append(_join(directory, name))
    return tuple(targets)


def _join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name if is_url(directory) else os.path.join(directory, name)


def _check_targets(plan: RunPlan) -> None:
    """Never write over an input, and never two outputs to one place."""
    made = ["output"] if plan.per_shard else []
    targets = [("output", path) for path in plan.outputs]
    targets += [("--report", path) for path in plan.reports]
    made += ["--report"] if plan.per_shard_reports else []
    targets += [(name, path) for name, path in (("--rejects", plan.rejects), ("--clusters", plan.clusters)) if path]
    problem = target_problem(targets, [s.path for s in plan.sources], made_here=made)
    if problem:
        raise ConfigError(problem)
