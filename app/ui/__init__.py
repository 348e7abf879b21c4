"""Pieces the Streamlit pages share: cached data access, the chart theme, error display."""
