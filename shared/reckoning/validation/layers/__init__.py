"""The ten validation layers: each a pure function `(report, submission, meta) -> LayerResult`."""
