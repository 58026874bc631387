"""Parts the pages share or delegate: the blind pair view, the judge and calibration panels."""
