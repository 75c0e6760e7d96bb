"""Coverage-guided fuzz target (atheris) for splitting, normalization, shingling and the API.

    python fuzz/fuzz_text.py -max_total_time=60 [corpus_dir]

Checks, on arbitrary Unicode (surrogates, NUL, CR, combining marks...): no exception but
the documented ones; spans valid and ordered; kept paragraphs byte-identical and in order;
idempotence where the paragraph mode survives.
"""

import sys

import atheris

with atheris.instrument_imports():
    import dedup
    from dedup.text.split import split_paragraphs


def check(text: str) -> None:
    starts, ends = split_paragraphs(text)
    prev = -1
    for s, e in zip(starts.tolist(), ends.tolist()):
        assert prev <= s < e <= len(text), (s, e)
        assert text[s:e].strip(), "empty paragraph span"
        prev = e
    for gran in ("paragraph", "sentence"):
        r = dedup.explain(text, min_tokens=0, granularity=gran)
        removed = {x.index for x in r.removed if x.reason != "inner"}
        pos = 0
        for i, (s, e) in enumerate(r.paragraphs):
            if i in removed or any(x.index == i for x in r.removed):
                continue
            found = r.text.find(text[s:e], pos)
            assert found >= 0, f"kept unit {i} not in output"
            pos = found + (e - s)
        for x in r.removed:
            assert 0 <= x.start < x.end <= len(text) and x.similarity >= 0.8
    dedup.shingle_sets([text, text[::-1]])


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    check(fdp.ConsumeUnicodeNoSurrogates(4096) if fdp.ConsumeBool() else fdp.ConsumeUnicode(4096))


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
