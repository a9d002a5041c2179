"""The project's own question set over the bundled corpus: what users ask, and the pages that answer.

Six kinds: lay words, clinical terms, abbreviations, typos, codes (whole and partial), and section
questions (answered by one section of a page: Recovery, Risks, Preparation, Patient Experience...).
A question succeeds at k when one of its pages is among the first k hits. ``python -m
benchmarks.questions`` prints success@3 per kind; tests/test_search_questions.py holds the bar.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass

K = 3


@dataclass(frozen=True)
class Question:
    kind: str
    text: str
    pages: tuple[str, ...]


def _q(kind: str, rows: str) -> list[Question]:
    """Rows of "question | code code ..." for one kind."""
    out = []
    for line in rows.strip().splitlines():
        text, _, codes = line.partition("|")
        out.append(Question(kind, text.strip(), tuple(codes.split())))
    return out


COLONOSCOPIES = "45378 45380 45385 G0105 G0121"

QUESTIONS: tuple[Question, ...] = tuple(
    _q("lay", f"""
ear tubes for my child | 69436
gallbladder taken out through small cuts | 47562 0FT44ZZ
new hip joint | 27130
scope down the throat to look at the stomach | 43235 43239 0DB68ZX
camera test of the bowel | {COLONOSCOPIES}
water on the lungs drained with a needle | 32554
fluid drained from the belly | 49083
snip for male birth control | 55250
shock waves to break up kidney stones | 50590
heart pacemaker | 33208
heart bypass operation | 33533
weight loss surgery | 43644
shot in the eye for macular degeneration | 67028
baby scan in pregnancy | 76805
breast x-ray | 77067
cortisone shot in the knee | 20610 J3301
numb fingers from a pinched nerve in the wrist | 64721
removing dead tissue from a wound | 11042
""") + _q("clinical", """
anterior cervical discectomy and fusion | 22551
total hip arthroplasty | 27130
partial meniscectomy | 29881
dual chamber pacemaker implantation | 33208
endoscopic sphincterotomy | 43262
Roux-en-Y gastric bypass | 43644
transurethral resection of the prostate | 52601
dilation and curettage | 58120
cesarean delivery | 59510
total thyroidectomy | 60240
epidural steroid injection | 62323
lumbar microdiscectomy | 63030
coronary stent placement | 92928
transthoracic echocardiogram | 93306
endotracheal intubation | 31500
salpingo-oophorectomy | 58661
paracentesis | 49083
intravitreal injection | 67028
posterior capsulotomy | 66821
""") + _q("abbreviation", """
EBP | 62273
CABG | 33533
TURP | 52601
ERCP | 43262
EGD | 43235 43239 0DB68ZX
ECG | 93000
EKG | 93000
TTE | 93306
CPAP | E0601
brain MRI | 70553
CT abdomen and pelvis | 74177
ESI | 62323
D&C | 58120
T&A | 42820
PCI | 92928
LP | 62270 009U3ZX
""") + _q("typo", f"""
cholecystecomy | 47562 47600 0FT44ZZ
apendectomy | 44950 44970 0DTJ4ZZ
colonscopy | {COLONOSCOPIES}
tonsilectomy | 42820
mastectmy | 19303
vasectmy | 55250
thyrodectomy | 60240
lithotrypsy | 50590
blepharoplasy | 15823
septoplasy | 30520
thoracentisis | 32554
paracentisis | 49083
echocardiagram | 93306
mamogram | 77067
venipunture | 36415
chemotherpy infusion | 96413
hamertoe | 28285
""") + _q("code", """
62273 | 62273
6227 | 62270
0FT4 | 0FT44ZZ
J1 | J1885
J* | J1885
G01 | G0105
4537 | 45378
E0601 | E0601
0SRC0J9 | 0SRC0J9
6227 lumbar | 62270
4538 biopsy | 45380
J3301 | J3301
G0008 | G0008
009U3ZX | 009U3ZX
""") + _q("section", f"""
when can I drive after knee replacement | 27447 0SRC0J9
bleeding when the scabs come off | 42820 52601
soft collar after neck fusion | 22551
keep my mobile phone away from the pacemaker | 33208
fasting from midnight before heart bypass | 33533
chronic groin pain after hernia repair | 49505
cramps and spotting after D&C | 58120
blood in the sample from a traumatic tap | 62270 009U3ZX
disc herniates again after microdiscectomy | 63030
hazy vision after cataract surgery | 66984
taking the CPAP mask off in my sleep | E0601
sore arm and redness after flu shot | G0008
no deductible for a screening colonoscopy | G0121 G0105
bronchospasm in aspirin-sensitive people | J1885
how many steroid injections a year in one joint | 20610 J3301
deep pulling ache during bone marrow biopsy | 38221
stop iron tablets before colonoscopy | {COLONOSCOPIES}
loud click of the kidney biopsy needle | 50200
tingling lips low calcium after thyroid surgery | 60240
low blood sodium from irrigation fluid | 52601
tubes rejoining after vasectomy | 55250
swimming with ear tubes | 69436
seroma after mastectomy | 19303
claustrophobia in the scanner | 74177 70553
fasting before a brain MRI | 70553
brief tug when the electrodes come off | 93000
overdiagnosis of slow-growing cancers | 77067
warm flush in the face after a steroid shot | J3301
stiff shoulder exercises after breast removal | 19303
blood sugar goes up after a joint injection | 20610 J3301
"""))


def evaluate(search, k: int = K) -> tuple[dict[str, tuple[int, int]], list[tuple[Question, list[str]]]]:
    """Per kind (successes, questions) at k, and the failed questions with the codes returned.
    ``search(text)`` returns the hit codes, best first."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failed = []
    for q in QUESTIONS:
        codes = search(q.text)[:k]
        ok = any(c in q.pages for c in codes)
        totals[q.kind][0] += ok
        totals[q.kind][1] += 1
        if not ok:
            failed.append((q, codes))
    return {kind: (s, n) for kind, (s, n) in totals.items()}, failed


def measure(work_dir: str) -> dict[str, dict[str, float]]:
    """success@K per kind (and "all") on an index of the bundled corpus built in ``work_dir``."""
    from procsearch.corpus import corpus_dir
    from procsearch.index import build_index
    from procsearch.search.searcher import Searcher

    index_dir = f"{work_dir}/questions-index"
    build_index([str(corpus_dir())], index_dir, workers=1)
    with Searcher.open(index_dir) as searcher:
        per_kind, _ = evaluate(lambda text: [h.code for h in searcher.search(text, limit=K).hits])
    out = {kind: {"n": n, f"success@{K}": s / n} for kind, (s, n) in per_kind.items()}
    hits, count = sum(s for s, _ in per_kind.values()), sum(n for _, n in per_kind.values())
    out["all"] = {"n": count, f"success@{K}": hits / count}
    return out


def main() -> int:
    from procsearch.search.searcher import Searcher

    with Searcher.open() as searcher:
        per_kind, failed = evaluate(lambda text: [h.code for h in searcher.search(text, limit=K).hits])
    hits = sum(s for s, _ in per_kind.values())
    count = sum(n for _, n in per_kind.values())
    for kind, (s, n) in per_kind.items():
        print(f"{kind:13} {s}/{n}  success@{K} {s / n:.3f}")
    print(f"{'all':13} {hits}/{count}  success@{K} {hits / count:.3f}")
    for q, codes in failed:
        print(f"  missed [{q.kind}] {q.text!r}: wanted {' '.join(q.pages)}, got {' '.join(codes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
