"""The ten validation layers: each a pure function `check(subject) -> LayerResult` over one shared `Subject`."""
