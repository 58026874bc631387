"""The LLM judge engine (rubric, prompts, providers, runner). It knows nothing of DuckDB or
Streamlit: it takes pairs and a rubric and returns verdicts. Arrives with issue 5."""
