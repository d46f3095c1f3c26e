"""Pure data and model functions, no chat or engine imports.

Kept light on purpose: importing ``statbot.analysis`` pulls in neither pandas nor pyarrow.
Import what you need from the modules: ``statbot.analysis.io`` (load_bytes, load_path,
safe_csv_bytes), ``statbot.analysis.io.schema``, ``statbot.analysis.io.datasets``,
``statbot.analysis.io.limits`` (DataLimits) and ``statbot.analysis.errors``.
"""
