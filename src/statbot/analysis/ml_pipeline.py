"""The old home of the pipeline's feature functions, kept so that model files saved before the
analysis rooms (issue 10) still load: a skops file names a function by its module, and these
two were saved as ``statbot.analysis.ml_pipeline.*``. New files name statbot.analysis.ml.pipeline.
Nothing in statbot imports this module."""

from statbot.analysis.ml.pipeline import boolean_features, datetime_features

__all__ = ["boolean_features", "datetime_features"]
