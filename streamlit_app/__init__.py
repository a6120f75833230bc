"""The merchants' Streamlit app: app.py logs in and builds navigation; views/ holds one module per page."""
