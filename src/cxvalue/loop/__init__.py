"""The closed loop (H1–H3, 回访-分析-整改): cases and their event log (:mod:`.cases`), the
root-cause taxonomy (:mod:`.taxonomy`)."""
