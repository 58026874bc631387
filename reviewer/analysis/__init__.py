"""From labels and verdicts to numbers: statistics, item outcomes, judge calibration."""
