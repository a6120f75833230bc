"""One module per Streamlit page (app issue)."""
