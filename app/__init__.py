"""Control Tower: the core shared by the CLI, the collectors and the Streamlit pages."""

__version__ = "0.1.0"
