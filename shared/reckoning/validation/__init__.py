"""The ten report-validation layers and the confidence score (DESIGN §6).

`validate(report, submission, meta)` runs every layer on the raw model output and
returns a `ValidationResult`: released when the weighted confidence reaches the
threshold and no layer failed in a way that must never reach a person.
"""

from reckoning.validation.engine import LAYERS, validate
from reckoning.validation.result import GenerationMeta, LayerResult, ValidationResult

__all__ = ["LAYERS", "GenerationMeta", "LayerResult", "ValidationResult", "validate"]
