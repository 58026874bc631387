"""What an annotator does, blind and without Streamlit: the page only renders it."""
