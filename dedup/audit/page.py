"""The audit page: one self-contained HTML file, built from bounded data.

Everything on the page comes from a :class:`Page` whose size does not grow with the run
(aggregate counts, a fixed-bin histogram, a dozen examples, one document view), so a page
about a million removals is as small as one about ten. Every piece of text from the data
goes through :func:`html.escape`; the page has no scripts and a Content-Security-Policy
that forbids them and any network fetch, so it opens the same from disk, offline.
"""

from __future__ import annotations

import base64
import difflib
import html
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from dedup.config import DedupConfig
from dedup._optional import pip_hint, require
from dedup.errors import MissingDependencyError

#: Characters of one example paragraph shown (the rest is elided, and said so).
EXAMPLE_CHARS = 1500
#: Characters of the per-document view shown.
DOC_VIEW_CHARS = 100_000
#: Paragraphs of other documents shown under the per-document view (each clipped like an example).
MAX_MATCHED_SHOWN = 100
_WORD = re.compile(r"\w+")


@dataclass
class Numbers:
    """The run's totals (``None``: not known from what was given)."""

    documents: Optional[int]
    paragraphs: Optional[int]
    bytes_in: Optional[int]  #: UTF-8 bytes of all documents
    removed: int
    removed_bytes: Optional[int]  #: UTF-8 bytes of the removed paragraphs (separators not counted)
    emptied: Optional[int]  #: documents that lost every paragraph
    changed: int  #: documents that lost at least one paragraph
    reasons: Dict[str, int] = field(default_factory=dict)


@dataclass
class WhatIfRow:
    threshold: float
    removed: int
    removed_bytes: int
    emptied: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Example:
    """A paragraph beside the earlier paragraph it repeats (or nearly does)."""

    similarity: float
    doc_id: Any
    index: int
    text: str
    matched_doc_id: Any
    matched_index: int
    matched_text: Optional[str]  #: None when the input was not given
    reason: str = "near"


@dataclass
class ViewRemoval:
    index: int
    matched_doc_id: Any
    matched_index: int
    matched_text: Optional[str]
    similarity: float
    reason: str
    start: int = 0  #: the removed span (a whole unit, or part of one for "inner")
    end: int = 0


@dataclass
class DocView:
    doc_id: Any
    text: str
    spans: List[Tuple[int, int]]
    removals: List[ViewRemoval]


@dataclass
class Page:
    """All the page shows; bounded in size whatever the size of the run."""

    config: DedupConfig
    sources: List[Tuple[str, str]]
    numbers: Numbers
    removal_sims: np.ndarray  #: similarity of every removal of the run
    near_miss_sims: np.ndarray  #: best similarity of kept paragraphs below the threshold (analysed part)
    what_if: List[WhatIfRow]
    analysed_documents: int = 0
    analysed_paragraphs: int = 0
    analysed_scope: str = ""
    run_removed_analysed: Optional[int] = None  #: what the run removed in the analysed documents
    above: List[Example] = field(default_factory=list)
    below: List[Example] = field(default_factory=list)
    doc_view: Optional[DocView] = None
    top_documents: List[Tuple[Any, int]] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)  #: warnings, shown at the top
    what_if_notes: List[str] = field(default_factory=list)  #: caveats, shown under the table
    what_if_missing: str = "No documents were analysed."  #: why there is no what-if table
    floor: float = 0.5
    version: str = ""
    n_clusters: int = 0  #: clusters in the report (``dedup --clusters`` adds the field)
    clusters: List[Tuple[Any, int, int]] = field(default_factory=list)  #: largest: first member's doc, index; size


def e(value: Any) -> str:
    """Escaped text of any value from the data."""
    return html.escape(str(value), quote=True)


def encode_page(html_text: str) -> bytes:
    """The page as UTF-8. A lone surrogate (legal in a JSON string, so in an id or a text read
    from JSONL; not in UTF-8) is shown as its escape, ``\\udc00``, instead of failing the page."""
    return html_text.encode("utf-8", "backslashreplace")


def render(page: Page) -> str:
    """The HTML of the page."""
    cfg = page.config
    parts = [_HEAD.replace("{title}", "dedup audit"),
             '<header><h1>dedup audit</h1>',
             '<p class="sub">What was removed, and what other thresholds would remove.</p>',
             _sources(page), '</header>']
    if page.notes:
        parts.append('<section class="notes" id="notes"><h2>Notes</h2><ul>'
                     + "".join(f"<li>{e(n)}</li>" for n in page.notes) + "</ul></section>")
    parts.append(_numbers(page))
    parts.append(_histogram(page))
    parts.append(_what_if(page))
    parts.append(_examples(page))
    parts.append(_doc_view(page))
    if page.n_clusters:
        parts.append(_clusters(page))
    parts.append(f'<footer>Made by dedup {e(page.version)}. Similarity is the exact Jaccard similarity '
                 f'of word {cfg.ngram}-gram sets (after {e(cfg.normalization)}); MinHash/LSH only '
                 f'proposes candidates. No scripts, no network: this file is all there is.</footer>')
    parts.append("</main></body></html>\n")
    return "".join(parts)


# -- sections ----------------------------------------------------------------------------

def _sources(page: Page) -> str:
    cfg = page.config
    rows = list(page.sources) + [
        ("settings", f"threshold {cfg.threshold:g}, scope {cfg.scope}, word {cfg.ngram}-grams, "
                     f"min_tokens {cfg.min_tokens}, num_perm {cfg.num_perm}, LSH {cfg.layout}"),
    ]
    return '<table class="kv">' + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows) + "</table>"


def _numbers(page: Page) -> str:
    n = page.numbers

    def card(label: str, value: Optional[int], extra: str = "", ident: str = "") -> str:
        shown = "n/a" if value is None else f"{value:,}"
        return (f'<div class="card"><div class="v" id="{ident}">{shown}</div>'
                f'<div class="l">{e(label)}</div><div class="x">{e(extra)}</div></div>')

    pct = _pct(n.removed, n.paragraphs)
    u = _unit(page)
    byte_pct = _pct(n.removed_bytes, n.bytes_in)
    names = {"exact": "exact", "near": "near", "run": "short (in a run)", "inner": "span inside one",
             "contained": "shortened copy", "noisy": "noisy copy", "noisy-contained": "shortened noisy copy"}
    reasons = " \u00b7 ".join(f"{names.get(k, k)} {v:,}" for k, v in sorted(n.reasons.items()))
    cards = [
        card("documents", n.documents, f"{n.changed:,} changed", "n-documents"),
        card(u, n.paragraphs, "", "n-paragraphs"),
        card(f"removed {u}", n.removed, f"{pct} of {u}: {reasons}", "n-removed"),
        card("removed bytes", n.removed_bytes, f"{byte_pct} of the input's UTF-8 bytes", "n-removed-bytes"),
        card("emptied documents", n.emptied, "every paragraph removed", "n-emptied"),
    ]
    return ('<section id="numbers"><h2>The run</h2><div class="cards">' + "".join(cards) + "</div>"
            f'<p class="small">Removed bytes count the removed {u} themselves (UTF-8), not the '
            'blank lines around them.</p></section>')


def histogram_note() -> Optional[str]:
    """What to do when the histogram cannot be drawn (matplotlib is missing), else None."""
    try:
        require("matplotlib", "audit", "the audit page's histogram")
    except MissingDependencyError:
        return (f"The histogram needs matplotlib, which is not installed: {pip_hint('audit')}. "
                "The rest of the page is complete.")
    return None


def _histogram(page: Page) -> str:
    note = histogram_note()
    if note:
        return f'<section id="histogram"><h2>Similarity of removals and near misses</h2><p>{e(note)}</p></section>'
    body = histogram_image(page.removal_sims, page.near_miss_sims, page.config.threshold, page.floor)
    exact = int(np.count_nonzero(page.removal_sims >= 1.0))
    near = len(page.near_miss_sims)
    scope = page.analysed_scope or "the analysed documents"
    return ('<section id="histogram"><h2>Similarity of removals and near misses</h2>'
            f'<img class="plot" alt="histogram of similarities" src="{body}">'
            f'<p class="small">Red: every removal of the run ({len(page.removal_sims):,}; {exact:,} of them '
            f'with similarity 1: identical 5-gram sets). Blue: near misses, {_unit(page)} kept whose best earlier match '
            f'scores between {page.floor:g} and the threshold ({near:,}, in {e(scope)}). '
            f'{"The y axis is logarithmic." if _log_scale(page) else ""}</p></section>')


def _what_if(page: Page) -> str:
    if not page.what_if:
        return ('<section id="what-if"><h2>What if the threshold were different?</h2>'
                f'<p>{e(page.what_if_missing)}</p></section>')
    t_run = page.config.threshold
    u = _unit(page)
    run_row = next((r for r in page.what_if if r.threshold == t_run), None)
    top = max(max(r.removed for r in page.what_if), 1)
    rows = []
    for r in page.what_if:
        is_run = r.threshold == t_run
        diff = 0 if run_row is None else r.removed - run_row.removed
        delta = "" if run_row is None or is_run else (f"{diff:+,}" if diff else "same")
        width = 100.0 * r.removed / top
        rows.append(
            f'<tr class="{"run" if is_run else ""}" data-threshold="{r.threshold:g}">'
            f'<td>{r.threshold:.2f}{" (this run)" if is_run else ""}</td>'
            f'<td class="num">{r.removed:,}</td>'
            f'<td class="bar"><span style="width:{width:.1f}%"></span></td>'
            f'<td class="num">{_pct(r.removed, page.analysed_paragraphs)}</td>'
            f'<td class="num">{r.removed_bytes:,}</td>'
            f'<td class="num">{r.emptied:,}</td><td class="num">{delta}</td></tr>')
    check = ""
    if page.run_removed_analysed is not None and run_row is not None:
        same = page.run_removed_analysed == run_row.removed
        check = (f' At {t_run:g} the run itself removed {page.run_removed_analysed:,} {u} of these '
                 f'documents{" (the same)" if same else "; see the notes"}.')
    return ('<section id="what-if"><h2>What if the threshold were different?</h2>'
            f'<p class="small">Computed once from verified similarities, not by re-running: each paragraph\'s '
            f'highest exact similarity to an earlier one, then the short-paragraph rule and repeated spans '
            f'inside kept paragraphs, for '
            f'{e(page.analysed_scope)} ({page.analysed_paragraphs:,} {u}).{e(check)}</p>'
            f'<table class="whatif" id="what-if-table"><thead><tr><th>threshold</th><th>removed {u}</th>'
            f'<th></th><th>% of {u}</th><th>removed bytes</th><th>emptied documents</th>'
            '<th>vs this run</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
            + "".join(f'<p class="small">{e(n)}</p>' for n in page.what_if_notes) + "</section>")


def _examples(page: Page) -> str:
    t = page.config.threshold
    scope = e(page.analysed_scope or "the report")
    out = ['<section id="examples"><h2>Closest to the threshold</h2>'
           f'<p class="small">From {scope}. Left: the paragraph; right: the earlier paragraph it repeats. '
           'Words that differ are highlighted (compared as the similarity sees them: word tokens, '
           'case-folded).</p>']
    out.append(f'<h3>Removed, just above {t:g}</h3>')
    out.append(_example_list(page.above, "above") if page.above else
               '<p class="small">No near (non-exact) removals.</p>')
    out.append(f'<h3>Kept, just below {t:g}</h3>')
    out.append(_example_list(page.below, "below") if page.below else
               f'<p class="small">No kept paragraph has an earlier match scoring {page.floor:g} or more.</p>')
    out.append("</section>")
    return "".join(out)


def _example_list(examples: Sequence[Example], kind: str) -> str:
    out = []
    for k, x in enumerate(examples):
        left_label = "removed" if kind == "above" else "kept"
        if x.matched_text is None:
            left, right = _clip(x.text), None
        else:
            left, right = diff_marked(x.text, x.matched_text)
        right_html = right if right is not None else '<span class="small">(text not available: give the input)</span>'
        out.append(
            f'<div class="example {kind}" id="{kind}-{k}">'
            f'<div class="meta"><b>{x.similarity:.3f}</b> &middot; {left_label}: {e(x.doc_id)} &para;{e(x.index)}'
            f' &larr; repeats {e(x.matched_doc_id)} &para;{e(x.matched_index)}</div>'
            f'<div class="pair"><div class="para">{left}</div><div class="para earlier">{right_html}</div></div></div>')
    return "".join(out)


def _clusters(page: Page) -> str:
    rows = "".join(f'<tr><td>{e(doc)}</td><td class="num">{e(index)}</td><td class="num">{size:,}</td></tr>'
                   for doc, index, size in page.clusters)
    return ('<section id="clusters"><h2>Clusters</h2>'
            f'<p>{page.n_clusters:,} clusters of near-duplicates (chains of verified removals, named by their '
            'first member, which is kept). The largest:</p>'
            '<table class="whatif"><thead><tr><th>first member</th><th>unit</th><th>members</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></section>')


def _doc_view(page: Page) -> str:
    v = page.doc_view
    others = ""
    if page.top_documents:
        others = ('<p class="small">Documents with the most removals: '
                  + ", ".join(f"{e(d)} ({c:,})" for d, c in page.top_documents)
                  + ". Choose one with <code>--doc ID</code>.</p>")
    if v is None:
        return ('<section id="document"><h2>One document</h2>'
                '<p>Needs the input corpus and a document with removals.</p>' + others + "</section>")
    text = v.text
    limit = DOC_VIEW_CHARS
    whole = {r.index: r for r in v.removals if r.reason != "inner"}
    cuts: Dict[int, List[ViewRemoval]] = {}
    for r in v.removals:
        if r.reason == "inner" and r.index not in whole:
            cuts.setdefault(r.index, []).append(r)
    pieces = [e(text[:min(v.spans[0][0], limit)]) if v.spans else e(text[:limit])]
    matched: Dict[Tuple[str, int], int] = {}
    matched_rows: List[str] = []
    shown_all = True

    def struck(i: int, r: ViewRemoval, body: str, ident: str) -> str:
        if r.matched_doc_id == v.doc_id and 0 <= r.matched_index < len(v.spans):
            href = f"#p{r.matched_index}"
        else:
            key = (repr(r.matched_doc_id), r.matched_index)
            if key not in matched and len(matched) < MAX_MATCHED_SHOWN:
                matched[key] = len(matched)
                shown = e(_clip_text(r.matched_text)) if r.matched_text is not None else \
                    '<span class="small">(text not available)</span>'
                matched_rows.append(f'<div class="match" id="m{matched[key]}"><div class="meta">'
                                    f'{e(r.matched_doc_id)} &para;{e(r.matched_index)}</div>'
                                    f'<div class="para">{shown}</div></div>')
            href = f"#m{matched[key]}" if key in matched else ""
        link = f' href="{href}"' if href else ""
        return (f'<del class="removed"{ident} title="{e(r.reason)} {r.similarity:.3f}">{body}</del>'
                f' <a class="ref"{link}>&rarr; {e(r.matched_doc_id)} &para;{e(r.matched_index)} '
                f'({e(r.reason)} {r.similarity:.3f})</a>')

    for i, (s, t) in enumerate(v.spans):
        if s >= limit:
            shown_all = False
            break
        if i in whole:
            pieces.append(struck(i, whole[i], e(text[s:t]), f' id="p{i}"'))
        else:
            parts, pos = [], s
            for r in sorted(cuts.get(i, []), key=lambda x: x.start):
                a, b = max(r.start, pos), min(r.end, t)
                if a >= b:
                    continue
                parts.append(e(text[pos:a]))
                parts.append(struck(i, r, e(text[a:b]), ""))
                pos = b
            parts.append(e(text[pos:t]))
            pieces.append(f'<span class="kept" id="p{i}">{"".join(parts)}</span>')
        nxt = v.spans[i + 1][0] if i + 1 < len(v.spans) else len(text)
        pieces.append(e(text[t:min(nxt, limit)]))
    note = "" if shown_all else f'<p class="small">Only the first {limit:,} characters are shown.</p>'
    if len(matched) >= MAX_MATCHED_SHOWN:
        note += (f'<p class="small">Paragraphs of other documents are shown for the first {MAX_MATCHED_SHOWN} '
                 'distinct ones; later links name their paragraph only.</p>')
    return ('<section id="document">'
            f'<h2>One document: {e(v.doc_id)}</h2>'
            f'<p class="small">{len(v.spans):,} {_unit(page)}, {len(v.removals):,} removed (struck through, each '
            'linked to the paragraph it repeats).</p>' + others
            + f'<div class="doc" id="doc-text">{"".join(pieces)}</div>{note}'
            + (('<h3>Paragraphs of other documents they repeat</h3>' + "".join(matched_rows)) if matched_rows else "")
            + "</section>")


# -- pieces --------------------------------------------------------------------------------

def diff_marked(text: str, earlier: str) -> Tuple[str, str]:
    """Both paragraphs as escaped HTML, the words that differ between them in ``<mark>``.

    Words are compared as the similarity sees them (``\\w+`` tokens, NFKC case-folded), with
    :mod:`difflib` on the token sequences; punctuation and spacing are shown as written.
    """
    a, b = _clip_text(text), _clip_text(earlier)
    ta, tb = list(_WORD.finditer(a)), list(_WORD.finditer(b))
    ka = [_fold(m.group()) for m in ta]
    kb = [_fold(m.group()) for m in tb]
    mark_a = np.zeros(len(ta), dtype=bool)
    mark_b = np.zeros(len(tb), dtype=bool)
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if op != "equal":
            mark_a[a0:a1] = True
            mark_b[b0:b1] = True
    return _marked(a, ta, mark_a, len(text) - len(a), "d"), _marked(b, tb, mark_b, len(earlier) - len(b), "i")


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


def _marked(text: str, tokens: List[re.Match], marks: np.ndarray, elided: int, cls: str) -> str:
    out, pos = [], 0
    for m, on in zip(tokens, marks.tolist()):
        if not on:
            continue
        out.append(e(text[pos:m.start()]))
        out.append(f'<mark class="{cls}">{e(m.group())}</mark>')
        pos = m.end()
    out.append(e(text[pos:]))
    if elided > 0:
        out.append(f'<span class="small"> &hellip; ({elided:,} more characters)</span>')
    return "".join(out)


def _clip_text(text: Optional[str], limit: int = EXAMPLE_CHARS) -> str:
    """The first ``limit`` characters, cut at a space when there is one near the end."""
    if text is None or len(text) <= limit:
        return text or ""
    cut = text.rfind(" ", limit - 200, limit)
    return text[:cut if cut > 0 else limit]


def _clip(text: str) -> str:
    short = _clip_text(text)
    more = len(text) - len(short)
    return e(short) + (f'<span class="small"> &hellip; ({more:,} more characters)</span>' if more else "")


def _unit(page: Page) -> str:
    """What the run deduplicates: paragraphs, or sentences (``granularity="sentence"``)."""
    return {"sentence": "sentences", "line": "lines", "document": "documents"}.get(page.config.granularity,
                                                                                 "paragraphs")


def _pct(part: Optional[int], whole: Optional[int]) -> str:
    if part is None or not whole:
        return "n/a"
    return f"{100.0 * part / whole:.1f}%"


def _log_scale(page: Page) -> bool:
    return _bins(page.removal_sims, page.near_miss_sims, page.config.threshold, page.floor)[3]


def _bins(removal_sims: np.ndarray, near_miss_sims: np.ndarray, threshold: float, floor: float):
    """(edges, removed counts, near-miss counts, log scale?) of the histogram: 0.01 wide bins."""
    lo = min(floor, np.floor(threshold * 20) / 20)
    edges = np.linspace(lo, 1.0, int(round((1.0 - lo) / 0.01)) + 1)
    removed, _ = np.histogram(np.clip(removal_sims, lo, 1.0), bins=edges)
    near, _ = np.histogram(near_miss_sims[near_miss_sims >= lo], bins=edges)
    return edges, removed, near, max(removed.max(initial=0), near.max(initial=0)) > 50


def histogram_image(removal_sims: np.ndarray, near_miss_sims: np.ndarray, threshold: float,
                    floor: float) -> str:
    """The histogram as a ``data:image/svg+xml;base64,...`` URI (matplotlib, no pyplot state)."""
    matplotlib = require("matplotlib", "audit", "the audit page's histogram")
    from matplotlib.figure import Figure
    edges, removed, near, log = _bins(removal_sims, near_miss_sims, threshold, floor)
    lo = edges[0]
    with matplotlib.rc_context({"svg.hashsalt": "dedup-audit", "svg.fonttype": "none",
                                "font.family": "DejaVu Sans", "font.size": 9}):
        fig = Figure(figsize=(9.0, 3.0))
        ax = fig.add_subplot()
        width = edges[1] - edges[0]
        ax.bar(edges[:-1], near, width=width, align="edge", color="#2e86c1", label="near misses (kept)")
        ax.bar(edges[:-1], removed, width=width, align="edge", color="#c0392b", label="removed")
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1.2)
        ax.text(threshold, 1.02, f" threshold {threshold:g}", transform=ax.get_xaxis_transform(),
                ha="center", va="bottom")
        if log:  # exact repeats would dwarf the rest
            ax.set_yscale("log")
            ax.set_ylim(bottom=0.7)
        ax.set_xlim(lo, 1.0 + width)
        ax.set_xlabel("Jaccard similarity to the earlier paragraph (word 5-gram sets)")
        ax.set_ylabel("paragraphs")
        ax.legend(loc="upper left", frameon=False)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1c2833;background:#fbfcfc;margin:0}
main{max-width:1320px;margin:0 auto;padding:18px 28px 40px}
h1{font-size:24px;margin:0 0 2px}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #d5d8dc;padding-bottom:3px}
h3{font-size:15px;margin:16px 0 6px}.sub{margin:0 0 8px;color:#566573}.small{font-size:12px;color:#566573}
table.kv{border-collapse:collapse;font-size:12px}table.kv th{text-align:left;color:#566573;font-weight:normal;padding:1px 12px 1px 0;vertical-align:top}
table.kv td{padding:1px 0;word-break:break-all}
.notes{background:#fef5e7;border:1px solid #f5cba7;padding:4px 14px;margin-top:14px}.notes h2{border:0;margin:6px 0}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:#fff;border:1px solid #d5d8dc;border-radius:6px;padding:10px 14px;min-width:150px;flex:1}
.card .v{font-size:24px;font-weight:600}.card .l{color:#34495e}.card .x{font-size:12px;color:#566573}
img.plot{width:100%;max-width:1000px;display:block;background:#fff;border:1px solid #eaeded}
table.whatif{border-collapse:collapse;background:#fff}table.whatif th,table.whatif td{padding:3px 10px;border-bottom:1px solid #eaeded}
table.whatif th{font-weight:600;text-align:right;font-size:12px}table.whatif td.num{text-align:right;font-variant-numeric:tabular-nums}
table.whatif tr.run{background:#fdedec;font-weight:600}td.bar{width:200px}td.bar span{display:block;height:10px;background:#c0392b;opacity:.7}
.example{border:1px solid #d5d8dc;border-radius:6px;margin:8px 0;background:#fff}.example .meta{padding:4px 10px;background:#f4f6f6;font-size:12px;border-bottom:1px solid #eaeded}
.pair{display:grid;grid-template-columns:1fr 1fr}.para{white-space:pre-wrap;word-break:break-word;padding:6px 10px;font-size:11.5px;font-family:ui-monospace,"DejaVu Sans Mono",monospace}
.pair .earlier{border-left:1px solid #eaeded;background:#fcfcfc}mark.d{background:#f5b7b1}mark.i{background:#abebc6}
.doc{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #d5d8dc;padding:10px 14px;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}
del.removed{color:#922b21;background:#fdedec;text-decoration-color:#922b21}a.ref{font-family:system-ui,sans-serif;font-size:11px;color:#1f618d}
.match{border:1px solid #d5d8dc;margin:6px 0;background:#fff}.match .meta{padding:3px 10px;background:#f4f6f6;font-size:12px}
:target{outline:2px solid #f39c12}
footer{margin-top:30px;font-size:12px;color:#566573}
</style></head><body><main>
"""
