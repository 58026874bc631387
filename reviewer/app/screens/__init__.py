"""The app's two pages: the annotator's labeling page and the engineer's admin page."""
