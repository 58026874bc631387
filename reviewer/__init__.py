"""signoff's application: studies, blind labeling, agreement, judge calibration, the report."""
