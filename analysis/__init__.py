"""Research compendium: how urban grassroots Party organizations lead
community resilience governance (城市基层党组织引领社区韧性治理).

Layers (arrows point down only):

- :mod:`analysis.sem` -- a study-independent SEM core (lavaan syntax in,
  fitted model out);
- :mod:`analysis.psychometrics` -- data-first statistics (reliability,
  validity, screening statistics, clustering, power);
- :mod:`analysis.study` -- this study: instrument, simulation, ingestion,
  screening, measurement, structural models, figures, report;
- faces: :mod:`analysis.cli` (the ``resilience`` command) and
  :mod:`analysis.pipeline` (the doit task definitions).
"""
__version__ = "0.1.0"
