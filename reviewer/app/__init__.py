"""The Streamlit app: the only place that imports Streamlit; pages render, services decide."""
