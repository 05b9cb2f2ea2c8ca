"""The S&OP meeting pack: the deck written from the agreed plan, not stitched by hand.

:mod:`.build` gathers the pack's numbers (a :class:`~.content.Pack`) from the plan, the workbook's inputs,
the plan store and the forecast audit trail; :mod:`.store` freezes them with a published version so
``sop pack --version N`` rebuilds that meeting's deck; :mod:`.deck` renders them with python-pptx (native,
editable charts: :mod:`.charts`); :mod:`.pdf` converts the deck with LibreOffice headless. The numbers
themselves come from :mod:`sop_functions.meeting` and the workbook's own tables (docs/pack.md).
"""
