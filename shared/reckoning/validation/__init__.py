"""The quality gate: ten layers of rules, a judge for what rules cannot decide, and the confidence score.

`validate(report, submission, meta, judge=...)` runs every layer on the raw model output. A *certain* rule
(schema, truncation, placeholders, markup, foreign contact details, meta-talk, wrong language,
near-duplicates, too short, names not in the answers) may block on its own, and then no judge is called.
Otherwise the judge rules on the judgement categories (`judgement.Category`) with the rules' suspicions as
leads; its findings, quotes verified against the draft, block release and feed the regeneration.
"""

from reckoning.models.judgement import Category, JudgeFinding, Suspicion, Verdict
from reckoning.ports import Judge
from reckoning.validation.engine import DEFAULT_THRESHOLD, LAYERS, validate
from reckoning.validation.heuristic_judge import HeuristicJudge
from reckoning.validation.result import GenerationMeta, LayerResult, ValidationResult

__all__ = [
    "DEFAULT_THRESHOLD",
    "LAYERS",
    "Category",
    "GenerationMeta",
    "HeuristicJudge",
    "Judge",
    "JudgeFinding",
    "LayerResult",
    "Suspicion",
    "ValidationResult",
    "Verdict",
    "validate",
]
